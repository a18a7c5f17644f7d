//! The signaling engine: one WebSocket to the service, kept up.
//!
//! A task owns the socket. Requests come in over a channel with a oneshot for the
//! reply and are matched to replies by id. Events update the view model, published
//! as snapshots through a `watch` channel, and are also broadcast as they come. When
//! the connection drops, pending requests fail with `Closed`, and the engine
//! reconnects with exponential backoff, says hello again and re-subscribes to the
//! parked-calls and people lists if it was subscribed.

use std::collections::HashMap;
use std::time::Duration;

use callpark_wire::{
    CLOSE_SIGNED_OUT, ErrorBody, Event, PROTOCOL_VERSION, ReplyBody, ReplyResult, Request,
    RequestBody, ServerMessage,
};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::error::with_causes;
use crate::view::{Connection, ViewModel};
use crate::{ClientError, ServiceAddress};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type ReplySender = oneshot::Sender<Result<ReplyBody, ClientError>>;

/// How long a request waits for its reply.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LONGEST_RETRY: Duration = Duration::from_secs(10);

/// What the engine reports as it happens (snapshots carry the state).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineEvent {
    /// Signed in and greeted (again, after a reconnect).
    Online,
    /// The connection dropped; the engine is trying again.
    Offline {
        reason: String,
    },
    /// The service refused the token; the engine has stopped.
    SignedOut {
        reason: String,
    },
    Event(Event),
}

enum Command {
    Request { body: RequestBody, reply: ReplySender },
    Stop,
}

/// A handle to the engine. Cheap to clone; the engine stops when `stop` is called
/// or every handle is dropped.
#[derive(Clone, Debug)]
pub struct Engine {
    commands: mpsc::Sender<Command>,
    snapshots: watch::Receiver<ViewModel>,
    events: broadcast::Sender<EngineEvent>,
}

impl Engine {
    /// Starts connecting to `service` with a token from [`crate::login`].
    pub fn start(service: &ServiceAddress, token: &str, device_name: &str) -> Engine {
        let (commands, receiver) = mpsc::channel(64);
        let (snapshot_sender, snapshots) = watch::channel(ViewModel::default());
        let (events, _) = broadcast::channel(1024);
        let driver = Driver {
            url: service.websocket_url(),
            tls: service.websocket_connector(),
            token: token.to_owned(),
            device_name: device_name.to_owned(),
            commands: receiver,
            snapshots: snapshot_sender,
            events: events.clone(),
            subscribed: false,
            watching_people: false,
            next_id: 1,
            pending: HashMap::new(),
        };
        tokio::spawn(driver.run());
        Engine { commands, snapshots, events }
    }

    /// Sends a request and waits for its one reply.
    pub async fn request(&self, body: RequestBody) -> Result<ReplyBody, ClientError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Request { body, reply })
            .await
            .map_err(|_| ClientError::Closed)?;
        match tokio::time::timeout(REPLY_TIMEOUT, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(ClientError::Closed),
            Err(_) => Err(ClientError::Timeout(REPLY_TIMEOUT.as_secs())),
        }
    }

    /// The current view and every later change.
    pub fn snapshots(&self) -> watch::Receiver<ViewModel> {
        self.snapshots.clone()
    }

    /// Events from now on, as they come.
    pub fn events(&self) -> broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }

    /// Waits until the view satisfies `ready` (for example, online), at most `within`.
    pub async fn wait_for(
        &self,
        within: Duration,
        ready: impl Fn(&ViewModel) -> bool,
    ) -> Result<ViewModel, ClientError> {
        let mut snapshots = self.snapshots();
        let waited = tokio::time::timeout(within, snapshots.wait_for(|view| ready(view))).await;
        match waited {
            Ok(Ok(view)) => Ok(view.clone()),
            Ok(Err(_)) => Err(ClientError::Closed),
            Err(_) => Err(ClientError::Timeout(within.as_secs())),
        }
    }

    /// Closes the connection and stops reconnecting.
    pub async fn stop(&self) {
        let _ = self.commands.send(Command::Stop).await;
    }
}

struct Driver {
    url: String,
    tls: Option<Connector>,
    token: String,
    device_name: String,
    commands: mpsc::Receiver<Command>,
    snapshots: watch::Sender<ViewModel>,
    events: broadcast::Sender<EngineEvent>,
    subscribed: bool,
    watching_people: bool,
    next_id: u64,
    /// Replies owed to callers; `None` for the engine's own requests.
    pending: HashMap<u64, Option<ReplySender>>,
}

enum Ended {
    Stop,
    Dropped(String),
    Refused(String),
}

fn backoff(attempt: u32) -> Duration {
    FIRST_RETRY.saturating_mul(1 << attempt.min(6)).min(LONGEST_RETRY)
}

impl Driver {
    async fn run(mut self) {
        let mut attempt = 0u32;
        loop {
            let ended = match self.connect().await {
                Ok(socket) => {
                    attempt = 0;
                    self.serve(socket).await
                }
                Err(ended) => ended,
            };
            self.fail_pending();
            match ended {
                Ended::Stop => {
                    self.snapshots.send_modify(|view| view.went_offline(Connection::Stopped));
                    return;
                }
                Ended::Refused(reason) => {
                    tracing::warn!(%reason, "the service refused the sign-in");
                    self.snapshots.send_modify(|view| {
                        view.went_offline(Connection::SignedOut { reason: reason.clone() });
                    });
                    let _ = self.events.send(EngineEvent::SignedOut { reason });
                    self.refuse_until_stopped().await;
                    return;
                }
                Ended::Dropped(reason) => {
                    attempt += 1;
                    let wait = backoff(attempt - 1);
                    tracing::info!(%reason, attempt, retry_in_ms = wait.as_millis() as u64, "signaling connection lost");
                    let retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                    self.snapshots.send_modify(|view| {
                        view.went_offline(Connection::Reconnecting {
                            attempt,
                            retry_in_ms,
                            reason: reason.clone(),
                        });
                    });
                    let _ = self.events.send(EngineEvent::Offline { reason });
                    if self.wait_refusing(wait).await {
                        return;
                    }
                }
            }
        }
    }

    /// Answers requests with `Closed` for `wait`; true if told to stop meanwhile.
    async fn wait_refusing(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => return false,
                command = self.commands.recv() => match command {
                    Some(Command::Request { body, reply }) => {
                        self.remember_subscription(&body);
                        let _ = reply.send(Err(ClientError::Closed));
                    }
                    Some(Command::Stop) | None => {
                        self.snapshots.send_modify(|view| view.went_offline(Connection::Stopped));
                        return true;
                    }
                },
            }
        }
    }

    async fn refuse_until_stopped(&mut self) {
        while let Some(Command::Request { reply, .. }) = self.commands.recv().await {
            let _ = reply.send(Err(ClientError::Closed));
        }
    }

    /// A subscription asked for while offline is made once connected.
    fn remember_subscription(&mut self, body: &RequestBody) {
        match body {
            RequestBody::SubscribeParked => self.subscribed = true,
            RequestBody::UnsubscribeParked => self.subscribed = false,
            RequestBody::SubscribePeople => self.watching_people = true,
            _ => {}
        }
    }

    async fn connect(&mut self) -> Result<Socket, Ended> {
        self.snapshots.send_modify(|view| {
            if !matches!(view.connection, Connection::Reconnecting { .. }) {
                view.connection = Connection::Connecting;
            }
        });
        let mut request =
            self.url.as_str().into_client_request().map_err(|e| Ended::Refused(e.to_string()))?;
        let header = format!("Bearer {}", self.token)
            .parse()
            .map_err(|_| Ended::Refused("the token is not a valid header value".into()))?;
        request.headers_mut().insert("Authorization", header);
        let connecting =
            tokio_tungstenite::connect_async_tls_with_config(request, None, true, self.tls.clone());
        let mut socket = match connecting.await {
            Ok((socket, _)) => socket,
            Err(tungstenite::Error::Http(response)) if response.status() == 401 => {
                return Err(Ended::Refused("the token is unknown or has expired".into()));
            }
            Err(error) => return Err(Ended::Dropped(with_causes(&error))),
        };
        let hello = RequestBody::Hello {
            protocol: PROTOCOL_VERSION,
            device_name: self.device_name.clone(),
        };
        match self.ask_directly(&mut socket, hello).await? {
            ReplyResult::Ok(ReplyBody::Welcome { user, policy, park_off, .. }) => {
                self.snapshots.send_modify(|view| {
                    view.connection = Connection::Online;
                    view.user = Some(user);
                    view.policy = policy;
                    view.park_off = park_off;
                });
            }
            ReplyResult::Ok(other) => {
                return Err(Ended::Dropped(format!("unexpected reply to hello: {other:?}")));
            }
            ReplyResult::Error(error) => return Err(Ended::Refused(error.message)),
        }
        if self.subscribed
            && let ReplyResult::Error(error) =
                self.ask_directly(&mut socket, RequestBody::SubscribeParked).await?
        {
            tracing::warn!(code = %error.code, "re-subscribing to the parked list failed");
        }
        if self.watching_people
            && let ReplyResult::Error(error) =
                self.ask_directly(&mut socket, RequestBody::SubscribePeople).await?
        {
            tracing::warn!(code = %error.code, "re-subscribing to the people list failed");
        }
        let _ = self.events.send(EngineEvent::Online);
        Ok(socket)
    }

    /// One request during connection set-up; events that come first are applied.
    async fn ask_directly(
        &mut self,
        socket: &mut Socket,
        body: RequestBody,
    ) -> Result<ReplyResult, Ended> {
        let id = self.take_id();
        let frame = serde_json::to_string(&Request { id, body })
            .map_err(|e| Ended::Dropped(e.to_string()))?;
        socket
            .send(Message::Text(frame.into()))
            .await
            .map_err(|e| Ended::Dropped(e.to_string()))?;
        let deadline = tokio::time::Instant::now() + REPLY_TIMEOUT;
        loop {
            let frame = tokio::time::timeout_at(deadline, socket.next())
                .await
                .map_err(|_| Ended::Dropped("no reply to hello".into()))?;
            match frame {
                Some(Ok(Message::Text(text))) => match ServerMessage::from_json(text.as_str()) {
                    Ok(ServerMessage::Reply { id: Some(got), result }) if got == id => {
                        return Ok(result);
                    }
                    Ok(ServerMessage::Event { event }) => self.apply(event),
                    Ok(_) => {}
                    Err(error) => return Err(Ended::Dropped(with_causes(&error))),
                },
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(Ended::Dropped(error.to_string())),
                None => return Err(Ended::Dropped("closed during hello".into())),
            }
        }
    }

    fn take_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn apply(&mut self, event: Event) {
        self.snapshots.send_modify(|view| view.apply(&event));
        let _ = self.events.send(EngineEvent::Event(event));
    }

    fn fail_pending(&mut self) {
        for (_, reply) in self.pending.drain() {
            if let Some(reply) = reply {
                let _ = reply.send(Err(ClientError::Closed));
            }
        }
    }

    async fn serve(&mut self, mut socket: Socket) -> Ended {
        loop {
            tokio::select! {
                command = self.commands.recv() => match command {
                    Some(Command::Request { body, reply }) => {
                        self.remember_subscription(&body);
                        let id = self.take_id();
                        let Ok(frame) = serde_json::to_string(&Request { id, body }) else {
                            let _ = reply.send(Err(ClientError::Protocol("unserialisable request".into())));
                            continue;
                        };
                        self.pending.insert(id, Some(reply));
                        if let Err(error) = socket.send(Message::Text(frame.into())).await {
                            return Ended::Dropped(error.to_string());
                        }
                    }
                    Some(Command::Stop) | None => {
                        let _ = socket.close(None).await;
                        return Ended::Stop;
                    }
                },
                frame = socket.next() => match frame {
                    Some(Ok(Message::Text(text))) => match ServerMessage::from_json(text.as_str()) {
                        Ok(ServerMessage::Reply { id, result }) => self.reply(id, result),
                        Ok(ServerMessage::Event { event }) => self.apply(event),
                        Err(error) => tracing::warn!(%error, "unreadable message from the service"),
                    },
                    Some(Ok(Message::Close(Some(frame)))) if u16::from(frame.code) == CLOSE_SIGNED_OUT => {
                        return Ended::Refused(frame.reason.to_string());
                    }
                    Some(Ok(Message::Close(_))) | None => return Ended::Dropped("the service closed the connection".into()),
                    Some(Ok(_)) => {}
                    Some(Err(error)) => return Ended::Dropped(error.to_string()),
                },
            }
        }
    }

    fn reply(&mut self, id: Option<u64>, result: ReplyResult) {
        let Some(id) = id else {
            tracing::warn!(?result, "the service refused a request it could not read");
            return;
        };
        let Some(Some(reply)) = self.pending.remove(&id) else { return };
        let _ = reply.send(match result {
            ReplyResult::Ok(body) => Ok(body),
            ReplyResult::Error(error) => Err(ClientError::from(error as ErrorBody)),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_quarter_second_to_ten_seconds() {
        let waits: Vec<u128> = (0..9).map(|n| backoff(n).as_millis()).collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000, 8000, 10000, 10000, 10000]);
    }
}
