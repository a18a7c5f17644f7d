//! The network front: `/healthz`, sign-in (see `signin`), the admin API (see
//! `admin`), and `/ws`, the signaling WebSocket (bearer token in the
//! `Authorization` header, or `?ticket=` with a single-use ticket from
//! `/api/v1/ws-ticket` for browsers, which cannot set headers on a WebSocket; never
//! the token in the URL, where logs keep it).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use callpark_park::{DeviceId, UserId};
use callpark_wire::{
    ErrorBody, MAX_FRAME_BYTES, ReplyBody, ReplyResult, Request, RequestBody, ServerMessage,
    parse_request, reply_error, reply_ok,
};
use futures_util::SinkExt;
use serde::Deserialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::OwnedSemaphorePermit;
use tokio_rustls::rustls::ServerConfig;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::accounts::token_digest;
use crate::exchange::{Departure, DeviceEvents};
use crate::extract::{QueryParams, bearer};
use crate::refusal::Refusal;
use crate::routing::{Route, route};
use crate::state::AppState;
use crate::tls::TlsListener;

const SOCKET_BUFFER_BYTES: usize = 4 * 1024;

/// Most signaling connections served at once, unless configured otherwise.
pub const DEFAULT_MAX_CONNECTIONS: usize = 20_000;

/// Health and signaling; [`router`] adds sign-in and the admin API.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(|| async { "ok" })).route("/ws", get(signaling))
}

/// Every route of the service, with refusals for unknown addresses and methods.
pub fn router(state: AppState) -> Router {
    let cors = cors(state.allowed_origins.clone());
    routes()
        .merge(crate::signin::routes())
        .merge(crate::admin::routes())
        .merge(crate::web_app::routes())
        .fallback(|| async {
            crate::refusal::response(
                StatusCode::NOT_FOUND,
                "not_found",
                "There is nothing at this address.",
            )
        })
        .method_not_allowed_fallback(|| async {
            crate::refusal::response(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This address does not take that method.",
            )
        })
        .with_state(state)
        .layer(cors)
}

/// Pages from the allowed origins (and only those) may call the API: a browser's
/// preflight is answered for them, and their requests' replies say they may read
/// them. The service's own pages need none of this.
fn cors(allowed: Arc<[String]>) -> CorsLayer {
    let origin = AllowOrigin::predicate(move |origin, _| {
        origin.to_str().is_ok_and(|origin| allowed.contains(&crate::state::normal_origin(origin)))
    });
    CorsLayer::new()
        .allow_origin(origin)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(10 * 60))
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
    let stopping = state.stopping.clone();
    // How many signaling connections were open when the stop began (by the time the
    // HTTP server has drained, most have sent their close frame and gone).
    let open_at_stop = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let shutdown = {
        let (stopping, open_at_stop) = (stopping.clone(), open_at_stop.clone());
        async move {
            shutdown.await;
            open_at_stop.store(stopping.receiver_count(), std::sync::atomic::Ordering::Relaxed);
            stopping.send_replace(true);
        }
    };
    // `tap_io` also gives both listeners axum's `ConnectInfo<SocketAddr>`.
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let address = listener.local_addr()?;
    let served = match tls {
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
    };
    // Upgraded connections outlive the HTTP server: wait until each has sent its
    // close frame, so that no device sees a reset it would take for a crash.
    let open = open_at_stop.load(std::sync::atomic::Ordering::Relaxed);
    if tokio::time::timeout(CLOSING_WAIT, stopping.closed()).await.is_err() {
        tracing::warn!(
            still_open = stopping.receiver_count(),
            "signaling connections still closing at shutdown"
        );
    } else {
        tracing::info!(closed = open, "every signaling connection told the service is restarting");
    }
    served
}

/// How long shutdown waits for signaling connections to send their close frames.
const CLOSING_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Debug, Deserialize)]
struct SignalingQuery {
    ticket: Option<String>,
    /// Refused: a token in a URL ends up in logs.
    token: Option<String>,
}

/// Whose sign-in a signaling connection is for: the `Authorization` header's token,
/// or a ticket (used up here).
fn signaling_sign_in(
    state: &AppState,
    headers: &HeaderMap,
    query: SignalingQuery,
) -> Result<SignedIn, Refusal> {
    let unauthorized =
        |message: &str| Refusal::new(StatusCode::UNAUTHORIZED, "unauthorized", message);
    if query.token.is_some() {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "token_in_url",
            "A token in the URL ends up in logs, so it is not taken: send it as \
             \"Authorization: Bearer <token>\", or open /ws?ticket=<ticket> with a \
             single-use ticket from POST /api/v1/ws-ticket.",
        ));
    }
    if let Some(ticket) = query.ticket {
        let redeemed =
            state.tickets.lock().ok().and_then(|mut tickets| tickets.redeem(&ticket, state.now()));
        return match redeemed {
            Some(redeemed) if state.session_holds(&redeemed.session_digest) => {
                Ok(SignedIn { user: redeemed.user, digest: redeemed.session_digest })
            }
            Some(_) => {
                Err(unauthorized("The sign-in this ticket was for has ended; sign in again."))
            }
            None => Err(unauthorized(
                "The ticket is unknown, used or expired (a ticket works once, within 30 s); \
                 get a new one from POST /api/v1/ws-ticket.",
            )),
        };
    }
    let Some(token) = bearer(headers) else {
        return Err(unauthorized(
            "Sign in first: send the token from /api/v1/login as \"Authorization: Bearer <token>\" \
             (or, from a browser, open /ws?ticket=<ticket> with a ticket from POST /api/v1/ws-ticket).",
        ));
    };
    let Some(session) = state.session(&token) else {
        return Err(unauthorized("The token is unknown or has expired; sign in again."));
    };
    Ok(SignedIn { user: session.user, digest: token_digest(&token) })
}

async fn signaling(
    State(state): State<AppState>,
    headers: HeaderMap,
    QueryParams(query): QueryParams<SignalingQuery>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Err(refused) = state.origin_allowed(&headers) {
        return refused.into_response();
    }
    let signed_in = match signaling_sign_in(&state, &headers, query) {
        Ok(signed_in) => signed_in,
        Err(refused) => return refused.into_response(),
    };
    let Ok(permit) = state.connections.clone().try_acquire_owned() else {
        tracing::warn!("connection limit reached; refusing a signaling connection");
        return crate::refusal::response(
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
        .on_upgrade(move |socket| serve_device(socket, state, signed_in, device, permit))
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
    let mut stopping = state.stopping.subscribe();
    let mut events = match exchange.attach(user, device).await {
        Ok(events) => events,
        Err(error) => {
            let _ = socket.send(text(&reply_error(None, error))).await;
            return;
        }
    };
    let connection = device;
    let mut device = device;
    let mut greeted = false;
    let mut heartbeat =
        tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_heard = tokio::time::Instant::now();
    let departure = loop {
        tokio::select! {
            incoming = socket.recv() => {
                last_heard = tokio::time::Instant::now();
                match incoming {
                Some(Ok(Message::Text(frame))) => {
                    let reply = match parse_request(frame.as_str()) {
                        Ok(request) if !greeted && !matches!(request.body, RequestBody::Hello { .. } | RequestBody::Ping) => {
                            reply_error(Some(request.id), ErrorBody::new(
                                "hello_required",
                                "Send \"hello\" with your protocol version first.",
                            ))
                        }
                        Ok(Request { id, body }) => match route(body) {
                            Route::Media { sdp } => match media.offer(device, sdp).await {
                                Ok(sdp) => reply_ok(id, ReplyBody::MediaAnswer { sdp }),
                                Err(error) => reply_error(Some(id), error),
                            },
                            Route::Exchange { request, kind } => {
                                let reply = exchange.request(device, id, kind, request).await;
                                // A hello that resumed an earlier device makes this
                                // connection that device.
                                if let ServerMessage::Reply { result: ReplyResult::Ok(ReplyBody::Welcome(welcome)), .. } = &reply {
                                    greeted = true;
                                    device = DeviceId(welcome.device);
                                }
                                reply
                            }
                        },
                        Err(rejected) => rejected.into(),
                    };
                    if send_with_pending_events(&mut socket, reply, &mut events).await.is_err() {
                        break Departure::Dropped;
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    let reply = reply_error(None, ErrorBody::new("bad_request", "Send requests as JSON text frames, not binary."));
                    if socket.send(text(&reply)).await.is_err() {
                        break Departure::Dropped;
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Err(error)) if is_too_large(&error) => {
                    close_too_large(&mut socket).await;
                    break Departure::SignedOff;
                }
                Some(Ok(Message::Close(Some(close)))) if close.code == axum::extract::ws::close_code::NORMAL => {
                    break Departure::SignedOff;
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => break Departure::Dropped,
            }},
            _ = heartbeat.tick() => {
                if last_heard.elapsed() >= SILENCE_LIMIT {
                    tracing::info!(device = device.0, silent_s = SILENCE_LIMIT.as_secs(), "signaling connection went silent; dropping it");
                    break Departure::Dropped;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break Departure::Dropped;
                }
            }
            () = until_stopping(&mut stopping) => {
                close_restarting(&mut socket).await;
                // Not detached: the device's calls and parks are in the store and
                // come back with the service, and whoever it talks to is being
                // closed too.
                return;
            }
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
                    break Departure::SignedOff;
                }
            }
            event = events.recv() => match event {
                Some(event) => {
                    let event = ServerMessage::Event { event: *event };
                    if send_with_pending_events(&mut socket, event, &mut events).await.is_err() {
                        break Departure::Dropped;
                    }
                }
                // Signed off by the exchange (too far behind), or taken over by a
                // newer connection of the same device.
                None => break Departure::SignedOff,
            },
        }
    };
    exchange.detach(device, connection, departure).await;
}

/// How often a connection is pinged, and how long it may stay silent.
const HEARTBEAT: std::time::Duration =
    std::time::Duration::from_secs(callpark_wire::HEARTBEAT_SECONDS);
const SILENCE_LIMIT: std::time::Duration =
    std::time::Duration::from_secs(callpark_wire::SILENCE_LIMIT_SECONDS);

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

/// Completes once the service is stopping (or its state is gone).
async fn until_stopping(stopping: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stopping| *stopping).await;
}

/// The service is stopping to restart: the device is told so (1012, "service
/// restart"), and reconnects with its resume token once the service is back.
async fn close_restarting(socket: &mut WebSocket) {
    let close = axum::extract::ws::CloseFrame {
        code: callpark_wire::CLOSE_RESTARTING,
        reason: "The service is restarting; calls and parked calls are kept.".into(),
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
