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
use callpark_service::tenant::{NewAccount, Tenant};
use callpark_wire::admin::{GrantRequest, NewPolicy, PolicyFields};
use callpark_wire::{
    Event, PROTOCOL_VERSION, ReplyBody, ReplyResult, Request, RequestBody, ServerMessage,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

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
    let policy = NewPolicy {
        identity: "Sales".into(),
        fields: PolicyFields { allow_call_park: Some(true), ..Default::default() },
    };
    tenant.new_policy(&policy).unwrap();
    for login in ["alice", "carol"] {
        let grant = GrantRequest {
            policy: Some("Sales".into()),
            user: Some(login.into()),
            ..Default::default()
        };
        tenant.grant(&grant).unwrap();
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

/// A new data directory holding the test tenant.
pub async fn tenant_data_dir() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let store = Store::open(data.path()).await.unwrap();
    store.apply(&[Write::Tenant(Box::new(tenant().snapshot()))]).await.unwrap();
    store.close().await;
    data
}

/// Test settings for a service on `data` (the test tenant, not the demo one).
pub fn config_for(data: &tempfile::TempDir) -> ServiceConfig {
    let mut config = ServiceConfig::for_tests(data.path());
    config.demo = false;
    config
}

impl TestServer {
    /// A new data directory holding the test tenant.
    pub async fn start() -> TestServer {
        Self::start_in(tenant_data_dir().await).await
    }

    /// Starts on an existing data directory (a restart).
    pub async fn start_in(data: tempfile::TempDir) -> TestServer {
        let config = config_for(&data);
        Self::start_with(data, config).await
    }

    pub async fn start_with(data: tempfile::TempDir, config: ServiceConfig) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
        let Started { state, store, exchange, .. } = start(&config).await.unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(callpark_service::run(listener, None, state, async {
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

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A [`TestServer`] with helpers for signing in over HTTP and opening sockets.
pub struct Server(pub TestServer);

impl Server {
    pub async fn start() -> Server {
        Server(TestServer::start().await)
    }

    pub async fn login(&self, login: &str, password: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.0.http("/api/v1/login"))
            .json(&json!({"login": login, "password": password}))
            .send()
            .await
            .unwrap()
    }

    pub async fn token(&self, login: &str) -> String {
        let reply: Value = self.login(login, &password(login)).await.json().await.unwrap();
        reply["token"].as_str().unwrap().to_owned()
    }

    /// Signs in and opens the signaling socket, without saying hello yet.
    pub async fn open(&self, login: &str) -> Client {
        let token = self.token(login).await;
        self.open_with(&token).await
    }

    /// Opens the signaling socket with a token, without saying hello yet.
    pub async fn open_with(&self, token: &str) -> Client {
        Client::open(&self.0.base, token).await
    }

    /// Signs in, opens the socket and says hello; returns events that came with it.
    pub async fn connect_with_events(&self, login: &str) -> (Client, Vec<Event>) {
        let token = self.token(login).await;
        Client::greeted(&self.0.base, &token).await
    }

    /// Signs in, opens the socket and says hello as a new device; returns the welcome.
    pub async fn connect_welcomed(&self, login: &str) -> (Client, callpark_wire::Welcome) {
        let token = self.token(login).await;
        let (client, welcome, _) = Client::resuming(&self.0.base, &token, None).await;
        (client, welcome)
    }

    pub async fn connect(&self, login: &str) -> Client {
        self.connect_with_events(login).await.0
    }

    pub async fn stop(self) -> tempfile::TempDir {
        self.0.stop().await
    }
}

pub struct Client {
    socket: Socket,
    next_id: u64,
}

impl Client {
    /// A socket opened some other way (a ticket), without saying hello yet.
    pub fn from_socket(socket: Socket) -> Client {
        Client { socket, next_id: 1 }
    }

    /// Opens the signaling socket of the service at `address` (host:port) with a
    /// token, without saying hello yet.
    pub async fn open(address: &str, token: &str) -> Client {
        let mut request = format!("ws://{address}/ws").into_client_request().unwrap();
        request.headers_mut().insert("Authorization", format!("Bearer {token}").parse().unwrap());
        let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        Client { socket, next_id: 1 }
    }

    /// [`Client::open`] and hello; returns events that came with the welcome.
    pub async fn greeted(address: &str, token: &str) -> (Client, Vec<Event>) {
        let (client, _, events) = Client::resuming(address, token, None).await;
        (client, events)
    }

    /// [`Client::open`] and hello with a resume token (or none); returns the welcome
    /// and the events that came with it.
    pub async fn resuming(
        address: &str,
        token: &str,
        resume: Option<String>,
    ) -> (Client, callpark_wire::Welcome, Vec<Event>) {
        let mut client = Client::open(address, token).await;
        let hello =
            RequestBody::Hello { protocol: PROTOCOL_VERSION, device_name: "test".into(), resume };
        let mut events = Vec::new();
        match client.ask(hello, &mut events).await {
            ReplyResult::Ok(ReplyBody::Welcome(welcome)) => (client, *welcome, events),
            other => panic!("no welcome: {other:?}"),
        }
    }

    pub async fn send_text(&mut self, text: String) {
        self.socket.send(tungstenite::Message::Text(text.into())).await.unwrap();
    }

    /// The next frame as it comes, a close included (within 10 s).
    pub async fn next_frame(&mut self) -> Option<Result<tungstenite::Message, tungstenite::Error>> {
        tokio::time::timeout(Duration::from_secs(10), self.socket.next())
            .await
            .expect("the service sent a frame or closed in time")
    }

    /// The close frame's code and reason, skipping whatever comes before it
    /// (within 10 s); None if the connection broke without one.
    pub async fn close_frame(&mut self) -> Option<(u16, String)> {
        loop {
            match self.next_frame().await {
                Some(Ok(tungstenite::Message::Close(close))) => {
                    return close.map(|close| (u16::from(close.code), close.reason.to_string()));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// The next message, skipping the service's heartbeat pings (within 10 s).
    pub async fn receive(&mut self) -> ServerMessage {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .expect("the service answered in time")
                .unwrap()
                .unwrap();
            if let tungstenite::Message::Text(text) = frame {
                return ServerMessage::from_json(text.as_str()).unwrap();
            }
        }
    }

    /// Sends a request and returns its reply, keeping events that came first.
    pub async fn ask(&mut self, body: RequestBody, events: &mut Vec<Event>) -> ReplyResult {
        let id = self.next_id;
        self.next_id += 1;
        self.send_text(serde_json::to_string(&Request { id, body }).unwrap()).await;
        loop {
            match self.receive().await {
                ServerMessage::Reply { id: got, result } => {
                    assert_eq!(got, Some(id));
                    return result;
                }
                ServerMessage::Event { event } => events.push(event),
            }
        }
    }

    pub async fn event(&mut self) -> Event {
        match self.receive().await {
            ServerMessage::Event { event } => event,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    /// Dials, has `callee` answer, and returns the call id.
    pub async fn call_answered_by(&mut self, callee: &mut Client, to: &str) -> u64 {
        let mut events = Vec::new();
        let ReplyResult::Ok(ReplyBody::Dialing { call }) =
            self.ask(RequestBody::Dial { to: to.into() }, &mut events).await
        else {
            panic!("dial failed")
        };
        let answered = callee.ask(RequestBody::Answer { call }, &mut events).await;
        assert_eq!(answered, ReplyResult::Ok(ReplyBody::Done));
        call
    }

    /// Signs the device off: a normal close, so its calls end at once.
    pub async fn close(mut self) {
        let normal = tungstenite::protocol::CloseFrame {
            code: tungstenite::protocol::frame::coding::CloseCode::Normal,
            reason: "signing off".into(),
        };
        let _ = self.socket.close(Some(normal)).await;
        // Until the service's close comes back: dropping the connection earlier could
        // fail a write of the service's before it reads the close (then it is a drop).
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(Ok(_)) = self.socket.next().await {}
        })
        .await;
    }

    /// The connection breaks without a close frame (a network drop): the device
    /// keeps its calls for the grace period.
    pub fn break_off(self) {
        drop(self);
    }
}
