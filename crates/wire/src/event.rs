//! What the service tells a device without being asked, tagged by `event`.

use serde::{Deserialize, Serialize};

/// A user as a device shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    pub id: u64,
    pub name: String,
}

/// One entry of the live parked-calls list. Times are milliseconds since the Unix
/// epoch, by the service's clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkedCall {
    pub call: u64,
    pub code: u16,
    pub caller: UserRef,
    pub parked_by: UserRef,
    pub parked_at_ms: u64,
    pub ringback_at_ms: u64,
    pub ringing_back: bool,
}

/// How one of my parks ended: sent live as `park_ended`, and kept by the service
/// (listed in `welcome`) until one of my devices sends `acknowledge_park_ended`.
/// `by` is who picked it up (`retrieved`) or where it was forwarded (`forwarded`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedPark {
    pub call: u64,
    pub code: u16,
    pub outcome: ParkOutcome,
    pub by: Option<UserRef>,
    pub caller: UserRef,
    pub ended_at_ms: u64,
}

/// Whether a colleague can be reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Available,
    InCall,
    Offline,
}

/// A user of the organisation, as the people list shows them; `login` is what
/// `dial` takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: u64,
    pub login: String,
    pub name: String,
    pub presence: Presence,
}

/// What a device is doing in a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallRole {
    /// It called; the callee is ringing.
    Dialing,
    /// The call rings here.
    Incoming,
    Connected,
    /// It is the parked caller, hearing hold music.
    OnHold,
    /// It is leaving a message.
    Voicemail,
    /// A call its user parked rings back here.
    Ringback,
}

/// A call a device takes part in or that rings on it (in `welcome`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCall {
    pub call: u64,
    pub role: CallRole,
    /// The other party, or whose voicemail this is.
    pub peer: Option<UserRef>,
    /// The pickup code, for a ringback.
    pub code: Option<u16>,
    /// The other party of a connected call has dropped and may come back (as after
    /// `peer_reconnecting`; `peer_reconnected` follows when it does).
    #[serde(default)]
    pub peer_reconnecting: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RingingStopReason {
    AnsweredElsewhere,
    CallerHungUp,
    Declined,
    Unanswered,
    /// A parked call ringing back was picked up by someone (`by`).
    Retrieved,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallEndReason {
    HungUp,
    PeerHungUp,
    PeerLost,
    Parked,
    NoAnswer,
    Declined,
    VoicemailFinished,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParkOutcome {
    /// Picked up by `by`.
    Retrieved,
    RingbackAnswered,
    CallerLeft,
    Voicemail,
    /// Forwarded to `by`.
    Forwarded,
    Disconnected,
    /// The service restarted while the call was parked.
    Lost,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    IncomingCall {
        call: u64,
        from: UserRef,
        forwarded_by: Option<UserRef>,
    },
    RingingStopped {
        call: u64,
        reason: RingingStopReason,
        by: Option<UserRef>,
    },
    /// To the caller: the callee's devices are ringing.
    Ringing {
        call: u64,
        callee: UserRef,
    },
    Connected {
        call: u64,
        peer: UserRef,
    },
    CallEnded {
        call: u64,
        reason: CallEndReason,
    },
    /// The other party's connection dropped; the call goes on (silent) while their
    /// device has a grace period to come back.
    PeerReconnecting {
        call: u64,
        peer: UserRef,
    },
    /// The other party is back; audio resumes.
    PeerReconnected {
        call: u64,
        peer: UserRef,
    },
    /// To the parked caller: on hold.
    OnHold {
        call: u64,
    },
    /// To every device of the parker.
    CallParked {
        call: u64,
        code: u16,
        caller: UserRef,
        ringback_at_ms: u64,
    },
    /// To the parker's devices: nobody picked the call up; ring.
    Ringback {
        call: u64,
        code: u16,
        caller: UserRef,
    },
    /// To every device of the parker: the call left park. The service keeps it
    /// until one of them acknowledges it (`acknowledge_park_ended`).
    ParkEnded(EndedPark),
    /// To every device of the parker: one of them acknowledged the outcome of `call`.
    ParkEndedAcknowledged {
        call: u64,
    },
    VoicemailStarted {
        call: u64,
        owner: UserRef,
    },
    /// To every device of the owner: a new message (see `GET /api/v1/voicemail`).
    VoicemailLeft {
        voicemail: crate::admin::VoicemailEntry,
    },
    /// The whole live list (after subscribing, or when the user's policy or their
    /// right to park changed); `policy` is null when the user may not park or
    /// retrieve, and `park_off` then says why.
    ParkedList {
        policy: Option<String>,
        #[serde(default)]
        park_off: Option<crate::ErrorBody>,
        calls: Vec<ParkedCall>,
    },
    ParkedCallAdded {
        parked: ParkedCall,
    },
    ParkedCallUpdated {
        parked: ParkedCall,
    },
    ParkedCallRemoved {
        call: u64,
        code: u16,
    },
    /// Everyone in the organisation (after subscribing to people).
    People {
        people: Vec<Person>,
    },
    /// Someone's presence changed, or someone joined.
    PersonChanged {
        person: Person,
    },
    PersonRemoved {
        id: u64,
    },
}
