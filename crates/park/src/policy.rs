//! Call park policies: what a park group allows, validated the way the cmdlets do.

use std::fmt;
use std::ops::RangeInclusive;
use std::time::Duration;

use crate::error::{NameProblem, PolicyError};
use crate::limits::{
    DEFAULT_PARK_TIMEOUT_SECONDS, DEFAULT_PICKUP_RANGE_END, DEFAULT_PICKUP_RANGE_START,
    DESCRIPTION_MAX_CHARS, PARK_TIMEOUT_MAX_SECONDS, PARK_TIMEOUT_MIN_SECONDS, PICKUP_CODE_MAX,
    PICKUP_CODE_MIN, POLICY_NAME_MAX_CHARS,
};

/// The characters of a new policy or group name: ASCII letters and digits, space,
/// `-`, `_` and `.` (not first or last: no edge spaces).
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.')
}

const TAG_PREFIX: &str = "Tag:";
const GLOBAL_NAME: &str = "Global";

/// A policy's identity: `Global`, or `Tag:<Name>` for a named one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PolicyIdentity {
    Global,
    Tag(String),
}

impl PolicyIdentity {
    /// Reads `Global`, `Tag:<Name>` or a bare `<Name>` (case-insensitive prefix and
    /// `Global`), checking the name is usable.
    pub fn parse(input: &str) -> Result<Self, PolicyError> {
        let name = match input.get(..TAG_PREFIX.len()) {
            Some(prefix) if prefix.eq_ignore_ascii_case(TAG_PREFIX) => &input[TAG_PREFIX.len()..],
            _ => {
                if input.eq_ignore_ascii_case(GLOBAL_NAME) {
                    return Ok(PolicyIdentity::Global);
                }
                input
            }
        };
        // `Tag:Global` names the same policy as `Global`: one thing, one answer.
        if name.eq_ignore_ascii_case(GLOBAL_NAME) {
            return Ok(PolicyIdentity::Global);
        }
        let invalid = |problem| PolicyError::InvalidName { value: input.to_owned(), problem };
        if name.is_empty() {
            return Err(invalid(NameProblem::Empty));
        }
        if name.chars().count() > POLICY_NAME_MAX_CHARS {
            return Err(invalid(NameProblem::TooLong));
        }
        if name.starts_with(' ') || name.ends_with(' ') {
            return Err(invalid(NameProblem::EdgeSpace));
        }
        if let Some(bad) =
            name.chars().find(|c| !(c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.')))
        {
            return Err(invalid(NameProblem::Character(bad)));
        }
        Ok(PolicyIdentity::Tag(name.to_owned()))
    }

    /// Reads the identity of a policy about to be created. New names use the
    /// identifier alphabet [`is_name_char`] (ASCII letters and digits, space, `-`,
    /// `_`, `.`): names that look alike are the same name, and the rule is the one
    /// the OpenAPI document states. Policies named before this rule stay readable
    /// through [`PolicyIdentity::parse`].
    pub fn parse_new(input: &str) -> Result<Self, PolicyError> {
        let identity = Self::parse(input)?;
        if let Some(bad) = identity.name().chars().find(|c| !is_name_char(*c)) {
            return Err(PolicyError::InvalidName {
                value: input.to_owned(),
                problem: NameProblem::Character(bad),
            });
        }
        Ok(identity)
    }

    /// The name without the `Tag:` prefix.
    pub fn name(&self) -> &str {
        match self {
            PolicyIdentity::Global => GLOBAL_NAME,
            PolicyIdentity::Tag(name) => name,
        }
    }

    /// The key under which names are unique: policy names compare case-insensitively.
    pub(crate) fn key(&self) -> String {
        self.to_string().to_lowercase()
    }
}

impl fmt::Display for PolicyIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyIdentity::Global => f.write_str(GLOBAL_NAME),
            PolicyIdentity::Tag(name) => write!(f, "{TAG_PREFIX}{name}"),
        }
    }
}

/// A call park policy (a park group's settings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub identity: PolicyIdentity,
    pub description: String,
    pub allow_call_park: bool,
    pub pickup_range_start: u16,
    pub pickup_range_end: u16,
    pub park_timeout_seconds: u32,
}

impl Policy {
    /// A policy with the product defaults: park off, codes 10–99, 300 s timeout.
    pub fn with_defaults(identity: PolicyIdentity) -> Self {
        Self {
            identity,
            description: String::new(),
            allow_call_park: false,
            pickup_range_start: DEFAULT_PICKUP_RANGE_START,
            pickup_range_end: DEFAULT_PICKUP_RANGE_END,
            park_timeout_seconds: DEFAULT_PARK_TIMEOUT_SECONDS,
        }
    }

    pub fn pickup_range(&self) -> RangeInclusive<u16> {
        self.pickup_range_start..=self.pickup_range_end
    }

    pub fn park_timeout(&self) -> Duration {
        Duration::from_secs(u64::from(self.park_timeout_seconds))
    }

    /// This policy with `changes` applied, or the first problem found; `self` is untouched.
    pub fn with_changes(&self, changes: &PolicyChanges) -> Result<Policy, PolicyError> {
        let mut next = self.clone();
        if let Some(description) = &changes.description {
            let chars = description.chars().count();
            if chars > DESCRIPTION_MAX_CHARS {
                return Err(PolicyError::DescriptionTooLong { chars });
            }
            next.description.clone_from(description);
        }
        if let Some(allow) = changes.allow_call_park {
            next.allow_call_park = allow;
        }
        if let Some(value) = changes.pickup_range_start {
            next.pickup_range_start =
                pickup_bound(value).ok_or(PolicyError::PickupRangeStartOutOfBounds { value })?;
        }
        if let Some(value) = changes.pickup_range_end {
            next.pickup_range_end =
                pickup_bound(value).ok_or(PolicyError::PickupRangeEndOutOfBounds { value })?;
        }
        if next.pickup_range_start > next.pickup_range_end {
            return Err(PolicyError::PickupRangeReversed {
                start: next.pickup_range_start,
                end: next.pickup_range_end,
            });
        }
        if let Some(value) = changes.park_timeout_seconds {
            next.park_timeout_seconds = u32::try_from(value)
                .ok()
                .filter(|s| (PARK_TIMEOUT_MIN_SECONDS..=PARK_TIMEOUT_MAX_SECONDS).contains(s))
                .ok_or(PolicyError::ParkTimeoutOutOfBounds { value })?;
        }
        Ok(next)
    }
}

fn pickup_bound(value: i64) -> Option<u16> {
    u16::try_from(value).ok().filter(|code| (PICKUP_CODE_MIN..=PICKUP_CODE_MAX).contains(code))
}

/// A partial update, as `Set-CsTeamsCallParkPolicy` takes it: only the fields given
/// change. Numbers are wide so that any input, however far off, is named in the error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyChanges {
    pub description: Option<String>,
    pub allow_call_park: Option<bool>,
    pub pickup_range_start: Option<i64>,
    pub pickup_range_end: Option<i64>,
    pub park_timeout_seconds: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str) -> PolicyIdentity {
        PolicyIdentity::Tag(name.to_owned())
    }

    #[test]
    fn identity_accepts_global_tag_and_bare_name() {
        assert_eq!(PolicyIdentity::parse("Global"), Ok(PolicyIdentity::Global));
        assert_eq!(PolicyIdentity::parse("global"), Ok(PolicyIdentity::Global));
        assert_eq!(PolicyIdentity::parse("Tag:Global"), Ok(PolicyIdentity::Global));
        assert_eq!(PolicyIdentity::parse("tag:GLOBAL"), Ok(PolicyIdentity::Global));
        assert_eq!(PolicyIdentity::parse("Tag:Sales"), Ok(tag("Sales")));
        assert_eq!(PolicyIdentity::parse("tag:Sales"), Ok(tag("Sales")));
        assert_eq!(PolicyIdentity::parse("Sales Floor-2"), Ok(tag("Sales Floor-2")));
        assert_eq!(tag("Sales").to_string(), "Tag:Sales");
    }

    #[test]
    fn identity_refuses_bad_names_naming_the_problem() {
        let problem = |input: &str| match PolicyIdentity::parse(input) {
            Err(PolicyError::InvalidName { problem, .. }) => problem,
            other => panic!("{input:?} gave {other:?}"),
        };
        assert_eq!(problem(""), NameProblem::Empty);
        assert_eq!(problem("Tag:"), NameProblem::Empty);
        assert_eq!(problem(&"x".repeat(65)), NameProblem::TooLong);
        assert_eq!(problem(" Sales"), NameProblem::EdgeSpace);
        assert_eq!(problem("Sales/1"), NameProblem::Character('/'));
        assert!(PolicyIdentity::parse(&"x".repeat(64)).is_ok());
    }

    #[test]
    fn new_names_are_ascii_identifiers_and_old_ones_stay_readable() {
        assert_eq!(PolicyIdentity::parse_new("Tag:Front desk-2.a_b"), Ok(tag("Front desk-2.a_b")));
        assert_eq!(PolicyIdentity::parse_new("global"), Ok(PolicyIdentity::Global));
        assert!(matches!(
            PolicyIdentity::parse_new("Empfang Süd"),
            Err(PolicyError::InvalidName { problem: NameProblem::Character('ü'), .. })
        ));
        // A Cyrillic "а" would make a second "Sales" that reads like the first.
        assert!(PolicyIdentity::parse_new("S\u{430}les").is_err());
        assert_eq!(PolicyIdentity::parse("Empfang Süd"), Ok(tag("Empfang Süd")));
    }

    #[test]
    fn defaults_are_park_off_10_to_99_and_300_seconds() {
        let policy = Policy::with_defaults(PolicyIdentity::Global);
        assert!(!policy.allow_call_park);
        assert_eq!(policy.pickup_range(), 10..=99);
        assert_eq!(policy.park_timeout(), Duration::from_secs(300));
    }

    #[test]
    fn each_field_violation_is_its_own_error() {
        let base = Policy::with_defaults(tag("Sales"));
        let try_change = |changes: PolicyChanges| base.with_changes(&changes);
        assert_eq!(
            try_change(PolicyChanges { pickup_range_start: Some(9), ..Default::default() }),
            Err(PolicyError::PickupRangeStartOutOfBounds { value: 9 })
        );
        assert_eq!(
            try_change(PolicyChanges { pickup_range_end: Some(10_000), ..Default::default() }),
            Err(PolicyError::PickupRangeEndOutOfBounds { value: 10_000 })
        );
        assert_eq!(
            try_change(PolicyChanges { pickup_range_start: Some(-3), ..Default::default() }),
            Err(PolicyError::PickupRangeStartOutOfBounds { value: -3 })
        );
        assert_eq!(
            try_change(PolicyChanges { pickup_range_start: Some(200), ..Default::default() }),
            Err(PolicyError::PickupRangeReversed { start: 200, end: 99 })
        );
        assert_eq!(
            try_change(PolicyChanges { park_timeout_seconds: Some(119), ..Default::default() }),
            Err(PolicyError::ParkTimeoutOutOfBounds { value: 119 })
        );
        assert_eq!(
            try_change(PolicyChanges { park_timeout_seconds: Some(1801), ..Default::default() }),
            Err(PolicyError::ParkTimeoutOutOfBounds { value: 1801 })
        );
        assert_eq!(
            try_change(PolicyChanges { description: Some("d".repeat(1025)), ..Default::default() }),
            Err(PolicyError::DescriptionTooLong { chars: 1025 })
        );
    }

    #[test]
    fn bounds_are_inclusive() {
        let base = Policy::with_defaults(tag("Sales"));
        let changed = base
            .with_changes(&PolicyChanges {
                pickup_range_start: Some(10),
                pickup_range_end: Some(9999),
                park_timeout_seconds: Some(1800),
                ..Default::default()
            })
            .expect("edges are allowed");
        assert_eq!(changed.pickup_range(), 10..=9999);
        let shortest = base
            .with_changes(&PolicyChanges { park_timeout_seconds: Some(120), ..Default::default() })
            .expect("120 s is allowed");
        assert_eq!(shortest.park_timeout_seconds, 120);
        let single = base
            .with_changes(&PolicyChanges {
                pickup_range_start: Some(50),
                pickup_range_end: Some(50),
                ..Default::default()
            })
            .expect("a one-code range is allowed");
        assert_eq!(single.pickup_range(), 50..=50);
    }

    #[test]
    fn messages_name_field_value_and_allowed_values() {
        let message = PolicyError::PickupRangeEndOutOfBounds { value: 10_000 }.to_string();
        assert!(message.contains("PickupRangeEnd"), "{message}");
        assert!(message.contains("10000"), "{message}");
        assert!(message.contains("10") && message.contains("9999"), "{message}");
        let message = PolicyError::ParkTimeoutOutOfBounds { value: 60 }.to_string();
        assert!(message.contains("ParkTimeoutSeconds") && message.contains("60"), "{message}");
        assert!(message.contains("120") && message.contains("1800"), "{message}");
    }
}
