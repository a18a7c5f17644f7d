//! The signaling engine: the tokio driver of a [`Session`]. One task owns the
//! WebSocket and the session; it feeds the session what happens (frames, the
//! connection opening or closing, requests, time) and carries out what the session
//! asks for. Everything the protocol decides (hello, request ids, timeouts,
//! reconnect backoff, re-subscription) is the session's, tested on its own.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use callpark_session::{
    ConnectFailure, Fits, Intent, Notice, Output, RequestId, Session, ViewModel,
};
use callpark_wire::{ReplyBody, RequestBody};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::error::with_causes;
use crate::{ClientError, ServiceAddress};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Longest wait for a close frame to go out on a connection being given up.
const CLOSE_WAIT: Duration = Duration::from_millis(500);
type ReplySender = oneshot::Sender<Result<ReplyBody, ClientError>>;
type Connecting = Pin<Box<dyn Future<Output = Result<Socket, ConnectFailure>> + Send>>;

enum Command {
    Request { body: RequestBody, fits: Fits, reply: ReplySender },
    Stop,
}

/// A handle to the engine. Cheap to clone; the engine stops when `stop` is called
/// or every handle is dropped.
#[derive(Clone, Debug)]
pub struct Engine {
    commands: mpsc::Sender<Command>,
    snapshots: watch::Receiver<ViewModel>,
    events: broadcast::Sender<Notice>,
}

impl Engine {
    /// Starts connecting to `service` with a token from [`crate::login`].
    pub fn start(service: &ServiceAddress, token: &str, device_name: &str) -> Engine {
        let (commands, receiver) = mpsc::channel(64);
        let session = Session::with_seed(device_name, random_seed());
        let (snapshot_sender, snapshots) = watch::channel(session.view().clone());
        let (events, _) = broadcast::channel(1024);
        let driver = Driver {
            url: service.websocket_url(),
            tls: service.websocket_connector(),
            token: token.to_owned(),
            session,
            origin: Instant::now(),
            commands: receiver,
            snapshots: snapshot_sender,
            events: events.clone(),
            replies: HashMap::new(),
        };
        tokio::spawn(driver.run());
        Engine { commands, snapshots, events }
    }

    /// Asks the service for `intent` and waits for its outcome (at most
    /// [`callpark_session::REPLY_TIMEOUT`]).
    pub async fn ask<I: Intent>(&self, intent: I) -> Result<I::Outcome, ClientError> {
        let (reply, answer) = oneshot::channel();
        let command = Command::Request { body: intent.request(), fits: I::fits, reply };
        self.commands.send(command).await.map_err(|_| ClientError::Closed)?;
        let body = answer.await.map_err(|_| ClientError::Closed)??;
        // The session hands out only replies that fit the request.
        I::outcome(body).map_err(|reply| {
            ClientError::Protocol(format!("unexpected reply from the service: {reply:?}"))
        })
    }

    /// The current view and every later change.
    pub fn snapshots(&self) -> watch::Receiver<ViewModel> {
        self.snapshots.clone()
    }

    /// What happens from now on, as it comes.
    pub fn events(&self) -> broadcast::Receiver<Notice> {
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
    session: Session,
    /// The session's time is measured from here.
    origin: Instant,
    commands: mpsc::Receiver<Command>,
    snapshots: watch::Sender<ViewModel>,
    events: broadcast::Sender<Notice>,
    /// Replies owed to callers, by the session's request id.
    replies: HashMap<RequestId, ReplySender>,
}

/// What woke the driver.
enum Woken {
    Command(Option<Command>),
    Frame(Option<Result<Message, tungstenite::Error>>),
    Connected(Box<Result<Socket, ConnectFailure>>),
    Timeout,
}

impl Driver {
    async fn run(mut self) {
        let mut socket: Option<Socket> = None;
        let mut connecting: Option<Connecting> = None;
        loop {
            while let Some(output) = self.session.poll_output() {
                self.carry_out(output, &mut socket, &mut connecting).await;
            }
            if self.session.is_stopped() {
                return;
            }
            let deadline = self.session.poll_timeout().map(|due| self.origin + due);
            let woken = tokio::select! {
                command = self.commands.recv() => Woken::Command(command),
                frame = next_frame(&mut socket) => Woken::Frame(frame),
                connected = connection(&mut connecting) => Woken::Connected(Box::new(connected)),
                () = sleep_until(deadline) => Woken::Timeout,
            };
            let now = self.origin.elapsed();
            match woken {
                Woken::Command(Some(Command::Request { body, fits, reply })) => {
                    let id = self.session.request(body, fits, now);
                    self.replies.insert(id, reply);
                }
                Woken::Command(Some(Command::Stop) | None) => self.session.stop(),
                Woken::Frame(frame) => {
                    if let Some(closed) = self.read(frame, now) {
                        socket = None;
                        let (code, reason) = closed;
                        self.session.handle_closed(code, &reason, now);
                    }
                }
                Woken::Connected(connected) => {
                    connecting = None;
                    match *connected {
                        Ok(opened) => {
                            socket = Some(opened);
                            self.session.handle_connected(now);
                        }
                        Err(failure) => self.session.handle_connect_failed(failure, now),
                    }
                }
                Woken::Timeout => self.session.handle_timeout(now),
            }
        }
    }

    /// Hands a text frame to the session; the close code and reason when the
    /// connection ended.
    fn read(
        &mut self,
        frame: Option<Result<Message, tungstenite::Error>>,
        now: Duration,
    ) -> Option<(Option<u16>, String)> {
        match frame {
            Some(Ok(Message::Text(text))) => {
                self.session.handle_frame(text.as_str(), now);
                None
            }
            Some(Ok(Message::Close(Some(frame)))) => {
                Some((Some(u16::from(frame.code)), frame.reason.to_string()))
            }
            Some(Ok(Message::Close(None))) | None => {
                Some((None, "the service closed the connection".into()))
            }
            Some(Ok(_)) => None,
            Some(Err(error)) => Some((None, error.to_string())),
        }
    }

    async fn carry_out(
        &mut self,
        output: Output,
        socket: &mut Option<Socket>,
        connecting: &mut Option<Connecting>,
    ) {
        match output {
            Output::Connect => {
                *connecting =
                    Some(Box::pin(open(self.url.clone(), self.tls.clone(), self.token.clone())));
            }
            Output::Send(frame) => {
                let Some(open) = socket else { return };
                if let Err(error) = open.send(Message::Text(frame.into())).await {
                    *socket = None;
                    let now = self.origin.elapsed();
                    self.session.handle_closed(None, &error.to_string(), now);
                }
            }
            Output::Close { reconnect } => {
                *connecting = None;
                if let Some(mut open) = socket.take() {
                    let (code, reason) = if reconnect {
                        (CloseCode::from(callpark_wire::CLOSE_RECONNECTING), "reconnecting")
                    } else {
                        (CloseCode::Normal, "signing off")
                    };
                    let frame = CloseFrame { code, reason: reason.into() };
                    // Until the service's close comes back, so that it reads ours
                    // (signing off ends the calls at once); a connection that is
                    // already broken gets no longer than CLOSE_WAIT.
                    let closing = async {
                        if open.close(Some(frame)).await.is_ok() {
                            while let Some(Ok(_)) = open.next().await {}
                        }
                    };
                    let _ = tokio::time::timeout(CLOSE_WAIT, closing).await;
                }
            }
            Output::Reply { id, result } => {
                if let Some(reply) = self.replies.remove(&id) {
                    let _ = reply.send(result.map_err(ClientError::from));
                }
            }
            Output::ViewChanged => {
                self.snapshots.send_replace(self.session.view().clone());
            }
            Output::Notice(notice) => {
                let _ = self.events.send(notice);
            }
        }
    }
}

/// A different number for each engine (std's hasher keys are random per process and
/// per instance), so devices spread their reconnects differently.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(std::time::SystemTime::now().elapsed().map_or(0, |e| e.as_nanos()));
    hasher.finish()
}

/// Opens the WebSocket with the token; why not, in the session's terms.
async fn open(
    url: String,
    tls: Option<Connector>,
    token: String,
) -> Result<Socket, ConnectFailure> {
    let mut request =
        url.as_str().into_client_request().map_err(|e| ConnectFailure::Refused(e.to_string()))?;
    let header = format!("Bearer {token}")
        .parse()
        .map_err(|_| ConnectFailure::Refused("the token is not a valid header value".into()))?;
    request.headers_mut().insert("Authorization", header);
    match tokio_tungstenite::connect_async_tls_with_config(request, None, true, tls).await {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) if response.status() == 401 => {
            Err(ConnectFailure::Unauthorized)
        }
        Err(error) => Err(ConnectFailure::Failed(with_causes(&error))),
    }
}

async fn next_frame(socket: &mut Option<Socket>) -> Option<Result<Message, tungstenite::Error>> {
    match socket {
        Some(socket) => socket.next().await,
        None => std::future::pending().await,
    }
}

async fn connection(connecting: &mut Option<Connecting>) -> Result<Socket, ConnectFailure> {
    match connecting {
        Some(connecting) => connecting.await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
