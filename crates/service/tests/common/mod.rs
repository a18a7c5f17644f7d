//! A small tenant for service tests, and the service on a free port of 127.0.0.1
//! with a real SQLite store in a temporary directory.
//!
//! Users: alice (admin) and carol with the Sales policy (park on), bob with nothing
//! granted, dave outside any policy. Passwords are "<login>-password".
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use callpark_park::{Switchboard, UserId};
use callpark_service::accounts::hash_password;
use callpark_service::config::ServiceConfig;
use callpark_service::startup::{Started, start};
use callpark_service::store::{Store, Write};
use callpark_service::tenant::{AdminOp, NewAccount, Tenant};
use callpark_wire::admin::{GrantRequest, NewPolicy, PolicyFields};

pub const ALICE: UserId = UserId(1);
pub const BOB: UserId = UserId(2);
pub const CAROL: UserId = UserId(3);
pub const DAVE: UserId = UserId(4);

pub fn password(login: &str) -> String {
    format!("{login}-password")
}

pub fn tenant() -> Tenant {
    let mut tenant = Tenant::new(Switchboard::default());
    for (login, name) in [("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol"), ("dave", "Dave")]
    {
        tenant
            .seed_user(NewAccount {
                login: login.to_owned(),
                display_name: name.to_owned(),
                password_hash: hash_password(&password(login)).unwrap(),
                admin: login == "alice",
                enterprise_voice: true,
                unanswered: None,
                unanswered_delay_seconds: None,
            })
            .unwrap();
    }
    let now = callpark_park::Timestamp::from_millis(0);
    let policy = NewPolicy {
        identity: "Sales".into(),
        fields: PolicyFields { allow_call_park: Some(true), ..Default::default() },
    };
    tenant.admin(now, ALICE, AdminOp::NewPolicy(policy)).unwrap();
    for login in ["alice", "carol"] {
        let grant = GrantRequest {
            policy: Some("Sales".into()),
            user: Some(login.into()),
            ..Default::default()
        };
        tenant.admin(now, ALICE, AdminOp::Grant(grant)).unwrap();
    }
    tenant
}

/// The service on a free port of 127.0.0.1, its data in a temporary directory.
pub struct TestServer {
    pub base: String,
    pub data: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    exchange: callpark_service::ExchangeHandle,
    store: Option<Store>,
}

impl TestServer {
    /// A new data directory holding the test tenant.
    pub async fn start() -> TestServer {
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(data.path()).await.unwrap();
        store.apply(&[Write::Tenant(Box::new(tenant().snapshot()))]).await.unwrap();
        store.close().await;
        Self::start_in(data).await
    }

    /// Starts on an existing data directory (a restart).
    pub async fn start_in(data: tempfile::TempDir) -> TestServer {
        let mut config = ServiceConfig::for_tests(data.path());
        config.demo = false;
        Self::start_with(data, config).await
    }

    pub async fn start_with(data: tempfile::TempDir, config: ServiceConfig) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
        let Started { state, store, exchange, .. } = start(&config).await.unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(callpark_service::run(listener, state, async {
            let _ = stopped.await;
        }));
        TestServer { base, data, stop: Some(stop), task: Some(task), exchange, store: Some(store) }
    }

    pub fn http(&self, path: &str) -> String {
        format!("http://{}{path}", self.base)
    }

    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// Stops serving and waits for the store's last writes; returns the data
    /// directory for a restart.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task).await.unwrap().unwrap().unwrap();
        }
        assert!(self.exchange.flush().await, "the last store writes were committed");
        if let Some(store) = self.store.take() {
            store.close().await;
        }
        let data = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.data, data)
    }
}
