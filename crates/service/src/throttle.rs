//! Slows down password guessing: after a few failed logins for one account, or many
//! from one address, further attempts are refused for a while that doubles with each
//! new failure (capped). A success clears the account's record.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::Duration;

use callpark_park::Timestamp;

/// Failures allowed per account before it is locked for a while.
pub const ACCOUNT_FREE_FAILURES: u32 = 5;
/// Failures allowed per client address (across accounts) before it is locked.
pub const ADDRESS_FREE_FAILURES: u32 = 20;
const FIRST_LOCK: Duration = Duration::from_secs(1);
const LONGEST_LOCK: Duration = Duration::from_secs(15 * 60);
/// A record with no failure for this long is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    locked_until: Timestamp,
    last: Timestamp,
}

#[derive(Debug)]
struct Limiter<K> {
    free: u32,
    records: HashMap<K, Failures>,
}

impl<K: Eq + Hash> Limiter<K> {
    fn new(free: u32) -> Self {
        Self { free, records: HashMap::new() }
    }

    fn wait(&self, key: &K, now: Timestamp) -> Option<Duration> {
        let record = self.records.get(key)?;
        let wait = record.locked_until.as_millis().saturating_sub(now.as_millis());
        (wait > 0).then(|| Duration::from_millis(wait))
    }

    fn fail(&mut self, key: K, now: Timestamp) {
        let record =
            self.records.entry(key).or_insert(Failures { count: 0, locked_until: now, last: now });
        record.count += 1;
        record.last = now;
        if record.count > self.free {
            let doublings = (record.count - self.free - 1).min(20);
            let lock = FIRST_LOCK.saturating_mul(1 << doublings).min(LONGEST_LOCK);
            record.locked_until = now.after(lock);
        }
    }

    fn forget_old(&mut self, now: Timestamp) {
        let horizon = now.as_millis().saturating_sub(FORGET_AFTER.as_millis() as u64);
        self.records
            .retain(|_, record| record.last.as_millis() > horizon || record.locked_until > now);
    }
}

#[derive(Debug)]
pub struct LoginThrottle {
    accounts: Limiter<String>,
    addresses: Limiter<IpAddr>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            accounts: Limiter::new(ACCOUNT_FREE_FAILURES),
            addresses: Limiter::new(ADDRESS_FREE_FAILURES),
        }
    }
}

/// Why a login attempt is refused before the password is even checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locked {
    Account(Duration),
    Address(Duration),
}

impl LoginThrottle {
    /// Whether an attempt for `login` from `address` may go ahead now.
    pub fn check(&self, login: &str, address: IpAddr, now: Timestamp) -> Result<(), Locked> {
        if let Some(wait) = self.addresses.wait(&address, now) {
            return Err(Locked::Address(wait));
        }
        if let Some(wait) = self.accounts.wait(&login.to_lowercase(), now) {
            return Err(Locked::Account(wait));
        }
        Ok(())
    }

    pub fn failed(&mut self, login: &str, address: IpAddr, now: Timestamp) {
        self.accounts.forget_old(now);
        self.addresses.forget_old(now);
        self.accounts.fail(login.to_lowercase(), now);
        self.addresses.fail(address, now);
    }

    pub fn succeeded(&mut self, login: &str) {
        self.accounts.records.remove(&login.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const AWAY: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 9));

    #[test]
    fn an_account_locks_after_its_free_failures_for_a_doubling_while() {
        let mut throttle = LoginThrottle::default();
        let mut now = Timestamp::from_millis(1_000_000);
        for _ in 0..ACCOUNT_FREE_FAILURES {
            assert_eq!(throttle.check("Alice", HOME, now), Ok(()));
            throttle.failed("alice", HOME, now);
        }
        assert_eq!(throttle.check("alice", HOME, now), Ok(()), "the free failures lock nothing");
        throttle.failed("alice", HOME, now);
        assert_eq!(throttle.check("ALICE", AWAY, now), Err(Locked::Account(FIRST_LOCK)));
        assert_eq!(throttle.check("bob", HOME, now), Ok(()), "other accounts are not locked");
        now = now.after(FIRST_LOCK);
        assert_eq!(throttle.check("alice", HOME, now), Ok(()));
        throttle.failed("alice", HOME, now);
        assert_eq!(throttle.check("alice", HOME, now), Err(Locked::Account(FIRST_LOCK * 2)));
        throttle.succeeded("alice");
        assert_eq!(throttle.check("alice", HOME, now), Ok(()));
    }

    #[test]
    fn an_address_trying_many_accounts_locks_and_the_lock_is_capped() {
        let mut throttle = LoginThrottle::default();
        let now = Timestamp::from_millis(1_000_000);
        for attempt in 0..=ADDRESS_FREE_FAILURES {
            throttle.failed(&format!("user{attempt}"), AWAY, now);
        }
        assert_eq!(throttle.check("someone", AWAY, now), Err(Locked::Address(FIRST_LOCK)));
        assert_eq!(throttle.check("someone", HOME, now), Ok(()));
        for _ in 0..40 {
            throttle.failed("x", AWAY, now);
        }
        assert_eq!(throttle.check("y", AWAY, now), Err(Locked::Address(LONGEST_LOCK)));
    }
}
