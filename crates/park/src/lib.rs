//! The call park switchboard, sans IO.
//!
//! Every rule of call park and retrieve lives here: call park policies and which one
//! governs a user, pickup codes, calls between users' devices, parking, retrieving,
//! ringback and the unanswered fallback. Nothing here does IO or reads a clock: the
//! driver passes the time in, executes the [`Output`]s, and calls
//! [`Switchboard::handle_timeout`] at [`Switchboard::poll_timeout`].

mod codes;
mod directory;
mod error;
mod glob;
mod ids;
mod limits;
mod output;
mod policy;
mod switchboard;
mod time;

pub use directory::{Directory, EffectivePolicy, PolicySource, UnansweredAction, UserSettings};
pub use error::{CallError, DirectoryError, ExpiredReason, GrantCount, NameProblem, PolicyError};
pub use ids::{CallId, DeviceId, GroupId, PolicyId, UserId};
pub use limits::{
    DEFAULT_PARK_TIMEOUT_SECONDS, DEFAULT_PICKUP_RANGE_END, DEFAULT_PICKUP_RANGE_START,
    DEFAULT_UNANSWERED_DELAY_SECONDS, DESCRIPTION_MAX_CHARS, PARK_TIMEOUT_MAX_SECONDS,
    PARK_TIMEOUT_MIN_SECONDS, PICKUP_CODE_MAX, PICKUP_CODE_MIN, POLICY_NAME_MAX_CHARS,
    UNANSWERED_DELAY_MAX_SECONDS, UNANSWERED_DELAY_MIN_SECONDS,
};
pub use output::{
    AuditEvent, AuditKind, CALL_ID_BLOCK, CallEnded, ConnectedCallRecord, MediaCommand, Notice,
    Output, ParkEndRecord, ParkOutcome, ParkedCallRecord, ParkedCallView, ParkedListChange,
    PeopleChange, Presence, RingingStopped, StoreCommand,
};
pub use policy::{Policy, PolicyChanges, PolicyIdentity, is_name_char};
pub use switchboard::{
    CallView, Config, DEFAULT_RECONNECT_GRACE, DEFAULT_RESTORED_CALLER_GRACE, DeviceCall,
    DeviceRole, LostPark, PARK_OUTCOMES_KEPT, ParkReceipt, Party, RetrieveReceipt, Switchboard,
};
pub use time::Timestamp;
