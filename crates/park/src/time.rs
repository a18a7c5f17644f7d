use std::time::Duration;

/// A point in time as the driver's clock reported it: milliseconds since the Unix
/// epoch. The switchboard never reads a clock; every input carries one of these.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The time `duration` after this one, saturating at the end of time.
    pub fn after(self, duration: Duration) -> Self {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        Self(self.0.saturating_add(millis))
    }

    /// How long ago `earlier` was, or zero if it is not earlier.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_and_since_are_inverse() {
        let start = Timestamp::from_millis(1_000);
        let later = start.after(Duration::from_secs(300));
        assert_eq!(later.as_millis(), 301_000);
        assert_eq!(later.since(start), Duration::from_secs(300));
        assert_eq!(start.since(later), Duration::ZERO);
    }

    #[test]
    fn after_saturates() {
        let end = Timestamp::from_millis(u64::MAX - 1).after(Duration::from_secs(10));
        assert_eq!(end.as_millis(), u64::MAX);
    }
}
