//! Single-use tickets for opening the signaling WebSocket where no header can be
//! set (a browser's `new WebSocket(url)`): `POST /api/v1/ws-ticket` gives one for
//! the caller's sign-in, `/ws?ticket=` takes it once, within a few seconds. The
//! long-lived token itself never goes in a URL, where proxies and servers log it.

use std::collections::HashMap;
use std::time::Duration;

use callpark_park::{Timestamp, UserId};

use crate::accounts::{random_token, token_digest};

/// How long a ticket may wait to be used.
pub const TICKET_LIFETIME: Duration = Duration::from_secs(30);

/// Tickets outstanding at once, over every user: enough for every device of a
/// large office reconnecting together; more is a client gone wrong.
pub const TICKETS_OUTSTANDING_MAX: usize = 20_000;

/// Whose sign-in a ticket opens a connection for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redeemed {
    pub user: UserId,
    /// The digest of the sign-in's token (its connection closes when it signs out).
    pub session_digest: String,
}

#[derive(Debug)]
struct Issued {
    redeemed: Redeemed,
    expires_at: Timestamp,
}

/// Tickets not used yet, by the digest of the ticket (a copy of this memory opens
/// nothing).
#[derive(Debug, Default)]
pub struct Tickets {
    outstanding: HashMap<String, Issued>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{TICKETS_OUTSTANDING_MAX} tickets are waiting to be used; try again in a few seconds")]
pub struct TooManyTickets;

impl Tickets {
    /// A new ticket for the sign-in of `session_digest`.
    pub fn issue(
        &mut self,
        user: UserId,
        session_digest: String,
        now: Timestamp,
    ) -> Result<String, TooManyTickets> {
        if self.outstanding.len() >= TICKETS_OUTSTANDING_MAX {
            self.outstanding.retain(|_, issued| issued.expires_at > now);
            if self.outstanding.len() >= TICKETS_OUTSTANDING_MAX {
                return Err(TooManyTickets);
            }
        }
        let ticket = random_token();
        let issued = Issued {
            redeemed: Redeemed { user, session_digest },
            expires_at: now.after(TICKET_LIFETIME),
        };
        self.outstanding.insert(token_digest(&ticket), issued);
        Ok(ticket)
    }

    /// Takes the ticket: whose it was, if it exists and has not expired. A ticket
    /// works once.
    pub fn redeem(&mut self, ticket: &str, now: Timestamp) -> Option<Redeemed> {
        let issued = self.outstanding.remove(&token_digest(ticket))?;
        (issued.expires_at > now).then_some(issued.redeemed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_works_once_and_only_before_it_expires() {
        let mut tickets = Tickets::default();
        let now = Timestamp::from_millis(1_000_000);
        let ticket = tickets.issue(UserId(2), "d".into(), now).unwrap();
        let redeemed = Redeemed { user: UserId(2), session_digest: "d".into() };
        assert_eq!(tickets.redeem(&ticket, now), Some(redeemed));
        assert_eq!(tickets.redeem(&ticket, now), None, "used once");
        let late = tickets.issue(UserId(2), "d".into(), now).unwrap();
        assert_eq!(tickets.redeem(&late, now.after(TICKET_LIFETIME)), None, "expired");
        assert_eq!(tickets.redeem("forged", now), None);
    }

    #[test]
    fn outstanding_tickets_are_bounded_and_expired_ones_make_room() {
        let mut tickets = Tickets::default();
        let now = Timestamp::from_millis(1_000_000);
        for _ in 0..TICKETS_OUTSTANDING_MAX {
            tickets.issue(UserId(1), "d".into(), now).unwrap();
        }
        assert_eq!(tickets.issue(UserId(1), "d".into(), now), Err(TooManyTickets));
        assert!(tickets.issue(UserId(1), "d".into(), now.after(TICKET_LIFETIME)).is_ok());
    }
}
