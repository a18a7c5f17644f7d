//! Connection lost and back: the app says it is reconnecting, and is online again
//! when the service can be reached; a call in progress stays on screen through it
//! and goes on. The network is a proxy the test cuts.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use callpark_client::CallPhase;

use crate::parties::{Party, Service};
use crate::support::Desktop;

/// A TCP proxy to the service; dropping it closes every connection through it.
pub struct Link {
    _tasks: JoinSet<()>,
}

impl Link {
    /// A proxy on a free port to `service`: where it listens, where it leads, and
    /// the link itself.
    pub async fn to(service: &Service) -> (SocketAddr, SocketAddr, Link) {
        let upstream: SocketAddr =
            service.address.trim_start_matches("http://").parse().expect("the service address");
        let listen: SocketAddr =
            format!("127.0.0.1:{}", crate::support::free_port()).parse().expect("an address");
        (listen, upstream, Link::up(listen, upstream).await)
    }

    pub async fn up(listen: SocketAddr, service: SocketAddr) -> Link {
        let listener = TcpListener::bind(listen).await.expect("the proxy's port");
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut upstream) = TcpStream::connect(service).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
            }
        });
        Link { _tasks: tasks }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_shows_reconnecting_and_comes_back_online() {
    let service = Service::start().await;
    let (listen, upstream, link) = Link::to(&service).await;
    Desktop::launch("connection")
        .await
        .run(async |app| {
            app.sign_in(&format!("http://{listen}"), "bob").await?;
            drop(link);
            app.wait_for_text_containing("connection-status", "Connection lost — reconnecting")
                .await?;
            app.screenshot("reconnecting").await;
            let _back = Link::up(listen, upstream).await;
            app.wait_for_text("connection-status", "Online").await?;
            app.wait_for_text_containing("parked-policy", "Front desk").await?;
            Ok(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_stays_on_screen_while_reconnecting_and_its_audio_comes_back() {
    let service = Service::start().await;
    let (listen, upstream, link) = Link::to(&service).await;
    let dave = Party::sign_in(&service, "dave", 440.0).await;
    Desktop::launch("call_through_a_drop")
        .await
        .run(async |app| {
            app.sign_in(&format!("http://{listen}"), "bob").await?;
            let call = dave.phone.dial("bob").await.expect("dave dials bob");
            app.wait_for_text_containing("incoming-caller", "Dave").await?;
            app.click("accept-call").await?;
            app.wait_for_text("call-phase", "In call").await?;
            app.wait_for_text_where("stats-received", |text| {
                text.parse::<u64>().is_ok_and(|packets| packets >= 25)
            })
            .await?;

            drop(link);
            app.wait_for_text_containing("connection-status", "Connection lost — reconnecting")
                .await?;
            // The call is still there, with whom, saying it is reconnecting; Dave hears
            // that Bob is reconnecting, not that the call ended.
            app.wait_for_text("call-phase", "Reconnecting…").await?;
            assert!(app.by_test_id("call-peer").await?.text().await?.contains("Dave"));
            app.screenshot("call-while-reconnecting").await;
            dave.wait_for("dave to hear bob is reconnecting", |view| {
                view.calls.get(&call).is_some_and(|c| c.peer_reconnecting)
            })
            .await;

            let _back = Link::up(listen, upstream).await;
            app.wait_for_text("connection-status", "Online").await?;
            app.wait_for_text("call-phase", "In call").await?;
            dave.wait_for("dave to hear bob is back", |view| {
                view.calls
                    .get(&call)
                    .is_some_and(|c| c.phase == CallPhase::Connected && !c.peer_reconnecting)
            })
            .await;
            // Audio resumes: 50 more of Dave's packets arrive after the reconnect
            // (counted from the lowest figure seen, should the count start again).
            let before: u64 =
                app.by_test_id("stats-received").await?.text().await?.parse().unwrap_or(0);
            let lowest = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(before));
            app.wait_for_text_where("stats-received", move |text| {
                text.parse::<u64>().is_ok_and(|packets| {
                    let low = lowest.fetch_min(packets, std::sync::atomic::Ordering::Relaxed);
                    packets >= low.min(packets) + 50
                })
            })
            .await?;
            app.screenshot("call-back-online").await;
            app.click("hang-up").await?;
            app.by_test_id("idle").await?;
            Ok(())
        })
        .await;
}
