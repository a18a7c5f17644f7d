use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id_type!(
    /// A user account, numbered by the driver (its store's key).
    UserId,
    "user#"
);
id_type!(
    /// A group of users, numbered by the driver.
    GroupId,
    "group#"
);
id_type!(
    /// One signed-in device (an app window, a CLI, a desk phone), numbered by the driver.
    DeviceId,
    "device#"
);
id_type!(
    /// A call, numbered by the switchboard. A call keeps its id through park and retrieve.
    CallId,
    "call#"
);

/// A call park policy, numbered by the switchboard; `Global` is always [`PolicyId::GLOBAL`].
/// Ids are never reused, so a parked call's policy stays unambiguous after a removal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyId(pub u32);

impl PolicyId {
    pub const GLOBAL: PolicyId = PolicyId(0);
}

impl fmt::Display for PolicyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "policy#{}", self.0)
    }
}
