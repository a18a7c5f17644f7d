//! Sign-in: login names, argon2-hashed passwords, and expiring bearer tokens.
//! Kept in memory for now; the SQLite store takes it over with the rest of the data.

use std::collections::HashMap;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use callpark_park::{Timestamp, UserId};

/// How long a token from one login stays valid.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(12 * 3600);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccountError {
    #[error("Wrong login name or password.")]
    WrongCredentials,
    #[error("The login name {0:?} is taken.")]
    LoginTaken(String),
    #[error("Login names are 1 to 64 letters, digits, '.', '-' or '_'; {0:?} is not one.")]
    InvalidLogin(String),
    #[error("Passwords must be at least 8 characters long.")]
    PasswordTooShort,
    #[error("The password could not be hashed: {0}")]
    Hashing(String),
}

impl AccountError {
    pub fn code(&self) -> &'static str {
        match self {
            AccountError::WrongCredentials => "unauthorized",
            AccountError::LoginTaken(_) => "login_taken",
            AccountError::InvalidLogin(_) | AccountError::PasswordTooShort => "account_invalid",
            AccountError::Hashing(_) => "internal",
        }
    }
}

/// Who a valid token belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    pub user: UserId,
    pub admin: bool,
    pub expires_at: Timestamp,
}

#[derive(Debug)]
struct Account {
    user: UserId,
    password_hash: String,
    admin: bool,
}

#[derive(Debug, Default)]
pub struct Accounts {
    by_login: HashMap<String, Account>,
    tokens: HashMap<String, Session>,
}

impl Accounts {
    pub fn add(
        &mut self,
        login: &str,
        password: &str,
        user: UserId,
        admin: bool,
    ) -> Result<(), AccountError> {
        let key = login.to_lowercase();
        let valid = (1..=64).contains(&login.len())
            && login.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !valid {
            return Err(AccountError::InvalidLogin(login.to_owned()));
        }
        if password.chars().count() < 8 {
            return Err(AccountError::PasswordTooShort);
        }
        if self.by_login.contains_key(&key) {
            return Err(AccountError::LoginTaken(login.to_owned()));
        }
        let salt = SaltString::generate(&mut OsRng);
        let password_hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|error| AccountError::Hashing(error.to_string()))?
            .to_string();
        self.by_login.insert(key, Account { user, password_hash, admin });
        Ok(())
    }

    pub fn user_by_login(&self, login: &str) -> Option<UserId> {
        self.by_login.get(&login.to_lowercase()).map(|account| account.user)
    }

    /// Checks the password and issues a fresh token.
    pub fn login(
        &mut self,
        login: &str,
        password: &str,
        now: Timestamp,
    ) -> Result<(String, Session), AccountError> {
        let account =
            self.by_login.get(&login.to_lowercase()).ok_or(AccountError::WrongCredentials)?;
        let hash = PasswordHash::new(&account.password_hash)
            .map_err(|error| AccountError::Hashing(error.to_string()))?;
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .map_err(|_| AccountError::WrongCredentials)?;
        let session = Session {
            user: account.user,
            admin: account.admin,
            expires_at: now.after(TOKEN_LIFETIME),
        };
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        self.tokens.retain(|_, s| s.expires_at > now);
        self.tokens.insert(token.clone(), session);
        Ok((token, session))
    }

    /// The session a token stands for, if it exists and has not expired.
    pub fn verify(&self, token: &str, now: Timestamp) -> Option<Session> {
        self.tokens.get(token).copied().filter(|session| session.expires_at > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_issues_a_token_that_expires() {
        let mut accounts = Accounts::default();
        accounts.add("Alice", "correct horse", UserId(1), false).unwrap();
        let now = Timestamp::from_millis(1_000);
        assert_eq!(accounts.login("alice", "wrong", now), Err(AccountError::WrongCredentials));
        assert_eq!(
            accounts.login("nobody", "correct horse", now),
            Err(AccountError::WrongCredentials)
        );
        let (token, session) = accounts.login("ALICE", "correct horse", now).unwrap();
        assert_eq!(token.len(), 64);
        assert_eq!(session.user, UserId(1));
        assert_eq!(accounts.verify(&token, now).map(|s| s.user), Some(UserId(1)));
        assert_eq!(accounts.verify(&token, now.after(TOKEN_LIFETIME)), None);
        assert_eq!(accounts.verify("forged", now), None);
    }

    #[test]
    fn passwords_are_stored_hashed_and_accounts_validated() {
        let mut accounts = Accounts::default();
        accounts.add("bob", "s3cret-pass", UserId(2), true).unwrap();
        let stored = &accounts.by_login["bob"].password_hash;
        assert!(stored.starts_with("$argon2") && !stored.contains("s3cret-pass"));
        assert_eq!(
            accounts.add("Bob", "another-pass", UserId(3), false),
            Err(AccountError::LoginTaken("Bob".into()))
        );
        assert_eq!(
            accounts.add("b o b", "another-pass", UserId(3), false).unwrap_err().code(),
            "account_invalid"
        );
        assert_eq!(
            accounts.add("carol", "short", UserId(3), false),
            Err(AccountError::PasswordTooShort)
        );
    }
}
