//! Slows down password guessing. Pure: the caller passes the time.
//!
//! An attempt is counted when it starts, before its password is hashed, so parallel
//! guesses cannot all be checked before the first failure is known: an account has
//! 5 attempts that may fail; once 5 have failed (or are being checked), it is locked
//! for 1 s, then gets one attempt at a time, each failure doubling the lock up to 15
//! minutes. A success clears it.
//!
//! Addresses are slowed, never locked: many people sign in from behind one office
//! NAT. An address has at most [`ADDRESS_IN_FLIGHT`] checks running at once (the
//! caller makes more wait their turn), and after [`ADDRESS_FREE_FAILURES`] failures each
//! of its attempts waits a little before being checked, growing with its failures
//! up to [`LONGEST_ADDRESS_DELAY`]: bounded for the colleague who types the right
//! password, costly for a script.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::Duration;

use callpark_park::Timestamp;

/// Attempts that may fail per account before it is locked.
pub const ACCOUNT_FREE_FAILURES: u32 = 5;
/// Failures per address (across accounts) before its attempts are delayed.
pub const ADDRESS_FREE_FAILURES: u32 = 20;
/// Password checks one address may have running at once.
pub const ADDRESS_IN_FLIGHT: u32 = 4;
const FIRST_LOCK: Duration = Duration::from_secs(1);
const LONGEST_LOCK: Duration = Duration::from_secs(15 * 60);
const FIRST_ADDRESS_DELAY: Duration = Duration::from_millis(100);
pub const LONGEST_ADDRESS_DELAY: Duration = Duration::from_secs(2);
/// A record with no attempt for this long is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

#[derive(Clone, Copy, Debug)]
struct Record {
    failures: u32,
    in_flight: u32,
    locked_until: Timestamp,
    last: Timestamp,
}

impl Record {
    fn new(now: Timestamp) -> Self {
        Self { failures: 0, in_flight: 0, locked_until: now, last: now }
    }

    fn lock_wait(&self, now: Timestamp) -> Option<Duration> {
        (self.locked_until > now).then(|| self.locked_until.since(now))
    }
}

/// `FIRST * 2^steps`, at most `longest`.
fn doubling(first: Duration, steps: u32, longest: Duration) -> Duration {
    first.saturating_mul(1 << steps.min(20)).min(longest)
}

#[derive(Debug)]
struct Records<K> {
    records: HashMap<K, Record>,
}

impl<K> Default for Records<K> {
    fn default() -> Self {
        Self { records: HashMap::new() }
    }
}

impl<K: Eq + Hash> Records<K> {
    fn get(&mut self, key: K, now: Timestamp) -> &mut Record {
        self.records.entry(key).or_insert_with(|| Record::new(now))
    }

    fn forget_old(&mut self, now: Timestamp) {
        let horizon =
            Timestamp::from_millis(now.as_millis().saturating_sub(FORGET_AFTER.as_millis() as u64));
        self.records.retain(|_, record| {
            record.in_flight > 0 || record.last > horizon || record.locked_until > now
        });
    }
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    accounts: Records<String>,
    addresses: Records<IpAddr>,
}

/// Why a login attempt is refused before its password is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locked {
    /// The account is locked for this long.
    Account(Duration),
    /// The address has too many checks running; retry after this.
    Busy(Duration),
}

/// An attempt let through: wait `delay`, check the password, then report the outcome
/// with [`LoginThrottle::finished`] (or [`LoginThrottle::abandoned`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admitted {
    pub delay: Duration,
    login: String,
    address: IpAddr,
}

impl LoginThrottle {
    /// Counts an attempt for `login` from `address`, or refuses it.
    pub fn admit(
        &mut self,
        login: &str,
        address: IpAddr,
        now: Timestamp,
    ) -> Result<Admitted, Locked> {
        self.accounts.forget_old(now);
        self.addresses.forget_old(now);
        let login = login.to_lowercase();
        let account = self.accounts.get(login.clone(), now);
        if let Some(wait) = account.lock_wait(now) {
            return Err(Locked::Account(wait));
        }
        // What may be checked at once: the free attempts left, and once they are used
        // up, one attempt each time a lock runs out.
        let at_once = ACCOUNT_FREE_FAILURES.saturating_sub(account.failures).max(1);
        if account.in_flight >= at_once {
            return Err(Locked::Account(FIRST_LOCK));
        }
        let address_record = self.addresses.get(address, now);
        if address_record.in_flight >= ADDRESS_IN_FLIGHT {
            return Err(Locked::Busy(FIRST_LOCK));
        }
        let delay = match address_record.failures.checked_sub(ADDRESS_FREE_FAILURES) {
            Some(over) => doubling(FIRST_ADDRESS_DELAY, over, LONGEST_ADDRESS_DELAY),
            None => Duration::ZERO,
        };
        address_record.in_flight += 1;
        address_record.last = now;
        let account = self.accounts.get(login.clone(), now);
        account.in_flight += 1;
        account.last = now;
        Ok(Admitted { delay, login, address })
    }

    /// The password check of an admitted attempt is done. Returns how long the
    /// account is now locked for, if this failure locked it.
    pub fn finished(
        &mut self,
        attempt: Admitted,
        succeeded: bool,
        now: Timestamp,
    ) -> Option<Duration> {
        let address = self.addresses.get(attempt.address, now);
        address.in_flight = address.in_flight.saturating_sub(1);
        let account = self.accounts.get(attempt.login, now);
        account.in_flight = account.in_flight.saturating_sub(1);
        if succeeded {
            account.failures = 0;
            account.locked_until = now;
            return None;
        }
        account.failures += 1;
        let lock = account
            .failures
            .checked_sub(ACCOUNT_FREE_FAILURES)
            .map(|over| doubling(FIRST_LOCK, over, LONGEST_LOCK));
        if let Some(lock) = lock {
            account.locked_until = now.after(lock);
        }
        let address = self.addresses.get(attempt.address, now);
        address.failures += 1;
        lock
    }

    /// An admitted attempt whose outcome is unknown (the client went away): it no
    /// longer runs, and counts as nothing.
    pub fn abandoned(&mut self, attempt: Admitted, now: Timestamp) {
        let address = self.addresses.get(attempt.address, now);
        address.in_flight = address.in_flight.saturating_sub(1);
        let account = self.accounts.get(attempt.login, now);
        account.in_flight = account.in_flight.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const AWAY: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 9));

    fn fail(throttle: &mut LoginThrottle, login: &str, address: IpAddr, now: Timestamp) {
        let attempt = throttle.admit(login, address, now).unwrap();
        let _ = throttle.finished(attempt, false, now);
    }

    #[test]
    fn the_fifth_failure_locks_the_account_for_a_doubling_while() {
        let mut throttle = LoginThrottle::default();
        let mut now = Timestamp::from_millis(1_000_000);
        for _ in 0..ACCOUNT_FREE_FAILURES {
            fail(&mut throttle, "Alice", HOME, now);
        }
        assert_eq!(throttle.admit("ALICE", AWAY, now), Err(Locked::Account(FIRST_LOCK)));
        assert!(throttle.admit("bob", HOME, now).is_ok(), "other accounts are not locked");
        now = now.after(FIRST_LOCK);
        fail(&mut throttle, "alice", HOME, now);
        assert_eq!(throttle.admit("alice", HOME, now), Err(Locked::Account(FIRST_LOCK * 2)));
        now = now.after(FIRST_LOCK * 2);
        let attempt = throttle.admit("alice", HOME, now).unwrap();
        assert_eq!(throttle.finished(attempt, true, now), None);
        for _ in 0..ACCOUNT_FREE_FAILURES - 1 {
            fail(&mut throttle, "alice", HOME, now);
        }
        assert!(throttle.admit("alice", HOME, now).is_ok(), "a success cleared the record");
    }

    #[test]
    fn parallel_guesses_get_only_the_free_attempts_checked() {
        let mut throttle = LoginThrottle::default();
        let now = Timestamp::from_millis(1_000_000);
        // From many addresses at once, so the address limit is not what stops them.
        let admitted: Vec<Admitted> = (0..200u8)
            .filter_map(|n| {
                let address = IpAddr::V4(std::net::Ipv4Addr::new(10, 1, 0, n));
                throttle.admit("carol", address, now).ok()
            })
            .collect();
        assert_eq!(admitted.len() as u32, ACCOUNT_FREE_FAILURES);
        let locks: Vec<_> =
            admitted.into_iter().map(|attempt| throttle.finished(attempt, false, now)).collect();
        assert_eq!(locks.last(), Some(&Some(FIRST_LOCK)), "the 5th failure locks: {locks:?}");
        assert_eq!(throttle.admit("carol", HOME, now), Err(Locked::Account(FIRST_LOCK)));
    }

    #[test]
    fn an_address_is_slowed_and_limited_in_parallel_but_never_locked() {
        let mut throttle = LoginThrottle::default();
        let mut now = Timestamp::from_millis(1_000_000);
        for attempt in 0..ADDRESS_FREE_FAILURES {
            fail(&mut throttle, &format!("user{attempt}"), AWAY, now);
        }
        let slowed = throttle.admit("colleague", AWAY, now).unwrap();
        assert_eq!(slowed.delay, FIRST_ADDRESS_DELAY, "the right password still gets in, later");
        let _ = throttle.finished(slowed, true, now);
        assert_eq!(throttle.admit("someone", HOME, now).unwrap().delay, Duration::ZERO);
        for attempt in 0..40 {
            now = now.after(Duration::from_millis(10));
            fail(&mut throttle, &format!("guess{attempt}"), AWAY, now);
        }
        let slowest = throttle.admit("colleague", AWAY, now).unwrap();
        assert_eq!(slowest.delay, LONGEST_ADDRESS_DELAY, "the delay is capped");
        let _ = throttle.finished(slowest, true, now);

        let running: Vec<Admitted> = (0..ADDRESS_IN_FLIGHT)
            .map(|n| throttle.admit(&format!("user-{n}"), AWAY, now).unwrap())
            .collect();
        assert_eq!(throttle.admit("one-more", AWAY, now), Err(Locked::Busy(FIRST_LOCK)));
        for attempt in running {
            throttle.abandoned(attempt, now);
        }
        assert!(throttle.admit("one-more", AWAY, now).is_ok(), "abandoned checks free their place");
    }

    #[test]
    fn old_records_are_forgotten_but_not_while_locked_or_running() {
        let mut throttle = LoginThrottle::default();
        let now = Timestamp::from_millis(10_000_000);
        fail(&mut throttle, "old", AWAY, now);
        let running = throttle.admit("running", AWAY, now).unwrap();
        let later = now.after(FORGET_AFTER + Duration::from_secs(1));
        throttle.admit("x", HOME, later).unwrap();
        assert!(!throttle.accounts.records.contains_key("old"));
        assert!(throttle.accounts.records.contains_key("running"));
        let _ = throttle.finished(running, false, later);
    }
}
