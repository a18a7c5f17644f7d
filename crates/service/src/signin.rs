//! Signing in and out: `POST /api/v1/login` (the password checked off the runtime,
//! attempts throttled per account and per address), `POST /api/v1/logout`, and
//! `POST /api/v1/ws-ticket` (see `tickets`).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use callpark_wire::admin::{LoginReply, LoginRequest, WsTicket};

use crate::accounts::{hash_password, random_token, token_digest, verify_password_in};
use crate::clock::Clock;
use crate::extract::{Body, bearer};
use crate::refusal::{Refusal, response};
use crate::state::AppState;
use crate::store::Write;
use crate::throttle::{ADDRESS_IN_FLIGHT, Admitted, Locked, LoginThrottle};
use crate::tickets::TICKET_LIFETIME;

/// The sign-in routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/login", post(login))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/ws-ticket", post(ws_ticket))
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
        let admitted = state.throttle.lock().map_err(|_| None)?.admit(login, address, state.now());
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
    clock: Clock,
}

impl Attempt {
    fn finish(mut self, login: &str, succeeded: bool) {
        if let (Some(admitted), Ok(mut throttle)) = (self.admitted.take(), self.throttle.lock())
            && let Some(lock) = throttle.finished(admitted, succeeded, self.clock.now())
        {
            tracing::info!(%login, seconds = lock.as_secs(), "account locked after failed sign-ins");
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if let (Some(admitted), Ok(mut throttle)) = (self.admitted.take(), self.throttle.lock()) {
            throttle.abandoned(admitted, self.clock.now());
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
    let attempt =
        Attempt { throttle: state.throttle.clone(), admitted: Some(attempt), clock: state.clock };
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
        return response(StatusCode::UNAUTHORIZED, "unauthorized", "Wrong login name or password.");
    };
    let issued = match state.sessions.lock() {
        Ok(mut sessions) => Some(sessions.issue(user, state.now())),
        Err(_) => None,
    };
    let Some((token, digest, session)) = issued else {
        return Refusal::internal("The sign-in check failed.").into_response();
    };
    // Durable before acknowledged: a token handed out must still work after a crash.
    let saved = state.writer.write_and_confirm(Write::SaveSession { digest, session });
    if !matches!(saved.await, Ok(Ok(()))) {
        // The token never leaves the service, so the session it names is of no use.
        return Refusal::internal("The sign-in could not be saved; try again.").into_response();
    }
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
        return response(
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
        Ok(false) => response(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "The token is unknown or has expired: it is signed out already.",
        ),
        Err(refused) => refused.into_response(),
    }
}

/// A single-use ticket to open `/ws?ticket=` with this sign-in, for a browser (which
/// cannot set headers on a WebSocket): the token itself never goes in a URL.
#[utoipa::path(post, path = "/api/v1/ws-ticket", tag = "sign-in", security(("bearer" = [])),
    responses((status = 200, body = WsTicket), (status = 401, body = callpark_wire::admin::ApiError),
        (status = 429, body = callpark_wire::admin::ApiError)))]
pub(crate) async fn ws_ticket(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(session) = bearer(&headers).and_then(|token| {
        state.session(&token).map(|session| (session.user, token_digest(&token)))
    }) else {
        return response(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Sign in first: send the token from /api/v1/login as \"Authorization: Bearer <token>\".",
        );
    };
    let (user, digest) = session;
    let issued = state.tickets.lock().map_err(|_| ()).and_then(|mut tickets| {
        tickets.issue(user, digest, state.now()).map_err(|too_many| {
            tracing::warn!(%too_many, "ticket refused");
        })
    });
    match issued {
        Ok(ticket) => Json(WsTicket {
            ticket,
            expires_in_ms: u64::try_from(TICKET_LIFETIME.as_millis()).unwrap_or(u64::MAX),
        })
        .into_response(),
        Err(()) => response(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_tickets",
            "Too many tickets are waiting to be used; try again in a few seconds.",
        ),
    }
}

/// An argon2 hash of a random password nobody knows, checked for unknown logins.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}
