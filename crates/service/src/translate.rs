//! From the switchboard's terms (ids, notices, errors) to the wire's (names, events,
//! `{code, message}`).

use callpark_park::{
    CallEnded, CallError, DeviceCall, DeviceRole, Directory, Notice, ParkEndRecord, ParkOutcome,
    ParkedCallView, ParkedListChange, PeopleChange, PolicyId, Presence, RingingStopped,
    UnansweredAction, UserId,
};
use callpark_wire::{self as wire, ErrorBody, Event, UserRef};

pub fn user_ref(directory: &Directory, user: UserId) -> UserRef {
    UserRef { id: user.0, name: directory.display_name(user) }
}

pub fn call_error(error: &CallError) -> ErrorBody {
    ErrorBody::new(error.code(), error.to_string())
}

/// A user's right to park as the wire says it: the policy's identity, or why park
/// is off for them.
pub fn park_access(
    directory: &Directory,
    access: &Result<PolicyId, CallError>,
) -> (Option<String>, Option<ErrorBody>) {
    match access {
        Ok(policy) => (directory.policy(*policy).map(|p| p.identity.to_string()), None),
        Err(refusal) => (None, Some(call_error(refusal))),
    }
}

// The service keeps what the wire promises clients it keeps.
const _: () = assert!(callpark_park::PARK_OUTCOMES_KEPT == callpark_wire::ENDED_PARKS_KEPT);

/// How a park ended, as its parker's devices are told.
pub fn ended_park(directory: &Directory, record: &ParkEndRecord) -> wire::EndedPark {
    let user = |id: UserId| user_ref(directory, id);
    let (outcome, by) = match record.outcome {
        ParkOutcome::Retrieved { by } => (wire::ParkOutcome::Retrieved, Some(user(by))),
        ParkOutcome::RingbackAnswered => (wire::ParkOutcome::RingbackAnswered, None),
        ParkOutcome::CallerLeft => (wire::ParkOutcome::CallerLeft, None),
        ParkOutcome::FellBack(UnansweredAction::Voicemail) => (wire::ParkOutcome::Voicemail, None),
        ParkOutcome::FellBack(UnansweredAction::Forward(to)) => {
            (wire::ParkOutcome::Forwarded, Some(user(to)))
        }
        ParkOutcome::FellBack(UnansweredAction::Disconnect) => {
            (wire::ParkOutcome::Disconnected, None)
        }
        ParkOutcome::Lost => (wire::ParkOutcome::Lost, None),
    };
    wire::EndedPark {
        call: record.call.0,
        code: record.code,
        outcome,
        by,
        caller: user(record.caller),
        ended_at_ms: record.ended_at.as_millis(),
    }
}

/// A call a device is in, as its welcome tells it.
pub fn device_call(directory: &Directory, call: &DeviceCall) -> wire::DeviceCall {
    wire::DeviceCall {
        call: call.call.0,
        role: match call.role {
            DeviceRole::Dialing => wire::CallRole::Dialing,
            DeviceRole::Incoming => wire::CallRole::Incoming,
            DeviceRole::Connected => wire::CallRole::Connected,
            DeviceRole::OnHold => wire::CallRole::OnHold,
            DeviceRole::Voicemail => wire::CallRole::Voicemail,
            DeviceRole::Ringback => wire::CallRole::Ringback,
        },
        peer: call.peer.map(|peer| user_ref(directory, peer)),
        code: call.code,
        peer_reconnecting: call.peer_reconnecting,
    }
}

fn parked_call(directory: &Directory, view: &ParkedCallView) -> wire::ParkedCall {
    wire::ParkedCall {
        call: view.call.0,
        code: view.code,
        caller: user_ref(directory, view.caller),
        parked_by: user_ref(directory, view.parked_by),
        parked_at_ms: view.parked_at.as_millis(),
        ringback_at_ms: view.ringback_at.as_millis(),
        ringing_back: view.ringing_back,
    }
}

fn person(
    directory: &Directory,
    login_of: &dyn Fn(UserId) -> Option<String>,
    user: UserId,
    presence: Presence,
) -> wire::Person {
    wire::Person {
        id: user.0,
        login: login_of(user).unwrap_or_default(),
        name: directory.display_name(user),
        presence: match presence {
            Presence::Available => wire::Presence::Available,
            Presence::InCall => wire::Presence::InCall,
            Presence::Offline => wire::Presence::Offline,
        },
    }
}

fn people_event(
    directory: &Directory,
    login_of: &dyn Fn(UserId) -> Option<String>,
    change: &PeopleChange,
) -> Event {
    match change {
        PeopleChange::Everyone(everyone) => Event::People {
            people: everyone
                .iter()
                .map(|(user, presence)| person(directory, login_of, *user, *presence))
                .collect(),
        },
        PeopleChange::Changed { user, presence } => {
            Event::PersonChanged { person: person(directory, login_of, *user, *presence) }
        }
        PeopleChange::Removed { user } => Event::PersonRemoved { id: user.0 },
    }
}

/// The event a device gets for a notice from the switchboard; `login_of` gives a
/// user's login name (the people list shows it).
pub fn notice_to_event(
    directory: &Directory,
    login_of: &dyn Fn(UserId) -> Option<String>,
    notice: &Notice,
) -> Event {
    let user = |id: UserId| user_ref(directory, id);
    match notice {
        Notice::IncomingCall { call, from, forwarded_by } => Event::IncomingCall {
            call: call.0,
            from: user(*from),
            forwarded_by: forwarded_by.map(user),
        },
        Notice::RingingStopped { call, reason } => {
            let (reason, by) = match reason {
                RingingStopped::AnsweredElsewhere => {
                    (wire::RingingStopReason::AnsweredElsewhere, None)
                }
                RingingStopped::CallerHungUp => (wire::RingingStopReason::CallerHungUp, None),
                RingingStopped::Declined => (wire::RingingStopReason::Declined, None),
                RingingStopped::Unanswered => (wire::RingingStopReason::Unanswered, None),
                RingingStopped::RetrievedBy(by) => {
                    (wire::RingingStopReason::Retrieved, Some(user(*by)))
                }
            };
            Event::RingingStopped { call: call.0, reason, by }
        }
        Notice::Ringing { call, callee } => Event::Ringing { call: call.0, callee: user(*callee) },
        Notice::Connected { call, peer } => Event::Connected { call: call.0, peer: user(*peer) },
        Notice::CallEnded { call, reason } => Event::CallEnded {
            call: call.0,
            reason: match reason {
                CallEnded::HungUp => wire::CallEndReason::HungUp,
                CallEnded::PeerHungUp => wire::CallEndReason::PeerHungUp,
                CallEnded::PeerLost => wire::CallEndReason::PeerLost,
                CallEnded::Parked { .. } => wire::CallEndReason::Parked,
                CallEnded::NoAnswer => wire::CallEndReason::NoAnswer,
                CallEnded::Declined => wire::CallEndReason::Declined,
                CallEnded::VoicemailFinished => wire::CallEndReason::VoicemailFinished,
            },
        },
        Notice::PeerReconnecting { call, peer } => {
            Event::PeerReconnecting { call: call.0, peer: user(*peer) }
        }
        Notice::PeerReconnected { call, peer } => {
            Event::PeerReconnected { call: call.0, peer: user(*peer) }
        }
        Notice::OnHold { call } => Event::OnHold { call: call.0 },
        Notice::CallParked { call, code, caller, ringback_at } => Event::CallParked {
            call: call.0,
            code: *code,
            caller: user(*caller),
            ringback_at_ms: ringback_at.as_millis(),
        },
        Notice::Ringback { call, code, caller } => {
            Event::Ringback { call: call.0, code: *code, caller: user(*caller) }
        }
        Notice::ParkEnded(record) => Event::ParkEnded(ended_park(directory, record)),
        Notice::ParkEndedAcknowledged { call } => Event::ParkEndedAcknowledged { call: call.0 },
        Notice::VoicemailStarted { call, owner } => {
            Event::VoicemailStarted { call: call.0, owner: user(*owner) }
        }
        Notice::ParkedList(change) => match change {
            ParkedListChange::Snapshot { access, calls } => {
                let (policy, park_off) = park_access(directory, access);
                Event::ParkedList {
                    policy,
                    park_off,
                    calls: calls.iter().map(|view| parked_call(directory, view)).collect(),
                }
            }
            ParkedListChange::Added(view) => {
                Event::ParkedCallAdded { parked: parked_call(directory, view) }
            }
            ParkedListChange::Updated(view) => {
                Event::ParkedCallUpdated { parked: parked_call(directory, view) }
            }
            ParkedListChange::Removed { call, code } => {
                Event::ParkedCallRemoved { call: call.0, code: *code }
            }
        },
        Notice::People(change) => people_event(directory, login_of, change),
    }
}
