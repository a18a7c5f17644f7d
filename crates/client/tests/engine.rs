//! The engine against a real service on 127.0.0.1, through a TCP relay the test can
//! cut: it reconnects by itself, says hello again and re-subscribes to the parked
//! list, and a revoked token stops it with a clear reason.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::sync::{Arc, Mutex};
use std::time::Duration;

use callpark_client::intent::{Ping, Retrieve, WatchParked};
use callpark_client::{ClientError, Connection, Engine, ServiceAddress, login};
use callpark_service::config::ServiceConfig;
use callpark_service::startup::start;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Forwards connections to the service; `cut` drops every open one.
struct Relay {
    address: String,
    open: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(upstream: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let open = Arc::new(Mutex::new(Vec::new()));
        let tracked = open.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tracked.lock().unwrap().push(task);
            }
        });
        Relay { address, open }
    }

    fn cut(&self) {
        for task in self.open.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

async fn service() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let started = start(&ServiceConfig::for_tests(dir.path())).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(callpark_service::run(listener, None, started.state, std::future::pending()));
    (address, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_reconnects_and_resubscribes_after_the_connection_drops() {
    let (service, _data) = service().await;
    let relay = Relay::start(service).await;
    let relayed = ServiceAddress::parse(&relay.address).unwrap();
    let token = login(&relayed, "carol", "carol-demo").await.unwrap().token;
    let engine = Engine::start(&relayed, &token, "test");
    let view = engine
        .wait_for(Duration::from_secs(10), |v| v.connection == Connection::Online)
        .await
        .unwrap();
    assert_eq!(view.policy.as_deref(), Some("Tag:Front desk"));
    assert_eq!(view.policy_name(), Some("Front desk"));
    assert_eq!(view.user.unwrap().name, "Carol Lindqvist");
    engine.ask(WatchParked).await.unwrap();
    engine.wait_for(Duration::from_secs(10), |v| v.parked.is_some()).await.unwrap();

    relay.cut();
    let lost = engine
        .wait_for(Duration::from_secs(10), |v| {
            matches!(v.connection, Connection::Reconnecting { .. })
        })
        .await
        .unwrap();
    assert_eq!(lost.parked, None, "an offline view shows no stale list");
    let back = engine
        .wait_for(Duration::from_secs(10), |v| {
            v.connection == Connection::Online && v.parked.is_some()
        })
        .await
        .unwrap();
    assert!(back.parked.unwrap().is_empty(), "re-subscribed: the list came again");
    engine.ask(Ping).await.unwrap();

    // A refusal from the service is an error with its code, and the engine goes on.
    let refused = engine.ask(Retrieve { code: "42".into() }).await.unwrap_err();
    assert!(
        matches!(&refused, ClientError::Refused(e) if e.code == "code_not_found"),
        "{refused:?}"
    );
    engine.stop().await;
    engine.wait_for(Duration::from_secs(5), |v| v.connection == Connection::Stopped).await.unwrap();
    assert!(matches!(engine.ask(Ping).await, Err(ClientError::Closed)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_the_service_does_not_know_signs_the_engine_out() {
    let (service, _data) = service().await;
    let address = ServiceAddress::parse(&format!("http://{service}")).unwrap();
    let engine = Engine::start(&address, &"0".repeat(64), "test");
    let view = engine
        .wait_for(Duration::from_secs(10), |v| matches!(v.connection, Connection::SignedOut { .. }))
        .await
        .unwrap();
    assert!(
        matches!(view.connection, Connection::SignedOut { reason } if reason.contains("expired"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_ended_at_the_service_signs_the_engine_out_with_the_reason_given() {
    let (service, _data) = service().await;
    let address = ServiceAddress::parse(&format!("http://{service}")).unwrap();
    let token = login(&address, "bob", "bob-demo").await.unwrap().token;
    let engine = Engine::start(&address, &token, "test");
    engine.wait_for(Duration::from_secs(10), |v| v.connection == Connection::Online).await.unwrap();
    let admin = login(&address, "alice", "alice-demo").await.unwrap().token;
    callpark_client::AdminClient::new(&address, &admin).sign_out_user("bob").await.unwrap();
    let view = engine
        .wait_for(Duration::from_secs(10), |v| matches!(v.connection, Connection::SignedOut { .. }))
        .await
        .unwrap();
    assert!(
        matches!(&view.connection, Connection::SignedOut { reason } if reason.contains("An admin signed you out")),
        "{:?}",
        view.connection
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_ends_the_token_at_the_service() {
    let (service, _data) = service().await;
    let address = ServiceAddress::parse(&format!("http://{service}")).unwrap();
    let phone = callpark_client::Softphone::sign_in(&address, "bob", "bob-demo", "test", || {
        callpark_client::media::CallAudio {
            source: Box::new(callpark_client::audio::SilentSource),
            sink: Box::new(callpark_client::audio::DiscardSink),
        }
    })
    .await
    .unwrap();
    let token = phone.token().to_owned();
    phone.sign_out().await;
    let refused = callpark_client::AdminClient::new(&address, &token).voicemails().await;
    assert_eq!(refused.unwrap_err().code(), "unauthorized", "the token no longer works");
}
