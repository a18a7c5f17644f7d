//! One signed-in device on a raw WebSocket: the leanest client the protocol allows,
//! so the load side spends its core on load rather than on view models.
//!
//! Raw frames rather than `callpark-session` (which the app, the CLI and the tests
//! use), because the session costs measurable CPU here and its view model is of no
//! use to a load generator: one park as the parker's device sees it (2 requests, 7
//! frames) takes 6.2 µs raw and 7.3 µs through the session, 1.18× (medians of 3
//! runs of `cargo bench -p callpark-session --bench frames`, 2026-12-05, the 1.2 µs
//! of making the frames taken off both). At the throughput benchmark's ~25,000
//! parks and retrieves a second that is a few percent of the load core, spent on
//! state nobody reads.

use std::time::Duration;

use callpark_wire::{
    Event, PROTOCOL_VERSION, ReplyBody, ReplyResult, Request, RequestBody, ServerMessage,
};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::LoadError;

const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// The service's own buffers are 4 KiB; 10,000 devices in one process at
/// tungstenite's 128 KiB default would need over a gigabyte.
const SOCKET_BUFFER_BYTES: usize = 4 * 1024;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What the reader hands on: replies, and the one event a lane waits for.
#[derive(Debug)]
enum Inbound {
    Reply { id: Option<u64>, result: ReplyResult },
    Incoming { call: u64 },
}

#[derive(Debug)]
pub struct Device {
    sink: SplitSink<Socket, Message>,
    inbox: mpsc::UnboundedReceiver<Inbound>,
    next_id: u64,
}

impl Device {
    /// Connects with `token` and says hello.
    pub async fn connect(websocket_url: &str, token: &str, name: &str) -> Result<Self, LoadError> {
        Ok(Self::connect_resuming(websocket_url, token, name, None).await?.0)
    }

    /// Connects with `token` and says hello with a resume token (or none); returns
    /// the device and the resume token of its welcome.
    pub async fn connect_resuming(
        websocket_url: &str,
        token: &str,
        name: &str,
        resume: Option<String>,
    ) -> Result<(Self, String), LoadError> {
        let mut request = websocket_url
            .into_client_request()
            .map_err(|error| LoadError::Connect(error.to_string()))?;
        let header = format!("Bearer {token}")
            .parse()
            .map_err(|_| LoadError::Connect("the token is not a header value".into()))?;
        request.headers_mut().insert("Authorization", header);
        let config =
            WebSocketConfig::default().read_buffer_size(SOCKET_BUFFER_BYTES).write_buffer_size(0);
        let (socket, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true)
            .await
            .map_err(|error| LoadError::Connect(error.to_string()))?;
        let (sink, stream) = socket.split();
        let (sender, inbox) = mpsc::unbounded_channel();
        tokio::spawn(read(stream, sender));
        let mut device = Device { sink, inbox, next_id: 1 };
        let hello =
            RequestBody::Hello { protocol: PROTOCOL_VERSION, device_name: name.to_owned(), resume };
        match device.request(hello).await? {
            ReplyBody::Welcome(welcome) => Ok((device, welcome.resume)),
            other => Err(LoadError::Protocol(format!("hello answered with {other:?}"))),
        }
    }

    /// Waits until the service closes the connection (or it drops).
    pub async fn closed(mut self) {
        while self.inbox.recv().await.is_some() {}
    }

    /// Sends a request and waits for its reply.
    pub async fn request(&mut self, body: RequestBody) -> Result<ReplyBody, LoadError> {
        let id = self.next_id;
        self.next_id += 1;
        let kind = body.kind();
        let text = serde_json::to_string(&Request { id, body })
            .map_err(|error| LoadError::Protocol(error.to_string()))?;
        self.sink.send(Message::text(text)).await.map_err(|_| LoadError::Closed)?;
        loop {
            match self.next(kind).await? {
                Inbound::Reply { id: Some(replied), result } if replied == id => {
                    return match result {
                        ReplyResult::Ok(body) => Ok(body),
                        ReplyResult::Error(error) => Err(LoadError::Refused {
                            request: kind,
                            code: error.code,
                            message: error.message,
                        }),
                    };
                }
                _ => continue,
            }
        }
    }

    /// Waits for a call to ring this device and returns its id.
    pub async fn incoming_call(&mut self) -> Result<u64, LoadError> {
        loop {
            if let Inbound::Incoming { call } = self.next("incoming call").await? {
                return Ok(call);
            }
        }
    }

    /// Waits for `call` to ring this device (skipping others that rang it) and
    /// answers it.
    pub async fn answer(&mut self, call: u64) -> Result<(), LoadError> {
        while self.incoming_call().await? != call {}
        self.request(RequestBody::Answer { call }).await.map(|_| ())
    }

    pub async fn close(mut self) {
        let _ = self.sink.close().await;
    }

    async fn next(&mut self, waiting_for: &'static str) -> Result<Inbound, LoadError> {
        match tokio::time::timeout(REPLY_TIMEOUT, self.inbox.recv()).await {
            Ok(Some(inbound)) => Ok(inbound),
            Ok(None) => Err(LoadError::Closed),
            Err(_) => Err(LoadError::Timeout(waiting_for)),
        }
    }
}

async fn read(
    mut stream: futures_util::stream::SplitStream<Socket>,
    inbox: mpsc::UnboundedSender<Inbound>,
) {
    while let Some(Ok(message)) = stream.next().await {
        let Message::Text(text) = message else { continue };
        // Most traffic is events nobody here waits for; skip them unparsed.
        if text.starts_with(r#"{"type":"event""#) && !text.contains(r#""event":"incoming_call""#) {
            continue;
        }
        let inbound = match ServerMessage::from_json(&text) {
            Ok(ServerMessage::Reply { id, result }) => Inbound::Reply { id, result },
            Ok(ServerMessage::Event { event: Event::IncomingCall { call, .. } }) => {
                Inbound::Incoming { call }
            }
            Ok(ServerMessage::Event { .. }) | Err(_) => continue,
        };
        if inbox.send(inbound).is_err() {
            return;
        }
    }
}
