//! The network front: `/healthz`, `POST /api/v1/login`, the admin API (see
//! `admin`), and `/ws`, the signaling WebSocket (bearer token in the
//! `Authorization` header, or `?token=` for browsers, which cannot set headers on a
//! WebSocket).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::{Json, Router};
use callpark_park::{DeviceId, Timestamp, UserId};
use callpark_wire::admin::{LoginReply, LoginRequest};
use callpark_wire::{
    ErrorBody, MAX_FRAME_BYTES, ReplyBody, ReplyResult, Request, RequestBody, ServerMessage,
    parse_request, reply_error, reply_ok,
};
use futures_util::SinkExt;
use serde::Deserialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::rustls::ServerConfig;

use crate::accounts::{
    HashingPool, Session, Sessions, hash_password, random_token, token_digest, verify_password_in,
};
use crate::admin::Body;
use crate::exchange::{DeviceEvents, ExchangeHandle};
use crate::media::MediaHandle;
use crate::refusal::Refusal;
use crate::store::{Store, StoreWriter, Write};
use crate::throttle::{ADDRESS_IN_FLIGHT, Admitted, Locked, LoginThrottle};
use crate::tls::TlsListener;

const SOCKET_BUFFER_BYTES: usize = 4 * 1024;

/// Most signaling connections served at once, unless configured otherwise.
pub const DEFAULT_MAX_CONNECTIONS: usize = 20_000;

#[derive(Clone, Debug)]
pub struct AppState {
    pub(crate) exchange: ExchangeHandle,
    pub(crate) store: Store,
    writer: StoreWriter,
    sessions: Arc<Mutex<Sessions>>,
    throttle: Arc<Mutex<LoginThrottle>>,
    connections: Arc<Semaphore>,
    pub(crate) hashing: HashingPool,
    next_device: Arc<AtomicU64>,
    media: MediaHandle,
    pub(crate) voicemail_dir: Arc<std::path::Path>,
    /// Sign-ins that ended, for the connections they hold to close.
    sign_outs: tokio::sync::broadcast::Sender<SignOut>,
    /// Web origins besides the service's own that may open `/ws`, lower case.
    allowed_origins: Arc<[String]>,
}

/// A sign-in that ended while its connections may be open.
#[derive(Clone, Debug)]
pub(crate) struct SignOut {
    whose: Signed,
    /// Said to the device in the close frame.
    reason: Arc<str>,
}

#[derive(Clone, Debug)]
enum Signed {
    /// One token (its digest): a logout.
    Token(Arc<str>),
    /// Every token of a user.
    User(UserId),
}

impl SignOut {
    fn ends(&self, digest: &str, user: UserId) -> bool {
        match &self.whose {
            Signed::Token(ended) => **ended == *digest,
            Signed::User(ended) => *ended == user,
        }
    }
}

impl AppState {
    pub fn new(
        exchange: ExchangeHandle,
        store: Store,
        writer: StoreWriter,
        sessions: Sessions,
        max_connections: usize,
        media: MediaHandle,
        voicemail_dir: &std::path::Path,
    ) -> Self {
        Self {
            exchange,
            store,
            writer,
            sessions: Arc::new(Mutex::new(sessions)),
            throttle: Arc::new(Mutex::new(LoginThrottle::default())),
            connections: Arc::new(Semaphore::new(max_connections)),
            hashing: HashingPool::default(),
            next_device: Arc::new(AtomicU64::new(1)),
            media,
            voicemail_dir: Arc::from(voicemail_dir),
            sign_outs: tokio::sync::broadcast::channel(SIGN_OUTS_QUEUED).0,
            allowed_origins: Arc::from([]),
        }
    }

    /// Lets pages from these origins (scheme://host[:port]) open `/ws` too.
    pub fn with_allowed_origins(mut self, origins: &[String]) -> Self {
        self.allowed_origins = origins.iter().map(|origin| normal_origin(origin)).collect();
        self
    }

    /// A browser says which page opens a WebSocket (`Origin`); a page from anywhere
    /// holding a token must not, so only the service's own origin and the configured
    /// ones may. Clients that are not browsers send no `Origin` and are let in.
    fn origin_allowed(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let Some(origin) = headers.get(header::ORIGIN) else { return Ok(()) };
        let origin = normal_origin(origin.to_str().unwrap_or_default());
        let own =
            headers.get(header::HOST).and_then(|host| host.to_str().ok()).is_some_and(|host| {
                origin
                    .split_once("://")
                    .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
            });
        if own || self.allowed_origins.contains(&origin) {
            return Ok(());
        }
        tracing::info!(%origin, "signaling refused to a page from another origin");
        Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            format!(
                "Pages from {origin} may not open the signaling connection: only the service's \
                 own address and the origins its operator allows (allowed_origins) may."
            ),
        ))
    }

    /// The session a bearer token stands for, if valid now.
    pub(crate) fn session(&self, token: &str) -> Option<Session> {
        self.sessions.lock().ok()?.verify(token, now())
    }

    /// Ends every session of `user`, in memory and in the store (committed when
    /// this returns), and closes their connections saying `reason`.
    pub(crate) async fn revoke_sessions(&self, user: UserId, reason: &str) -> Result<(), Refusal> {
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.revoke_user(user);
        }
        let committed = self.writer.write_and_confirm(Write::RevokeSessions(user));
        let _ = self.sign_outs.send(SignOut { whose: Signed::User(user), reason: reason.into() });
        confirmed(committed).await
    }

    /// Ends the session of `token` (a logout), committed when this returns, and
    /// closes its connections. False if the token was not a live session.
    pub(crate) async fn revoke_token(&self, token: &str) -> Result<bool, Refusal> {
        let digest = token_digest(token);
        let revoked =
            self.sessions.lock().map(|mut sessions| sessions.revoke(&digest).is_some()).ok();
        if revoked != Some(true) {
            return Ok(false);
        }
        let committed = self.writer.write_and_confirm(Write::RevokeSession(digest.clone()));
        let reason = "You signed out.".into();
        let _ = self.sign_outs.send(SignOut { whose: Signed::Token(digest.into()), reason });
        confirmed(committed).await.map(|()| true)
    }

    fn session_holds(&self, digest: &str) -> bool {
        self.sessions.lock().is_ok_and(|sessions| sessions.holds(digest, now()))
    }
}

/// An origin as compared: lower case, no trailing slash.
fn normal_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// Sign-outs a connection may fall behind on before it checks its session itself.
const SIGN_OUTS_QUEUED: usize = 256;

async fn confirmed(
    committed: tokio::sync::oneshot::Receiver<Result<(), String>>,
) -> Result<(), Refusal> {
    match committed.await {
        Ok(Ok(())) => Ok(()),
        _ => Err(Refusal::internal("The change could not be saved; try again.")),
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/v1/login", post(login))
        .route("/api/v1/logout", post(logout))
        .route("/ws", get(signaling))
        .merge(crate::admin::routes())
        .fallback(|| async {
            refusal(StatusCode::NOT_FOUND, "not_found", "There is nothing at this address.")
        })
        .method_not_allowed_fallback(|| async {
            refusal(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This address does not take that method.",
            )
        })
        .with_state(state)
}

/// A reply and an event are small frames written back to back; with Nagle's
/// algorithm the second would wait for the client's delayed ACK (up to 40 ms).
fn send_without_delay(stream: &mut TcpStream) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%error, "cannot turn off Nagle's algorithm");
    }
}

/// Serves until `shutdown` completes, then stops accepting and drains requests.
/// With a TLS configuration, only https and wss are served.
pub async fn run(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // `tap_io` also gives both listeners axum's `ConnectInfo<SocketAddr>`.
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let address = listener.local_addr()?;
    match tls {
        None => {
            tracing::info!(%address, scheme = "http", "listening");
            axum::serve(listener.tap_io(send_without_delay), app)
                .with_graceful_shutdown(shutdown)
                .await
        }
        Some(config) => {
            tracing::info!(%address, scheme = "https", "listening");
            let listener = TlsListener::new(listener, config)?
                .tap_io(|secured| send_without_delay(secured.get_mut().0));
            axum::serve(listener, app).with_graceful_shutdown(shutdown).await
        }
    }
}

pub(crate) fn now() -> Timestamp {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp::from_millis(u64::try_from(since_epoch.as_millis()).unwrap_or(0))
}

fn refusal(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, Json(ErrorBody::new(code, message))).into_response()
}

/// How long an attempt waits for one of its address's check places before it is
/// refused: a whole office signing in at once queues, a script is told to slow down.
const ADDRESS_QUEUE_WAIT: Duration = Duration::from_secs(10);
const ADDRESS_QUEUE_POLL: Duration = Duration::from_millis(20);

/// Lets an attempt through the throttle, waiting while its address has its most
/// checks running. `Err(None)`: the throttle could not be consulted.
async fn admit(state: &AppState, login: &str, address: IpAddr) -> Result<Admitted, Option<Locked>> {
    let until = tokio::time::Instant::now() + ADDRESS_QUEUE_WAIT;
    loop {
        let admitted = state.throttle.lock().map_err(|_| None)?.admit(login, address, now());
        match admitted {
            Err(Locked::Busy(_)) if tokio::time::Instant::now() < until => {
                tokio::time::sleep(ADDRESS_QUEUE_POLL).await;
            }
            other => return other.map_err(Some),
        }
    }
}

/// A sign-in attempt the throttle let through; reported back however it ends (a
/// client that hangs up mid-check drops it: abandoned).
struct Attempt {
    throttle: Arc<Mutex<LoginThrottle>>,
    admitted: Option<Admitted>,
}

impl Attempt {
    fn finish(mut self, login: &str, succeeded: bool) {
        if let (Some(admitted), Ok(mut throttle)) = (self.admitted.take(), self.throttle.lock())
            && let Some(lock) = throttle.finished(admitted, succeeded, now())
        {
            tracing::info!(%login, seconds = lock.as_secs(), "account locked after failed sign-ins");
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if let (Some(admitted), Ok(mut throttle)) = (self.admitted.take(), self.throttle.lock()) {
            throttle.abandoned(admitted, now());
        }
    }
}

fn locked_out(locked: Locked) -> Response {
    let (wait, message) = match locked {
        Locked::Account(wait) => {
            let seconds = whole_seconds(wait);
            (wait, format!("Too many failed sign-ins for this account; try again in {seconds} s."))
        }
        Locked::Busy(wait) => {
            let seconds = whole_seconds(wait);
            (
                wait,
                format!(
                    "Too many sign-ins from your address at once (at most {ADDRESS_IN_FLIGHT} \
                     are checked at a time, the rest wait up to {} s); try again in {seconds} s.",
                    ADDRESS_QUEUE_WAIT.as_secs()
                ),
            )
        }
    };
    let seconds = whole_seconds(wait);
    let mut response =
        Refusal::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", message).into_response();
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn whole_seconds(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// Signs in: checks the password and issues a bearer token. Attempts are throttled
/// per account (locked) and per client address (slowed).
#[utoipa::path(post, path = "/api/v1/login", request_body = LoginRequest, tag = "sign-in", security(()),
    responses((status = 200, body = LoginReply), (status = 401, body = callpark_wire::admin::ApiError),
        (status = 429, body = callpark_wire::admin::ApiError)))]
pub(crate) async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Body(request): Body<LoginRequest>,
) -> Response {
    let address = peer.ip();
    let attempt = match admit(&state, &request.login, address).await {
        Ok(attempt) => attempt,
        Err(Some(locked)) => {
            tracing::debug!(%address, ?locked, "login throttled");
            return locked_out(locked);
        }
        Err(None) => return Refusal::internal("The sign-in check failed.").into_response(),
    };
    let delay = attempt.delay;
    let attempt = Attempt { throttle: state.throttle.clone(), admitted: Some(attempt) };
    if !delay.is_zero() {
        tracing::debug!(%address, ?delay, "login slowed: many failures from this address");
        tokio::time::sleep(delay).await;
    }
    let account = state.exchange.credentials(&request.login).await;
    let password = request.password;
    // An unknown login is checked against a dummy hash so both take as long.
    let checked = state
        .hashing
        .run(move |memory| {
            let hash = match &account {
                Some((_, account)) => account.password_hash.as_str(),
                None => dummy_hash(),
            };
            let matches = verify_password_in(memory, &password, hash);
            account.filter(|_| matches)
        })
        .await;
    let Some(checked) = checked else {
        return Refusal::internal("The sign-in check failed.").into_response();
    };
    attempt.finish(&request.login, checked.is_some());
    let Some((user, account)) = checked else {
        tracing::debug!(%address, "login refused");
        return refusal(StatusCode::UNAUTHORIZED, "unauthorized", "Wrong login name or password.");
    };
    let Ok(mut sessions) = state.sessions.lock() else {
        return Refusal::internal("The sign-in check failed.").into_response();
    };
    let (token, digest, session) = sessions.issue(user, now());
    drop(sessions);
    state.writer.write(Write::SaveSession { digest, session });
    tracing::debug!(user = user.0, "signed in");
    Json(LoginReply {
        token,
        expires_at_ms: session.expires_at.as_millis(),
        user: user.0,
        login: account.login,
        admin: account.admin,
    })
    .into_response()
}

/// Signs out: the token stops working at once (REST and WebSocket), and every
/// connection it holds is closed with a reason.
#[utoipa::path(post, path = "/api/v1/logout", tag = "sign-in", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = callpark_wire::admin::ApiError)))]
pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = bearer(&headers) else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Send the token to sign out as \"Authorization: Bearer <token>\".",
        );
    };
    match state.revoke_token(&token).await {
        Ok(true) => {
            tracing::debug!("signed out");
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(false) => refusal(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "The token is unknown or has expired: it is signed out already.",
        ),
        Err(refused) => refused.into_response(),
    }
}

/// An argon2 hash of a random password nobody knows, checked for unknown logins.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The token of an `Authorization: Bearer <token>` header; the scheme is
/// case-insensitive (RFC 7235, section 2.1).
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim_start();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

async fn signaling(
    State(state): State<AppState>,
    headers: HeaderMap,
    crate::admin::QueryParams(query): crate::admin::QueryParams<TokenQuery>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Err(refused) = state.origin_allowed(&headers) {
        return refused.into_response();
    }
    let Some(token) = bearer(&headers).or(query.token) else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Sign in first: send the token from /api/v1/login as \"Authorization: Bearer <token>\".",
        );
    };
    let Some(session) = state.session(&token) else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "The token is unknown or has expired; sign in again.",
        );
    };
    let Ok(permit) = state.connections.clone().try_acquire_owned() else {
        tracing::warn!("connection limit reached; refusing a signaling connection");
        return refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_connections",
            "The service is serving as many devices as it is configured for; try again later.",
        );
    };
    let device = DeviceId(state.next_device.fetch_add(1, Ordering::Relaxed));
    // Frames somewhat over the protocol limit still arrive, so that they can be
    // answered with `frame_too_large`; far larger ones close the connection.
    // Small buffers: most connections sit idle, and tungstenite's defaults (128 KiB)
    // would cost that much memory per signed-in device.
    upgrade
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        .max_message_size(LARGEST_FRAME_READ)
        .max_frame_size(LARGEST_FRAME_READ)
        .on_upgrade(move |socket| {
            let digest = token_digest(&token);
            serve_device(socket, state, SignedIn { user: session.user, digest }, device, permit)
        })
}

/// Whose sign-in a connection holds.
struct SignedIn {
    user: UserId,
    digest: String,
}

async fn serve_device(
    mut socket: WebSocket,
    state: AppState,
    signed_in: SignedIn,
    device: DeviceId,
    _permit: OwnedSemaphorePermit,
) {
    let SignedIn { user, digest } = signed_in;
    let (exchange, media) = (state.exchange.clone(), state.media.clone());
    let mut sign_outs = state.sign_outs.subscribe();
    let mut events = match exchange.attach(user, device).await {
        Ok(events) => events,
        Err(error) => {
            let _ = socket.send(text(&reply_error(None, error))).await;
            return;
        }
    };
    let mut greeted = false;
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(frame))) => {
                    let reply = match parse_request(frame.as_str()) {
                        Ok(request) if !greeted && !matches!(request.body, RequestBody::Hello { .. } | RequestBody::Ping) => {
                            reply_error(Some(request.id), ErrorBody::new(
                                "hello_required",
                                "Send \"hello\" with your protocol version first.",
                            ))
                        }
                        Ok(Request { id, body: RequestBody::MediaOffer { sdp } }) => {
                            match media.offer(device, sdp).await {
                                Ok(sdp) => reply_ok(id, ReplyBody::MediaAnswer { sdp }),
                                Err(error) => reply_error(Some(id), error),
                            }
                        }
                        Ok(request) => {
                            let is_hello = matches!(request.body, RequestBody::Hello { .. });
                            let reply = exchange.request(device, request).await;
                            greeted |= is_hello && matches!(reply, ServerMessage::Reply { result: ReplyResult::Ok(_), .. });
                            reply
                        }
                        Err(rejected) => rejected.into(),
                    };
                    if send_with_pending_events(&mut socket, reply, &mut events).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    let reply = reply_error(None, ErrorBody::new("bad_request", "Send requests as JSON text frames, not binary."));
                    if socket.send(text(&reply)).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Err(error)) if is_too_large(&error) => {
                    close_too_large(&mut socket).await;
                    break;
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            },
            signed_out = sign_outs.recv() => {
                let reason = match signed_out {
                    Ok(signed_out) if signed_out.ends(&digest, user) => Some(signed_out.reason),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_))
                        if !state.session_holds(&digest) =>
                    {
                        Some("Your sign-in has ended; sign in again.".into())
                    }
                    _ => None,
                };
                if let Some(reason) = reason {
                    close_signed_out(&mut socket, &reason).await;
                    break;
                }
            }
            event = events.recv() => match event {
                Some(event) => {
                    let event = ServerMessage::Event { event: *event };
                    if send_with_pending_events(&mut socket, event, &mut events).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
        }
    }
    exchange.detach(device).await;
    media.remove(device);
}

/// The sign-in ended: the device is told why in the close frame (its code tells a
/// client to sign in again rather than reconnect).
async fn close_signed_out(socket: &mut WebSocket, reason: &str) {
    tracing::info!(%reason, "closing a signed-out connection");
    let close = axum::extract::ws::CloseFrame {
        code: callpark_wire::CLOSE_SIGNED_OUT,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(close))).await;
}

/// Frames up to this size get a `frame_too_large` reply and the connection stays;
/// larger ones are not read whole: the connection is closed (see `close_too_large`).
const LARGEST_FRAME_READ: usize = MAX_FRAME_BYTES * 4;

fn is_too_large(error: &axum::Error) -> bool {
    std::error::Error::source(error)
        .and_then(|inner| inner.downcast_ref::<tungstenite::Error>())
        .is_some_and(|inner| matches!(inner, tungstenite::Error::Capacity(_)))
}

/// A frame too large to read: the rest of it cannot be skipped, so the connection
/// ends, but with the reason in a last reply and in the close frame (1009, "message
/// too big"), never silently.
async fn close_too_large(socket: &mut WebSocket) {
    let message = format!(
        "A frame was over {LARGEST_FRAME_READ} bytes (requests are at most {MAX_FRAME_BYTES}); \
         the connection is closed."
    );
    tracing::info!("signaling frame over the size limit; closing");
    let reply = reply_error(None, ErrorBody::new("frame_too_large", message));
    let _ = socket.send(text(&reply)).await;
    let close = axum::extract::ws::CloseFrame {
        code: axum::extract::ws::close_code::SIZE,
        reason: "frame_too_large".into(),
    };
    let _ = socket.send(Message::Close(Some(close))).await;
    // The rest of the frame is unread: closing the socket now would reset the
    // connection before the client reads why. A moment's grace lets it finish
    // writing and read the reply.
    tokio::time::sleep(TOO_LARGE_GRACE).await;
}

const TOO_LARGE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// Sends `first` and every event already waiting, in order, with one flush: one
/// park or retrieve makes a reply and events for the same device, and a write per
/// message would cost a system call each.
async fn send_with_pending_events(
    socket: &mut WebSocket,
    first: ServerMessage,
    events: &mut DeviceEvents,
) -> Result<(), axum::Error> {
    socket.feed(text(&first)).await?;
    while let Ok(event) = events.try_recv() {
        socket.feed(text(&ServerMessage::Event { event: *event })).await?;
    }
    socket.flush().await
}

fn text(message: &ServerMessage) -> Message {
    Message::Text(message.to_json().into())
}
