//! Parks lost when the service stopped (recorded, but not restorable): their codes
//! stay held for a while, so that a code somebody was given never reaches another
//! caller by surprise, and whoever types one is told the call was lost.

use super::{EndedPark, Switchboard};
use crate::ids::{PolicyId, UserId};
use crate::output::ParkOutcome;
use crate::time::Timestamp;

/// A park that could not be kept through a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LostPark {
    pub policy: PolicyId,
    pub code: u16,
    pub parked_by: UserId,
    pub lost_at: Timestamp,
}

impl Switchboard {
    /// Holds a lost park's code until [`super::Config::remember_ended_codes`] after it
    /// was lost; until then a retrieve of it is refused as lost, and no new park gets
    /// it. False when that time has passed or a park (a restored one) holds the code.
    pub fn quarantine_lost_code(&mut self, now: Timestamp, lost: LostPark) -> bool {
        let until = lost.lost_at.after(self.config.remember_ended_codes);
        if until <= now || self.directory.policy(lost.policy).is_none() {
            return false;
        }
        if !self.codebooks.entry(lost.policy).or_default().claim(lost.code) {
            return false;
        }
        self.ended_parks.insert(
            (lost.policy, lost.code),
            EndedPark { at: lost.lost_at, parker: lost.parked_by, outcome: ParkOutcome::Lost },
        );
        self.quarantined.insert((until, lost.policy, lost.code));
        true
    }

    /// Codes whose quarantine ended are free for new parks again.
    pub(super) fn end_quarantines(&mut self, now: Timestamp) {
        while let Some(&(until, policy, code)) = self.quarantined.first() {
            if until > now {
                break;
            }
            self.quarantined.remove(&(until, policy, code));
            if let Some(book) = self.codebooks.get_mut(&policy) {
                book.release(code);
            }
        }
    }
}
