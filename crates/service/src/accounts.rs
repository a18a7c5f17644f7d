//! Sign-in: login name rules, argon2 password hashes, and expiring bearer tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use blake2::{Blake2s256, Digest};
use callpark_park::{Timestamp, UserId};

/// How long a token from one login stays valid.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(12 * 3600);
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const LOGIN_MAX_CHARS: usize = 64;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccountError {
    #[error("Wrong login name or password.")]
    WrongCredentials,
    #[error(
        "Login names are 1 to {LOGIN_MAX_CHARS} letters, digits, '.', '-' or '_'; {0:?} is not one."
    )]
    InvalidLogin(String),
    #[error("Passwords must be at least {PASSWORD_MIN_CHARS} characters long.")]
    PasswordTooShort,
    #[error("The password could not be hashed: {0}")]
    Hashing(String),
}

pub fn check_login(login: &str) -> Result<(), AccountError> {
    let valid = (1..=LOGIN_MAX_CHARS).contains(&login.len())
        && login.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if valid { Ok(()) } else { Err(AccountError::InvalidLogin(login.to_owned())) }
}

/// argon2's working memory (19 MiB at the default cost). A hashing thread keeps one
/// and reuses it: allocating it per hash makes glibc raise its mmap threshold and
/// keep every freed buffer (measured: 10 sign-ins grew the service by 195 MB).
#[derive(Debug, Default)]
pub struct HashMemory(Vec<Block>);

/// Checks the password rules and hashes it (argon2id, random salt). Slow on purpose:
/// run it on the [`HashingPool`].
pub fn hash_password_in(memory: &mut HashMemory, password: &str) -> Result<String, AccountError> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err(AccountError::PasswordTooShort);
    }
    let hashing = |error: password_hash::Error| AccountError::Hashing(error.to_string());
    let salt = SaltString::generate(&mut OsRng);
    let argon = Argon2::default();
    let output = compute(memory, password, &argon, salt.as_salt(), Params::DEFAULT_OUTPUT_LEN)
        .map_err(hashing)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params()).map_err(hashing)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches a stored hash (compared in constant time). Slow on
/// purpose: run it on the [`HashingPool`].
pub fn verify_password_in(memory: &mut HashMemory, password: &str, stored: &str) -> bool {
    let mut check = || -> password_hash::Result<bool> {
        let hash = PasswordHash::new(stored)?;
        let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else { return Ok(false) };
        let version = hash.version.map(Version::try_from).transpose()?.unwrap_or_default();
        let argon =
            Argon2::new(Algorithm::try_from(hash.algorithm)?, version, Params::try_from(&hash)?);
        Ok(compute(memory, password, &argon, salt, expected.len())? == expected)
    };
    check().unwrap_or(false)
}

fn compute(
    memory: &mut HashMemory,
    password: &str,
    argon: &Argon2<'_>,
    salt: Salt<'_>,
    output_len: usize,
) -> password_hash::Result<Output> {
    let mut salt_buffer = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buffer)?;
    memory.0.resize(argon.params().block_count(), Block::default());
    Output::init_with(output_len, |out| {
        Ok(argon.hash_password_into_with_memory(password.as_bytes(), salt, out, &mut memory.0)?)
    })
}

/// [`hash_password_in`] with memory of its own, for start-up and tests.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    hash_password_in(&mut HashMemory::default(), password)
}

/// [`verify_password_in`] with memory of its own, for tests.
pub fn verify_password(password: &str, stored: &str) -> bool {
    verify_password_in(&mut HashMemory::default(), password, stored)
}

type HashJob = Box<dyn FnOnce(&mut HashMemory) + Send>;

/// Threads that do argon2 work, one per core, each with its own [`HashMemory`]:
/// off the async workers, at most one hash per core at a time (a burst of sign-ins
/// queues instead of taking gigabytes and the switchboard's CPU), and memory
/// allocated once. The threads end when the last handle is dropped.
#[derive(Clone, Debug)]
pub struct HashingPool {
    jobs: std::sync::mpsc::Sender<HashJob>,
}

impl Default for HashingPool {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let (jobs, queue) = std::sync::mpsc::channel::<HashJob>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..cores {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || hashing_thread(&queue));
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a password hashing thread");
            }
        }
        Self { jobs }
    }
}

fn hashing_thread(queue: &Mutex<std::sync::mpsc::Receiver<HashJob>>) {
    let mut memory = HashMemory::default();
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        // A job that panics loses its answer (the caller sees `None`), not the thread.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut memory)));
        if outcome.is_err() {
            tracing::error!("a password hashing job panicked");
            memory = HashMemory::default();
        }
    }
}

impl HashingPool {
    /// Runs `job` on a hashing thread; `None` if it could not run or panicked.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut HashMemory) -> T + Send + 'static,
    ) -> Option<T> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: HashJob = Box::new(move |memory| {
            let _ = answer.send(job(memory));
        });
        self.jobs.send(job).ok()?;
        answered.await.ok()
    }
}

/// A random secret as 64 hex digits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Who a valid token belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    pub user: UserId,
    pub expires_at: Timestamp,
}

/// Issued tokens. Whether the user still exists, and is an admin, is checked where
/// the token is used.
/// A token's digest (BLAKE2s, hex): what the service keeps, in memory and on disk,
/// instead of the token itself.
pub fn token_digest(token: &str) -> String {
    Blake2s256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Live sign-in sessions by token digest.
#[derive(Debug, Default)]
pub struct Sessions {
    by_digest: HashMap<String, Session>,
}

impl Sessions {
    /// Sessions as stored; expired ones are left out.
    pub fn restore(stored: impl IntoIterator<Item = (String, Session)>, now: Timestamp) -> Self {
        let by_digest =
            stored.into_iter().filter(|(_, session)| session.expires_at > now).collect();
        Self { by_digest }
    }

    /// A new token for `user`, with its digest (to store) and session.
    pub fn issue(&mut self, user: UserId, now: Timestamp) -> (String, String, Session) {
        self.by_digest.retain(|_, session| session.expires_at > now);
        let session = Session { user, expires_at: now.after(TOKEN_LIFETIME) };
        let token = random_token();
        let digest = token_digest(&token);
        self.by_digest.insert(digest.clone(), session);
        (token, digest, session)
    }

    /// The session a token stands for, if it exists and has not expired.
    pub fn verify(&self, token: &str, now: Timestamp) -> Option<Session> {
        self.by_digest.get(&token_digest(token)).copied().filter(|session| session.expires_at > now)
    }

    /// Ends every session of a user.
    pub fn revoke_user(&mut self, user: UserId) {
        self.by_digest.retain(|_, session| session.user != user);
    }

    /// Ends one session; the session it was, if it existed.
    pub fn revoke(&mut self, digest: &str) -> Option<Session> {
        self.by_digest.remove(digest)
    }

    /// Whether the session with this digest still holds.
    pub fn holds(&self, digest: &str, now: Timestamp) -> bool {
        self.by_digest.get(digest).is_some_and(|session| session.expires_at > now)
    }

    pub fn len(&self) -> usize {
        self.by_digest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_expire_and_can_be_revoked() {
        let mut sessions = Sessions::default();
        let now = Timestamp::from_millis(1_000);
        let (token, digest, session) = sessions.issue(UserId(1), now);
        assert_eq!(token.len(), 64);
        assert_eq!(digest, token_digest(&token));
        assert_ne!(digest, token, "only the digest is kept");
        assert_eq!(session.user, UserId(1));
        assert_eq!(sessions.verify(&token, now).map(|s| s.user), Some(UserId(1)));
        assert_eq!(sessions.verify(&token, now.after(TOKEN_LIFETIME)), None);
        assert_eq!(sessions.verify("forged", now), None);
        let restored = Sessions::restore([(digest.clone(), session)], now);
        assert_eq!(restored.verify(&token, now).map(|s| s.user), Some(UserId(1)));
        let expired = Sessions::restore([(digest, session)], now.after(TOKEN_LIFETIME));
        assert!(expired.is_empty());
        sessions.revoke_user(UserId(1));
        assert_eq!(sessions.verify(&token, now), None);
    }

    #[test]
    fn passwords_are_stored_hashed_and_checked() {
        let hash = hash_password("s3cret-pass").unwrap();
        assert!(hash.starts_with("$argon2") && !hash.contains("s3cret-pass"));
        assert!(verify_password("s3cret-pass", &hash));
        assert!(!verify_password("s3cret-Pass", &hash));
        assert!(!verify_password("s3cret-pass", "not a hash"));
        assert_eq!(hash_password("short"), Err(AccountError::PasswordTooShort));
    }

    #[test]
    fn hashes_agree_with_the_argon2_crates_own_hasher_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let mut memory = HashMemory::default();
        let ours = hash_password_in(&mut memory, "s3cret-pass").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"s3cret-pass", &parsed).is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default().hash_password(b"other-pass", &salt).unwrap().to_string();
        assert!(verify_password_in(&mut memory, "other-pass", &theirs));
        assert!(!verify_password_in(&mut memory, "other-pasS", &theirs));
    }

    #[tokio::test]
    async fn the_pool_hashes_off_the_async_workers_and_reuses_its_memory() {
        let pool = HashingPool::default();
        let hash = pool.run(|memory| hash_password_in(memory, "s3cret-pass")).await.unwrap();
        let hash = hash.unwrap();
        let checks: Vec<_> = (0..4)
            .map(|n| {
                let pool = pool.clone();
                let hash = hash.clone();
                let password = if n % 2 == 0 { "s3cret-pass" } else { "wrong-pass" };
                tokio::spawn(async move {
                    pool.run(move |memory| verify_password_in(memory, password, &hash)).await
                })
            })
            .collect();
        let mut results = Vec::new();
        for check in checks {
            results.push(check.await.unwrap());
        }
        assert_eq!(results, vec![Some(true), Some(false), Some(true), Some(false)]);
        let panicked = pool.run(|_| -> bool { panic!("a job that fails") }).await;
        assert_eq!(panicked, None);
        let after = pool.run(move |memory| verify_password_in(memory, "s3cret-pass", &hash)).await;
        assert_eq!(after, Some(true), "the pool still works after a panicking job");
    }

    #[test]
    fn login_names_are_checked() {
        assert!(check_login("alice.m-1_x").is_ok());
        for bad in ["", "b o b", "bob@home", &"x".repeat(65)] {
            assert!(matches!(check_login(bad), Err(AccountError::InvalidLogin(_))), "{bad:?}");
        }
    }
}
