//! The network front: `/healthz`, `POST /api/v1/login`, and `/ws`, the signaling
//! WebSocket (bearer token in the `Authorization` header, or `?token=` for
//! browsers, which cannot set headers on a WebSocket).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use callpark_park::{DeviceId, Timestamp, UserId};
use callpark_wire::{
    ErrorBody, MAX_FRAME_BYTES, ReplyResult, RequestBody, ServerMessage, parse_request, reply_error,
};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::accounts::{AccountError, Accounts};
use crate::exchange::ExchangeHandle;

#[derive(Clone, Debug)]
pub struct AppState {
    exchange: ExchangeHandle,
    accounts: Arc<Mutex<Accounts>>,
    next_device: Arc<AtomicU64>,
}

impl AppState {
    pub fn new(exchange: ExchangeHandle, accounts: Accounts) -> Self {
        Self {
            exchange,
            accounts: Arc::new(Mutex::new(accounts)),
            next_device: Arc::new(AtomicU64::new(1)),
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/v1/login", post(login))
        .route("/ws", get(signaling))
        .with_state(state)
}

/// Serves until `shutdown` completes, then stops accepting and drains requests.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tracing::info!(address = ?listener.local_addr().ok(), "listening");
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}

fn now() -> Timestamp {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp::from_millis(u64::try_from(since_epoch.as_millis()).unwrap_or(0))
}

fn refusal(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, Json(ErrorBody::new(code, message))).into_response()
}

#[derive(Debug, Deserialize)]
struct LoginRequest {
    login: String,
    password: String,
}

#[derive(Debug, Serialize)]
struct LoginReply {
    token: String,
    expires_at_ms: u64,
    user: u64,
    admin: bool,
}

async fn login(State(state): State<AppState>, Json(request): Json<LoginRequest>) -> Response {
    let accounts = state.accounts.clone();
    // Verifying an argon2 hash takes real CPU time: keep it off the async workers.
    let outcome = tokio::task::spawn_blocking(move || {
        let mut accounts =
            accounts.lock().map_err(|_| AccountError::Hashing("lock poisoned".into()))?;
        accounts.login(&request.login, &request.password, now())
    })
    .await;
    match outcome {
        Ok(Ok((token, session))) => Json(LoginReply {
            token,
            expires_at_ms: session.expires_at.as_millis(),
            user: session.user.0,
            admin: session.admin,
        })
        .into_response(),
        Ok(Err(error @ AccountError::WrongCredentials)) => {
            tracing::info!("login refused");
            refusal(StatusCode::UNAUTHORIZED, error.code(), error.to_string())
        }
        Ok(Err(error)) => {
            refusal(StatusCode::INTERNAL_SERVER_ERROR, error.code(), error.to_string())
        }
        Err(_) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "internal", "The login check failed."),
    }
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|token| token.trim().to_owned())
}

async fn signaling(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(token) = bearer(&headers).or(query.token) else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Sign in first: send the token from /api/v1/login as \"Authorization: Bearer <token>\".",
        );
    };
    let session = state.accounts.lock().ok().and_then(|accounts| accounts.verify(&token, now()));
    let Some(session) = session else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "The token is unknown or has expired; sign in again.",
        );
    };
    let device = DeviceId(state.next_device.fetch_add(1, Ordering::Relaxed));
    // Frames somewhat over the protocol limit still arrive, so that they can be
    // answered with `frame_too_large`; far larger ones close the connection.
    upgrade
        .max_message_size(MAX_FRAME_BYTES * 4)
        .max_frame_size(MAX_FRAME_BYTES * 4)
        .on_upgrade(move |socket| serve_device(socket, state.exchange, session.user, device))
}

async fn serve_device(
    mut socket: WebSocket,
    exchange: ExchangeHandle,
    user: UserId,
    device: DeviceId,
) {
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
                        Ok(request) => {
                            let is_hello = matches!(request.body, RequestBody::Hello { .. });
                            let reply = exchange.request(device, request).await;
                            greeted |= is_hello && matches!(reply, ServerMessage::Reply { result: ReplyResult::Ok(_), .. });
                            reply
                        }
                        Err(rejected) => rejected.into(),
                    };
                    if socket.send(text(&reply)).await.is_err() {
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
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            },
            event = events.recv() => match event {
                Some(event) => {
                    if socket.send(text(&event)).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
        }
    }
    exchange.detach(device).await;
}

fn text(message: &ServerMessage) -> Message {
    Message::Text(message.to_json().into())
}
