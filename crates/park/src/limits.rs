//! The limits the park rules enforce, in one place: the policies, the directory and
//! the errors that name them all read them from here.

/// The lowest pickup code any policy may use.
pub const PICKUP_CODE_MIN: u16 = 10;
/// The highest pickup code any policy may use.
pub const PICKUP_CODE_MAX: u16 = 9999;
pub const DEFAULT_PICKUP_RANGE_START: u16 = 10;
pub const DEFAULT_PICKUP_RANGE_END: u16 = 99;
pub const PARK_TIMEOUT_MIN_SECONDS: u32 = 120;
pub const PARK_TIMEOUT_MAX_SECONDS: u32 = 1800;
pub const DEFAULT_PARK_TIMEOUT_SECONDS: u32 = 300;
pub const POLICY_NAME_MAX_CHARS: usize = 64;
pub const DESCRIPTION_MAX_CHARS: usize = 1024;

pub const UNANSWERED_DELAY_MIN_SECONDS: u32 = 10;
pub const UNANSWERED_DELAY_MAX_SECONDS: u32 = 60;
pub const DEFAULT_UNANSWERED_DELAY_SECONDS: u32 = 20;
