//! Every refusal the switchboard can give: a stable machine code (`code()`) and a
//! message in plain words (`Display`) that names what was wrong and what is allowed.

use std::fmt;
use std::time::Duration;

use crate::ids::{CallId, GroupId, UserId};
use crate::limits::{
    DESCRIPTION_MAX_CHARS, PARK_TIMEOUT_MAX_SECONDS, PARK_TIMEOUT_MIN_SECONDS, PICKUP_CODE_MAX,
    PICKUP_CODE_MIN, POLICY_NAME_MAX_CHARS, UNANSWERED_DELAY_MAX_SECONDS,
    UNANSWERED_DELAY_MIN_SECONDS,
};

/// What is wrong with a policy name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameProblem {
    Empty,
    TooLong,
    EdgeSpace,
    Character(char),
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameProblem::Empty => f.write_str("the name is empty"),
            NameProblem::TooLong => {
                write!(f, "the name is longer than {POLICY_NAME_MAX_CHARS} characters")
            }
            NameProblem::EdgeSpace => f.write_str("the name starts or ends with a space"),
            NameProblem::Character(c) => {
                write!(
                    f,
                    "the name contains {c:?}; use letters A-Z and a-z, digits, spaces, '-', '_' and '.'"
                )
            }
        }
    }
}

/// How many grants still point at a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrantCount {
    pub users: usize,
    pub groups: usize,
    pub tenant_default: bool,
}

impl fmt::Display for GrantCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if self.users > 0 {
            parts.push(format!("{} user(s)", self.users));
        }
        if self.groups > 0 {
            parts.push(format!("{} group(s)", self.groups));
        }
        if self.tenant_default {
            parts.push("the tenant default".to_owned());
        }
        f.write_str(&parts.join(", "))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    #[error(
        "PickupRangeStart {value} is not allowed: it must be between {PICKUP_CODE_MIN} and {PICKUP_CODE_MAX}"
    )]
    PickupRangeStartOutOfBounds { value: i64 },
    #[error(
        "PickupRangeEnd {value} is not allowed: it must be between {PICKUP_CODE_MIN} and {PICKUP_CODE_MAX}"
    )]
    PickupRangeEndOutOfBounds { value: i64 },
    #[error("PickupRangeStart ({start}) must not be greater than PickupRangeEnd ({end})")]
    PickupRangeReversed { start: u16, end: u16 },
    #[error(
        "ParkTimeoutSeconds {value} is not allowed: it must be between {PARK_TIMEOUT_MIN_SECONDS} and {PARK_TIMEOUT_MAX_SECONDS} seconds"
    )]
    ParkTimeoutOutOfBounds { value: i64 },
    #[error("Identity {value:?} is not a valid policy name: {problem}")]
    InvalidName { value: String, problem: NameProblem },
    #[error("Description is {chars} characters long; at most {DESCRIPTION_MAX_CHARS} are allowed")]
    DescriptionTooLong { chars: usize },
    #[error("a policy named {identity} already exists")]
    AlreadyExists { identity: String },
    #[error("there is no call park policy named {identity}")]
    NotFound { identity: String },
    #[error("the Global policy always exists and cannot be removed")]
    GlobalIsPermanent,
    #[error(
        "{identity} is still granted to {grants}; grant another policy to them first, or remove it with force"
    )]
    StillGranted { identity: String, grants: GrantCount },
}

impl PolicyError {
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::PickupRangeStartOutOfBounds { .. }
            | PolicyError::PickupRangeEndOutOfBounds { .. }
            | PolicyError::PickupRangeReversed { .. }
            | PolicyError::ParkTimeoutOutOfBounds { .. }
            | PolicyError::InvalidName { .. }
            | PolicyError::DescriptionTooLong { .. } => "policy_invalid",
            PolicyError::AlreadyExists { .. } => "policy_exists",
            PolicyError::NotFound { .. } => "policy_not_found",
            PolicyError::GlobalIsPermanent => "policy_protected",
            PolicyError::StillGranted { .. } => "policy_in_use",
        }
    }

    /// The policy field an invalid value was given for, if the error is about one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            PolicyError::PickupRangeStartOutOfBounds { .. } => Some("PickupRangeStart"),
            PolicyError::PickupRangeEndOutOfBounds { .. } => Some("PickupRangeEnd"),
            PolicyError::PickupRangeReversed { .. } => Some("PickupRangeStart"),
            PolicyError::ParkTimeoutOutOfBounds { .. } => Some("ParkTimeoutSeconds"),
            PolicyError::InvalidName { .. } => Some("Identity"),
            PolicyError::DescriptionTooLong { .. } => Some("Description"),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DirectoryError {
    #[error("there is no user {0}")]
    UserNotFound(UserId),
    #[error("user {0} already exists")]
    UserExists(UserId),
    #[error("there is no group {0}")]
    GroupNotFound(GroupId),
    #[error("group {0} already exists")]
    GroupExists(GroupId),
    #[error(
        "an unanswered delay of {seconds} s is not allowed: it must be between {UNANSWERED_DELAY_MIN_SECONDS} and {UNANSWERED_DELAY_MAX_SECONDS} seconds"
    )]
    UnansweredDelayOutOfBounds { seconds: i64 },
    #[error("unanswered calls cannot be forwarded to the user themselves")]
    ForwardToSelf,
    #[error("unanswered calls cannot be forwarded to {0}: there is no such user")]
    ForwardTargetNotFound(UserId),
    #[error("a group rank must be 1 or more, not {0}")]
    InvalidRank(i64),
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

impl DirectoryError {
    pub fn code(&self) -> &'static str {
        match self {
            DirectoryError::UserNotFound(_) => "user_not_found",
            DirectoryError::UserExists(_) => "user_exists",
            DirectoryError::GroupNotFound(_) => "group_not_found",
            DirectoryError::GroupExists(_) => "group_exists",
            DirectoryError::UnansweredDelayOutOfBounds { .. }
            | DirectoryError::ForwardToSelf
            | DirectoryError::ForwardTargetNotFound(_) => "user_invalid",
            DirectoryError::InvalidRank(_) => "rank_invalid",
            DirectoryError::Policy(error) => error.code(),
        }
    }
}

/// Why a code that was parked a while ago is no longer waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExpiredReason {
    CallerLeft,
    WentToVoicemail,
    Forwarded,
    Disconnected,
}

impl fmt::Display for ExpiredReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExpiredReason::CallerLeft => "the caller hung up",
            ExpiredReason::WentToVoicemail => "nobody picked it up and it went to voicemail",
            ExpiredReason::Forwarded => "nobody picked it up and it was forwarded",
            ExpiredReason::Disconnected => "nobody picked it up and it was ended",
        })
    }
}

/// Refusals of call and park requests from a device.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    #[error("Call park is not enabled for you. Ask your admin to assign a call park policy.")]
    ParkNotAllowed,
    #[error(
        "Call park needs enterprise voice, which is not enabled for you. Ask your admin to enable it."
    )]
    NotEnterpriseVoice,
    #[error("All pickup codes {start}–{end} are in use; the call is still connected.")]
    NoFreeCode { start: u16, end: u16 },
    #[error("No call is parked with code {code}. Check the code and try again.")]
    CodeNotFound { code: u16 },
    #[error(
        "Pickup codes are numbers from {PICKUP_CODE_MIN} to {PICKUP_CODE_MAX}; {input:?} is not one."
    )]
    InvalidCode { input: String },
    #[error("Picked up by {by_name} {} ago.", SecondsAgo(*.ago))]
    AlreadyRetrieved { code: u16, by: UserId, by_name: String, ago: Duration },
    #[error("The call parked with code {code} is no longer waiting: {reason}.")]
    CodeExpired { code: u16, reason: ExpiredReason },
    #[error(
        "The call {parker_name} parked with code {code} was lost when the service restarted; \
         it can no longer be picked up. {parker_name} has been told."
    )]
    CodeLost { code: u16, parker_name: String },
    #[error("No ended park of yours with call {} is waiting to be acknowledged.", .call.0)]
    ParkOutcomeNotFound { call: CallId },
    #[error("That call is not one of yours (it may have ended).")]
    CallNotFound { call: CallId },
    #[error("Only a connected call can be parked.")]
    NotConnected { call: CallId },
    #[error("That call is not ringing here.")]
    NotRinging { call: CallId },
    #[error("You are already in a call on this device. Hang up or park it first.")]
    Busy,
    #[error("{name} cannot take calls right now.")]
    UserUnavailable { user: UserId, name: String },
    #[error("You cannot call yourself.")]
    CannotCallSelf,
    #[error("There is no such user to call.")]
    UserNotFound { user: UserId },
    #[error("This device is not signed in.")]
    UnknownDevice,
}

impl CallError {
    pub fn code(&self) -> &'static str {
        match self {
            CallError::ParkNotAllowed => "park_not_allowed",
            CallError::NotEnterpriseVoice => "not_enterprise_voice",
            CallError::NoFreeCode { .. } => "no_free_code",
            CallError::CodeNotFound { .. } => "code_not_found",
            CallError::InvalidCode { .. } => "code_invalid",
            CallError::AlreadyRetrieved { .. } => "already_retrieved",
            CallError::CodeExpired { .. } => "code_expired",
            CallError::CodeLost { .. } => "code_lost",
            CallError::ParkOutcomeNotFound { .. } => "park_outcome_not_found",
            CallError::CallNotFound { .. } => "call_not_found",
            CallError::NotConnected { .. } => "call_not_connected",
            CallError::NotRinging { .. } => "call_not_ringing",
            CallError::Busy => "busy",
            CallError::UserUnavailable { .. } => "user_unavailable",
            CallError::CannotCallSelf => "cannot_call_self",
            CallError::UserNotFound { .. } => "user_not_found",
            CallError::UnknownDevice => "unknown_device",
        }
    }
}

/// "4 s", "3 min", "2 h": how long ago, the way a person says it.
struct SecondsAgo(Duration);

impl fmt::Display for SecondsAgo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0.as_secs();
        match seconds {
            0..120 => write!(f, "{seconds} s"),
            120..7200 => write!(f, "{} min", seconds / 60),
            _ => write!(f, "{} h", seconds / 3600),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn already_retrieved_says_who_and_how_long_ago() {
        let error = CallError::AlreadyRetrieved {
            code: 12,
            by: UserId(1),
            by_name: "Alice".into(),
            ago: Duration::from_millis(4_200),
        };
        assert_eq!(error.to_string(), "Picked up by Alice 4 s ago.");
        assert_eq!(error.code(), "already_retrieved");
    }

    #[test]
    fn no_free_code_names_the_range_and_that_the_call_stays() {
        let message = CallError::NoFreeCode { start: 10, end: 99 }.to_string();
        assert_eq!(message, "All pickup codes 10–99 are in use; the call is still connected.");
    }

    #[test]
    fn still_granted_counts_every_kind_of_grant() {
        let error = PolicyError::StillGranted {
            identity: "Tag:Sales".into(),
            grants: GrantCount { users: 2, groups: 1, tenant_default: true },
        };
        assert!(error.to_string().contains("2 user(s), 1 group(s), the tenant default"));
        assert_eq!(error.code(), "policy_in_use");
    }
}
