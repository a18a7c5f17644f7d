//! Sign-in: login name rules, argon2 password hashes, and expiring bearer tokens.

use std::collections::HashMap;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
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

/// Checks the password rules and hashes it (argon2id, random salt). Slow on purpose:
/// call it off the async workers.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err(AccountError::PasswordTooShort);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| AccountError::Hashing(error.to_string()))
}

/// Whether `password` matches a stored hash. Slow on purpose.
pub fn verify_password(password: &str, password_hash: &str) -> bool {
    PasswordHash::new(password_hash)
        .is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
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
#[derive(Debug, Default)]
pub struct Sessions {
    tokens: HashMap<String, Session>,
}

impl Sessions {
    pub fn issue(&mut self, user: UserId, now: Timestamp) -> (String, Session) {
        self.tokens.retain(|_, session| session.expires_at > now);
        let session = Session { user, expires_at: now.after(TOKEN_LIFETIME) };
        let token = random_token();
        self.tokens.insert(token.clone(), session);
        (token, session)
    }

    /// The session a token stands for, if it exists and has not expired.
    pub fn verify(&self, token: &str, now: Timestamp) -> Option<Session> {
        self.tokens.get(token).copied().filter(|session| session.expires_at > now)
    }

    /// Ends every session of a removed user.
    pub fn revoke_user(&mut self, user: UserId) {
        self.tokens.retain(|_, session| session.user != user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_expire_and_can_be_revoked() {
        let mut sessions = Sessions::default();
        let now = Timestamp::from_millis(1_000);
        let (token, session) = sessions.issue(UserId(1), now);
        assert_eq!(token.len(), 64);
        assert_eq!(session.user, UserId(1));
        assert_eq!(sessions.verify(&token, now).map(|s| s.user), Some(UserId(1)));
        assert_eq!(sessions.verify(&token, now.after(TOKEN_LIFETIME)), None);
        assert_eq!(sessions.verify("forged", now), None);
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
    fn login_names_are_checked() {
        assert!(check_login("alice.m-1_x").is_ok());
        for bad in ["", "b o b", "bob@home", &"x".repeat(65)] {
            assert!(matches!(check_login(bad), Err(AccountError::InvalidLogin(_))), "{bad:?}");
        }
    }
}
