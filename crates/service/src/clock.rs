//! The service's one clock. Everything that stamps or compares times (parks,
//! timers, sign-ins, the throttle, audit and voicemail) reads it, so that a test
//! that pauses tokio's time moves all of them together.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use callpark_park::Timestamp;
use tokio::time::Instant;

/// The service's clock: wall time in milliseconds, advanced by tokio's monotonic
/// clock (so tests can pause and advance it).
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    base: Instant,
    base_millis: u64,
}

impl Clock {
    pub fn start() -> Self {
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Self {
            base: Instant::now(),
            base_millis: u64::try_from(since_epoch.as_millis()).unwrap_or(0),
        }
    }

    pub fn now(&self) -> Timestamp {
        let elapsed = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX);
        Timestamp::from_millis(self.base_millis.saturating_add(elapsed))
    }

    pub(crate) fn instant_of(&self, at: Timestamp) -> Instant {
        self.base + Duration::from_millis(at.as_millis().saturating_sub(self.base_millis))
    }
}
