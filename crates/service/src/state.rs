//! What every request handler shares: the exchange, the store, the sign-ins and
//! their throttle, the connection budget, and the sign-outs that close connections.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode, header};
use callpark_park::{Timestamp, UserId};
use tokio::sync::Semaphore;

use crate::accounts::{HashingPool, Session, Sessions, token_digest};
use crate::clock::Clock;
use crate::exchange::ExchangeHandle;
use crate::media::MediaHandle;
use crate::refusal::Refusal;
use crate::store::{Store, StoreWriter, Write};
use crate::throttle::LoginThrottle;

#[derive(Clone, Debug)]
pub struct AppState {
    pub(crate) exchange: ExchangeHandle,
    pub(crate) clock: Clock,
    pub(crate) store: Store,
    pub(crate) writer: StoreWriter,
    pub(crate) sessions: Arc<Mutex<Sessions>>,
    pub(crate) throttle: Arc<Mutex<LoginThrottle>>,
    pub(crate) connections: Arc<Semaphore>,
    pub(crate) hashing: HashingPool,
    pub(crate) next_device: Arc<AtomicU64>,
    pub(crate) media: MediaHandle,
    pub(crate) voicemail_dir: Arc<std::path::Path>,
    /// Sign-ins that ended, for the connections they hold to close.
    pub(crate) sign_outs: tokio::sync::broadcast::Sender<SignOut>,
    /// Web origins besides the service's own that may open `/ws`, lower case.
    pub(crate) allowed_origins: Arc<[String]>,
    /// Single-use tickets for `/ws?ticket=`.
    pub(crate) tickets: Arc<Mutex<crate::tickets::Tickets>>,
    /// Set when the service stops: every signaling connection closes saying it is
    /// restarting. Each connection holds a receiver, so the sender sees when all
    /// have closed.
    pub(crate) stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

/// A sign-in that ended while its connections may be open.
#[derive(Clone, Debug)]
pub(crate) struct SignOut {
    whose: Signed,
    /// Said to the device in the close frame.
    pub(crate) reason: Arc<str>,
}

#[derive(Clone, Debug)]
enum Signed {
    /// One token (its digest): a logout.
    Token(Arc<str>),
    /// Every token of a user.
    User(UserId),
}

impl SignOut {
    pub(crate) fn ends(&self, digest: &str, user: UserId) -> bool {
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
            clock: exchange.clock(),
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
            tickets: Arc::default(),
            stopping: Arc::new(tokio::sync::watch::channel(false).0),
        }
    }

    /// The service's time now.
    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Device ids from here on (above those of devices restored after a restart).
    pub fn with_first_device(self, first: u64) -> Self {
        self.next_device.store(first.max(1), std::sync::atomic::Ordering::Relaxed);
        self
    }

    /// Lets pages from these origins (scheme://host[:port]) open `/ws` too.
    pub fn with_allowed_origins(mut self, origins: &[String]) -> Self {
        self.allowed_origins = origins.iter().map(|origin| normal_origin(origin)).collect();
        self
    }

    /// A browser says which page opens a WebSocket (`Origin`); a page from anywhere
    /// holding a token must not, so only the service's own origin and the configured
    /// ones may. Clients that are not browsers send no `Origin` and are let in.
    pub(crate) fn origin_allowed(&self, headers: &HeaderMap) -> Result<(), Refusal> {
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
        self.sessions.lock().ok()?.verify(token, self.now())
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

    pub(crate) fn session_holds(&self, digest: &str) -> bool {
        self.sessions.lock().is_ok_and(|sessions| sessions.holds(digest, self.now()))
    }
}

/// An origin as compared: lower case, no trailing slash.
pub(crate) fn normal_origin(origin: &str) -> String {
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
