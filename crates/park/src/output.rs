//! What the switchboard asks its driver to do. Drain with `Switchboard::poll_output`.

use crate::CallError;
use crate::directory::UnansweredAction;
use crate::ids::{CallId, DeviceId, PolicyId, UserId};
use crate::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Tell one device something (the driver turns it into a protocol message).
    Notify {
        device: DeviceId,
        notice: Notice,
    },
    Media(MediaCommand),
    Store(StoreCommand),
    Audit(AuditEvent),
}

/// Audio routing for the media anchor. Every command replaces whatever the leg had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaCommand {
    /// Two-way audio between two devices.
    Bridge { a: DeviceId, b: DeviceId },
    /// The shared hold-music source into this device.
    HoldMusic { device: DeviceId },
    /// Ringing tone into this device (it is calling someone who has not answered).
    RingingTone { device: DeviceId },
    /// Play the owner's greeting and a tone into this device, then record it.
    /// The caller (`device`, signed in as `caller`) leaves `owner` a message.
    Voicemail { device: DeviceId, owner: UserId, call: CallId, caller: UserId },
    /// This device's part in the call is over: no audio to or from it.
    EndLeg { device: DeviceId },
}

/// Durable record keeping for parked calls and call ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreCommand {
    SaveParkedCall(ParkedCallRecord),
    /// The call left park: its parked record goes, and how it ended is kept until
    /// the parker acknowledges it.
    ParkEnded(ParkEndRecord),
    /// The parker acknowledged this outcome (or it was pushed out by newer ones).
    ForgetParkOutcome {
        parked_by: UserId,
        call: CallId,
    },
    /// Two devices are now connected: kept so that the call can go on after a
    /// restart when both come back.
    SaveConnectedCall(ConnectedCallRecord),
    /// The call is no longer connected (hung up, parked, lost a party).
    ForgetConnectedCall {
        call: CallId,
    },
    /// Call ids up to `through` are about to be given out: keep this, so that after
    /// a restart (a crash included) new calls start above it and no id names two
    /// calls. Asked for once per [`CALL_ID_BLOCK`] calls.
    ReserveCallIds {
        through: CallId,
    },
}

/// How many call ids one [`StoreCommand::ReserveCallIds`] covers.
pub const CALL_ID_BLOCK: u64 = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParkedCallRecord {
    pub call: CallId,
    pub policy: PolicyId,
    pub code: u16,
    pub caller: UserId,
    pub caller_device: DeviceId,
    pub parked_by: UserId,
    pub parked_at: Timestamp,
    pub ringback_at: Timestamp,
}

/// A connected call: who is on it, on which device. `a` called, `b` answered (or
/// retrieved, or took the ringback).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectedCallRecord {
    pub call: CallId,
    pub a: crate::switchboard::Party,
    pub b: crate::switchboard::Party,
}

/// How a park ended, for its parker. A parker keeps one per call: a call they park
/// again after it came back replaces the earlier outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParkEndRecord {
    pub call: CallId,
    pub code: u16,
    pub caller: UserId,
    pub parked_by: UserId,
    pub outcome: ParkOutcome,
    pub ended_at: Timestamp,
}

/// One entry of the live parked-calls list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParkedCallView {
    pub call: CallId,
    pub code: u16,
    pub caller: UserId,
    pub parked_by: UserId,
    pub parked_at: Timestamp,
    pub ringback_at: Timestamp,
    pub ringing_back: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParkedListChange {
    /// The whole list (after subscribing, or when the device's policy or the user's
    /// right to park changed): the policy whose calls these are, or why the user
    /// may not park or retrieve (and sees none).
    Snapshot {
        access: Result<PolicyId, CallError>,
        calls: Vec<ParkedCallView>,
    },
    Added(ParkedCallView),
    Updated(ParkedCallView),
    Removed {
        call: CallId,
        code: u16,
    },
}

/// Why a device stops ringing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingingStopped {
    AnsweredElsewhere,
    CallerHungUp,
    Declined,
    Unanswered,
    /// A parked call that was ringing back was picked up by someone.
    RetrievedBy(UserId),
}

/// Why a call ended for a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallEnded {
    /// This device hung up.
    HungUp,
    PeerHungUp,
    /// The other side's device lost its connection.
    PeerLost,
    /// This device parked the call; the parker's devices got `CallParked`.
    Parked {
        code: u16,
    },
    /// Nobody answered and the unanswered setting was to end the call.
    NoAnswer,
    /// The callee declined and their setting was to end the call.
    Declined,
    VoicemailFinished,
}

/// How a parked call left park. Every parked call gets exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParkOutcome {
    Retrieved {
        by: UserId,
    },
    RingbackAnswered,
    CallerLeft,
    FellBack(UnansweredAction),
    /// Parked when the service stopped, and not restorable after it started again.
    Lost,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Ring: `from` is calling this device's user.
    IncomingCall {
        call: CallId,
        from: UserId,
        forwarded_by: Option<UserId>,
    },
    RingingStopped {
        call: CallId,
        reason: RingingStopped,
    },
    /// To the caller: `callee`'s devices are ringing.
    Ringing {
        call: CallId,
        callee: UserId,
    },
    /// Audio now flows between this device and `peer`.
    Connected {
        call: CallId,
        peer: UserId,
    },
    CallEnded {
        call: CallId,
        reason: CallEnded,
    },
    /// To the parked caller: on hold, with music.
    OnHold {
        call: CallId,
    },
    /// To every device of the parker: the call waits under `code` until `ringback_at`.
    CallParked {
        call: CallId,
        code: u16,
        caller: UserId,
        ringback_at: Timestamp,
    },
    /// To the parker's devices: nobody picked the call up; ring.
    Ringback {
        call: CallId,
        code: u16,
        caller: UserId,
    },
    /// To every device of the parker: the parked call left park (the record is kept
    /// until one of them acknowledges it).
    ParkEnded(ParkEndRecord),
    /// To every device of the parker: one of them acknowledged this outcome.
    ParkEndedAcknowledged {
        call: CallId,
    },
    /// To the other party of a call: `peer`'s device lost its connection and has
    /// a grace period to come back; the call goes on (silent meanwhile).
    PeerReconnecting {
        call: CallId,
        peer: UserId,
    },
    /// To the other party: `peer`'s device is back and the call continues.
    PeerReconnected {
        call: CallId,
        peer: UserId,
    },
    /// To the caller: leaving a message for `owner`.
    VoicemailStarted {
        call: CallId,
        owner: UserId,
    },
    ParkedList(ParkedListChange),
    People(PeopleChange),
}

/// Whether a user can be reached, as colleagues see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// No device signed in.
    Offline,
    /// Signed in and not in a call.
    Available,
    /// On at least one device, in a call (talking, dialing, on hold, parked by them
    /// is not counted: a parked call has left their device).
    InCall,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeopleChange {
    /// Every user with their presence (after subscribing).
    Everyone(Vec<(UserId, Presence)>),
    /// A user's presence changed, or a user was added.
    Changed { user: UserId, presence: Presence },
    /// The account was removed.
    Removed { user: UserId },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditKind {
    Parked {
        caller: UserId,
    },
    ParkRefused {
        reason: &'static str,
    },
    Retrieved,
    RetrieveRefused {
        reason: &'static str,
    },
    RangBack,
    RingbackAnswered,
    FellBack(UnansweredAction),
    CallerLeft,
    /// The service restarted and could not keep the park.
    Lost,
}

/// One line of the park audit trail: what happened, to which parked call, and who
/// did it (`user`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    pub at: Timestamp,
    pub kind: AuditKind,
    pub user: Option<UserId>,
    pub policy: Option<PolicyId>,
    pub call: Option<CallId>,
    pub code: Option<u16>,
}
