//! How each park ended, kept for its parker until one of their devices acknowledges
//! it: a parker whose devices were all offline (or a restart that lost the park)
//! still learns the outcome whenever any of their devices connects next.

use super::Switchboard;
use crate::error::CallError;
use crate::ids::{CallId, DeviceId, UserId};
use crate::output::{Notice, Output, ParkEndRecord, StoreCommand};

/// How many unacknowledged outcomes a user keeps; an older one is forgotten when a
/// newer one would pass this (a parker who never looks cannot grow the store).
pub const PARK_OUTCOMES_KEPT: usize = 100;

impl Switchboard {
    /// Keeps an outcome read back from the store at start-up.
    pub fn restore_park_outcome(&mut self, record: ParkEndRecord) {
        self.keep_park_outcome(record);
    }

    /// The outcomes `user` has not acknowledged yet, by call id.
    pub fn park_outcomes_of(&self, user: UserId) -> impl Iterator<Item = &ParkEndRecord> {
        self.park_outcomes.get(&user).into_iter().flat_map(|kept| kept.values())
    }

    /// One of the user's devices saw the outcome of `call`: it is forgotten, and
    /// every device of the user is told so (to take it off their screens).
    pub fn handle_acknowledge_park_ended(
        &mut self,
        device: DeviceId,
        call: CallId,
    ) -> Result<(), CallError> {
        let user = self.device_owner(device).ok_or(CallError::UnknownDevice)?;
        let kept = self.park_outcomes.get_mut(&user);
        if kept.and_then(|kept| kept.remove(&call)).is_none() {
            return Err(CallError::ParkOutcomeNotFound { call });
        }
        if self.park_outcomes.get(&user).is_some_and(|kept| kept.is_empty()) {
            self.park_outcomes.remove(&user);
        }
        self.outputs
            .push_back(Output::Store(StoreCommand::ForgetParkOutcome { parked_by: user, call }));
        self.notify_user(user, &Notice::ParkEndedAcknowledged { call });
        Ok(())
    }

    pub(super) fn keep_park_outcome(&mut self, record: ParkEndRecord) {
        let kept = self.park_outcomes.entry(record.parked_by).or_default();
        kept.insert(record.call, record);
        while kept.len() > PARK_OUTCOMES_KEPT {
            let Some((oldest, _)) = kept.pop_first() else { break };
            let forget =
                StoreCommand::ForgetParkOutcome { parked_by: record.parked_by, call: oldest };
            self.outputs.push_back(Output::Store(forget));
        }
    }
}
