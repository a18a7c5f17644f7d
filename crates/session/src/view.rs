//! The view model: what a client shows, rebuilt from the service's events. The
//! session feeds it; the app, the CLI and the web app render it.

use std::collections::BTreeMap;

use callpark_wire::{CallRole, DeviceCall, EndedPark, Event, ParkedCall, Person, UserRef};
use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Connection {
    #[default]
    Connecting,
    Online,
    /// Lost; trying again after `retry_in_ms` (attempt `attempt`).
    Reconnecting {
        attempt: u32,
        retry_in_ms: u64,
        reason: String,
    },
    /// The service refused the token: sign in again.
    SignedOut {
        reason: String,
    },
    Stopped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallPhase {
    /// We called; the other side is ringing.
    Dialing,
    /// Someone is calling us.
    Incoming,
    Connected,
    /// We are the parked caller, hearing hold music.
    OnHold,
    /// We are leaving a message.
    Voicemail,
    /// A call we parked is ringing back here.
    Ringback,
}

impl CallPhase {
    /// This device takes part in the call's audio: it hears the ringing tone, the
    /// other party, hold music or a greeting, and may be heard. A call ringing here
    /// (incoming, ringback) is not one until it is answered.
    pub fn is_party(self) -> bool {
        matches!(
            self,
            CallPhase::Dialing | CallPhase::Connected | CallPhase::OnHold | CallPhase::Voicemail
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CallView {
    pub call: u64,
    pub phase: CallPhase,
    pub peer: Option<UserRef>,
    /// The pickup code, for a ringback.
    pub code: Option<u16>,
    /// The other party's connection dropped; the call waits for them to come back.
    pub peer_reconnecting: bool,
}

impl CallView {
    /// A call as the service listed it in its welcome.
    pub fn from_welcome(call: &DeviceCall) -> CallView {
        let phase = match call.role {
            CallRole::Dialing => CallPhase::Dialing,
            CallRole::Incoming => CallPhase::Incoming,
            CallRole::Connected => CallPhase::Connected,
            CallRole::OnHold => CallPhase::OnHold,
            CallRole::Voicemail => CallPhase::Voicemail,
            CallRole::Ringback => CallPhase::Ringback,
        };
        CallView {
            call: call.call,
            phase,
            peer: call.peer.clone(),
            code: call.code,
            peer_reconnecting: call.peer_reconnecting,
        }
    }
}

/// A call this user parked and that is still waiting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MyPark {
    pub call: u64,
    pub code: u16,
    pub caller: UserRef,
    pub ringback_at_ms: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ViewModel {
    pub connection: Connection,
    pub user: Option<UserRef>,
    /// The policy that lets this user park, if any.
    pub policy: Option<String>,
    /// Why this user may not park or retrieve, when they may not.
    pub park_off: Option<callpark_wire::ErrorBody>,
    pub calls: BTreeMap<u64, CallView>,
    pub my_parks: BTreeMap<u64, MyPark>,
    /// How my parks ended, by call, until a device of mine acknowledges them.
    pub ended_parks: BTreeMap<u64, EndedPark>,
    /// The live parked-calls list, when subscribed, by code.
    pub parked: Option<BTreeMap<u16, ParkedCall>>,
    /// Voicemail left for this user while the engine ran, newest last (the whole
    /// list is in the API).
    pub new_voicemail: Vec<callpark_wire::admin::VoicemailEntry>,
    /// Everyone in the organisation with their presence, when watched, by user id.
    pub people: Option<BTreeMap<u64, Person>>,
}

impl ViewModel {
    /// The policy as people name it: `Front desk` for the identity `Tag:Front desk`.
    pub fn policy_name(&self) -> Option<&str> {
        self.policy.as_deref().map(|identity| identity.strip_prefix("Tag:").unwrap_or(identity))
    }

    /// This device is a party to a call: its call audio (microphone, speaker) is
    /// open exactly then.
    pub fn in_a_call(&self) -> bool {
        self.calls.values().any(|call| call.phase.is_party())
    }

    /// The connection is gone; the live lists with it (they come again, whole, once
    /// back). While reconnecting the calls stay on screen: the service keeps them
    /// for a grace period, and its welcome says which are still there. Signed out
    /// or stopped, they ended.
    pub fn went_offline(&mut self, connection: Connection) {
        if !matches!(connection, Connection::Reconnecting { .. }) {
            self.calls.clear();
        }
        self.connection = connection;
        self.parked = None;
        self.people = None;
    }

    /// Greeted: the calls the service says this device is in replace those shown
    /// (calls that ended while the connection was down are gone), and so do the
    /// park outcomes not yet acknowledged; a park that ended meanwhile is no longer
    /// waiting. Returns the outcomes this view had not shown before.
    pub fn welcomed(&mut self, calls: &[DeviceCall], ended_parks: &[EndedPark]) -> Vec<EndedPark> {
        self.connection = Connection::Online;
        self.calls = calls.iter().map(|call| (call.call, CallView::from_welcome(call))).collect();
        let new: Vec<EndedPark> = (ended_parks.iter())
            .filter(|ended| self.ended_parks.get(&ended.call) != Some(*ended))
            .cloned()
            .collect();
        self.ended_parks = ended_parks.iter().map(|ended| (ended.call, ended.clone())).collect();
        for ended in ended_parks {
            self.my_parks.remove(&ended.call);
        }
        new
    }

    pub fn apply(&mut self, event: &Event) {
        let set =
            |calls: &mut BTreeMap<u64, CallView>, call: u64, phase, peer: Option<&UserRef>| {
                let entry = calls.entry(call).or_insert(CallView {
                    call,
                    phase,
                    peer: None,
                    code: None,
                    peer_reconnecting: false,
                });
                entry.phase = phase;
                if let Some(peer) = peer {
                    entry.peer = Some(peer.clone());
                }
            };
        match event {
            Event::IncomingCall { call, from, .. } => {
                set(&mut self.calls, *call, CallPhase::Incoming, Some(from));
            }
            Event::RingingStopped { call, .. } | Event::CallEnded { call, .. } => {
                self.calls.remove(call);
            }
            Event::Ringing { call, callee } => {
                set(&mut self.calls, *call, CallPhase::Dialing, Some(callee));
            }
            Event::Connected { call, peer } => {
                set(&mut self.calls, *call, CallPhase::Connected, Some(peer));
            }
            Event::PeerReconnecting { call, .. } | Event::PeerReconnected { call, .. } => {
                if let Some(view) = self.calls.get_mut(call) {
                    view.peer_reconnecting = matches!(event, Event::PeerReconnecting { .. });
                }
            }
            Event::OnHold { call } => set(&mut self.calls, *call, CallPhase::OnHold, None),
            Event::VoicemailStarted { call, .. } => {
                set(&mut self.calls, *call, CallPhase::Voicemail, None);
            }
            Event::CallParked { call, code, caller, ringback_at_ms } => {
                self.calls.remove(call);
                self.my_parks.insert(
                    *call,
                    MyPark {
                        call: *call,
                        code: *code,
                        caller: caller.clone(),
                        ringback_at_ms: *ringback_at_ms,
                    },
                );
            }
            Event::Ringback { call, code, caller } => {
                set(&mut self.calls, *call, CallPhase::Ringback, Some(caller));
                if let Some(view) = self.calls.get_mut(call) {
                    view.code = Some(*code);
                }
            }
            Event::ParkEnded(ended) => {
                self.my_parks.remove(&ended.call);
                self.ended_parks.insert(ended.call, ended.clone());
                // As the service does: a parker who never looks keeps the newest.
                while self.ended_parks.len() > callpark_wire::ENDED_PARKS_KEPT {
                    self.ended_parks.pop_first();
                }
            }
            Event::ParkEndedAcknowledged { call } => {
                self.ended_parks.remove(call);
            }
            Event::ParkedList { policy, park_off, calls } => {
                self.policy.clone_from(policy);
                self.park_off.clone_from(park_off);
                self.parked = Some(calls.iter().map(|p| (p.code, p.clone())).collect());
            }
            Event::ParkedCallAdded { parked } | Event::ParkedCallUpdated { parked } => {
                if let Some(list) = &mut self.parked {
                    list.insert(parked.code, parked.clone());
                }
            }
            Event::ParkedCallRemoved { code, .. } => {
                if let Some(list) = &mut self.parked {
                    list.remove(code);
                }
            }
            Event::VoicemailLeft { voicemail } => self.new_voicemail.push(voicemail.clone()),
            Event::People { people } => {
                self.people = Some(people.iter().map(|p| (p.id, p.clone())).collect());
            }
            Event::PersonChanged { person } => {
                if let Some(people) = &mut self.people {
                    people.insert(person.id, person.clone());
                }
            }
            Event::PersonRemoved { id } => {
                if let Some(people) = &mut self.people {
                    people.remove(id);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> UserRef {
        UserRef { id: 1, name: name.into() }
    }

    #[test]
    fn a_call_goes_from_ringing_to_parked_and_the_park_ends() {
        let mut view = ViewModel::default();
        view.apply(&Event::IncomingCall { call: 7, from: user("Dave"), forwarded_by: None });
        assert_eq!(view.calls[&7].phase, CallPhase::Incoming);
        view.apply(&Event::Connected { call: 7, peer: user("Dave") });
        assert_eq!(view.calls[&7].phase, CallPhase::Connected);
        view.apply(&Event::CallEnded { call: 7, reason: callpark_wire::CallEndReason::Parked });
        view.apply(&Event::CallParked {
            call: 7,
            code: 42,
            caller: user("Dave"),
            ringback_at_ms: 9,
        });
        assert!(view.calls.is_empty());
        assert_eq!(view.my_parks[&7].code, 42);
        view.apply(&Event::Ringback { call: 7, code: 42, caller: user("Dave") });
        assert_eq!((view.calls[&7].phase, view.calls[&7].code), (CallPhase::Ringback, Some(42)));
        let ended = EndedPark {
            call: 7,
            code: 42,
            outcome: callpark_wire::ParkOutcome::Lost,
            by: None,
            caller: user("Dave"),
            ended_at_ms: 10,
        };
        view.apply(&Event::ParkEnded(ended.clone()));
        assert!(view.my_parks.is_empty());
        assert_eq!(view.ended_parks[&7], ended, "kept until acknowledged");
        view.apply(&Event::ParkEndedAcknowledged { call: 7 });
        assert!(view.ended_parks.is_empty());
    }

    #[test]
    fn the_device_is_a_party_while_dialing_talking_on_hold_or_leaving_a_message() {
        let mut view = ViewModel::default();
        assert!(!view.in_a_call());
        view.apply(&Event::IncomingCall { call: 1, from: user("Dave"), forwarded_by: None });
        assert!(!view.in_a_call(), "ringing here is not a call yet");
        view.apply(&Event::Connected { call: 1, peer: user("Dave") });
        assert!(view.in_a_call());
        view.apply(&Event::CallEnded { call: 1, reason: callpark_wire::CallEndReason::Parked });
        assert!(!view.in_a_call(), "the parker leaves the call");
        view.apply(&Event::Ringback { call: 1, code: 10, caller: user("Dave") });
        assert!(!view.in_a_call(), "a ringback rings until answered");
        view.apply(&Event::RingingStopped {
            call: 1,
            reason: callpark_wire::RingingStopReason::AnsweredElsewhere,
            by: None,
        });
        view.apply(&Event::Ringing { call: 2, callee: user("Carol") });
        assert!(view.in_a_call(), "a caller hears the ringing tone");
        view.apply(&Event::OnHold { call: 2 });
        assert!(view.in_a_call(), "a parked caller hears hold music");
        view.apply(&Event::VoicemailStarted { call: 2, owner: user("Carol") });
        assert!(view.in_a_call());
        view.went_offline(Connection::Connecting);
        assert!(!view.in_a_call());
    }

    #[test]
    fn the_parked_list_follows_changes_only_once_subscribed() {
        let mut view = ViewModel::default();
        let parked = ParkedCall {
            call: 3,
            code: 11,
            caller: user("Dave"),
            parked_by: user("Alice"),
            parked_at_ms: 1,
            ringback_at_ms: 2,
            ringing_back: false,
        };
        view.apply(&Event::ParkedCallAdded { parked: parked.clone() });
        assert_eq!(view.parked, None);
        view.apply(&Event::ParkedList {
            policy: None,
            park_off: Some(callpark_wire::ErrorBody::new("park_not_allowed", "Park is off.")),
            calls: vec![],
        });
        assert_eq!(view.park_off.as_ref().map(|why| why.code.as_str()), Some("park_not_allowed"));
        view.apply(&Event::ParkedList {
            policy: Some("Tag:Sales".into()),
            park_off: None,
            calls: vec![],
        });
        assert_eq!((view.policy_name(), &view.park_off), (Some("Sales"), &None));
        view.apply(&Event::ParkedCallAdded { parked });
        assert_eq!(view.parked.as_ref().map(BTreeMap::len), Some(1));
        view.apply(&Event::ParkedCallRemoved { call: 3, code: 11 });
        assert_eq!(view.parked.as_ref().map(BTreeMap::len), Some(0));
        view.went_offline(Connection::Connecting);
        assert_eq!(view.parked, None);
    }
}
