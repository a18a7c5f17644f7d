//! Random runs against a pretend service: service-side changes, requests, dropped
//! and refused connections, a service that stops answering, garbage frames and
//! time jumps. After every step the session must not have panicked, its view must
//! equal the one rebuilt from the service's state for this device (its calls and
//! parks, the parked list and people when subscribed), it must never ask to be woken
//! in the past, and in the end every request has had exactly one outcome.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use callpark_session::intent::{
    AcknowledgeParkEnded, Dial, HangUp, Ping, UnwatchParked, WatchParked, WatchPeople,
};
use callpark_session::{
    CallPhase, CallView, ConnectFailure, Connection, MyPark, Output, REPLY_TIMEOUT, RequestId,
    Session, ViewModel,
};
use callpark_wire::{
    CLOSE_SIGNED_OUT, CallEndReason, CallRole, DeviceCall, EndedPark, Event, ParkOutcome,
    ParkedCall, Person, Presence, ReplyBody, ReplyResult, Request, RequestBody, ServerMessage,
    UserRef,
};
use proptest::prelude::*;

fn user(id: u64) -> UserRef {
    UserRef { id, name: format!("User {id}") }
}

#[derive(Clone, Debug)]
enum Step {
    /// Something changes at the service; `pick` chooses what it is about.
    Change {
        what: u8,
        pick: u8,
    },
    Ask {
        what: u8,
        pick: u8,
    },
    /// The connection the session asked for opens, or fails.
    Network {
        opens: bool,
    },
    /// The connection breaks under both sides.
    Drop,
    /// The service stops (or starts again) answering requests.
    Mute,
    /// Time passes, in milliseconds.
    Wait(u64),
    Garbage,
    /// The service ends this sign-in (rare).
    SignOut,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        80 => (0u8..10, any::<u8>()).prop_map(|(what, pick)| Step::Change { what, pick }),
        40 => (0u8..7, any::<u8>()).prop_map(|(what, pick)| Step::Ask { what, pick }),
        30 => any::<bool>().prop_map(|opens| Step::Network { opens }),
        10 => Just(Step::Drop),
        10 => Just(Step::Mute),
        40 => prop_oneof![0u64..300, 200u64..12_000].prop_map(Step::Wait),
        10 => Just(Step::Garbage),
        // Rare: nothing happens to the session after it.
        1 => Just(Step::SignOut),
    ]
}

/// The service's side of this one device.
#[derive(Default)]
struct PretendService {
    now: Duration,
    /// The session asked to connect and has not heard back.
    connect_asked: bool,
    open: bool,
    greeted: bool,
    muted: bool,
    signed_out: bool,
    parked_subscribed: bool,
    people_subscribed: bool,
    /// The lists the user last asked to watch (or stop watching), answered or not.
    wants_parked: bool,
    wants_people: bool,
    /// A frame went unanswered since the greeting (the service was muted).
    dropped_since_greeting: bool,
    /// What the device showed when its connection was last lost: it keeps showing
    /// those calls while it reconnects.
    frozen: Option<ViewModel>,
    next_call: u64,
    calls: BTreeMap<u64, CallView>,
    my_parks: BTreeMap<u64, MyPark>,
    /// Park outcomes the service keeps for the user, and those it last told this
    /// device of (in a welcome or as events).
    ended: BTreeMap<u64, EndedPark>,
    shown_ended: BTreeMap<u64, EndedPark>,
    parked: BTreeMap<u16, ParkedCall>,
    people: BTreeMap<u64, Person>,
    asked: BTreeSet<RequestId>,
    answered: BTreeMap<RequestId, u32>,
}

fn nth<K: Copy, V>(map: &BTreeMap<K, V>, pick: u8) -> Option<K> {
    (!map.is_empty()).then(|| *map.keys().nth(usize::from(pick) % map.len()).unwrap())
}

impl PretendService {
    fn event(&self, session: &mut Session, event: Event) {
        if self.greeted {
            session.handle_frame(&ServerMessage::Event { event }.to_json(), self.now);
        }
    }

    fn refuse(&self, session: &mut Session, id: u64, code: &str, message: &str) {
        let error = callpark_wire::ErrorBody::new(code, message);
        let frame = ServerMessage::Reply { id: Some(id), result: ReplyResult::Error(error) };
        session.handle_frame(&frame.to_json(), self.now);
    }

    fn reply(&self, session: &mut Session, id: u64, body: ReplyBody) {
        let frame = ServerMessage::Reply { id: Some(id), result: ReplyResult::Ok(body) };
        session.handle_frame(&frame.to_json(), self.now);
    }

    /// The connection is gone. The service keeps the device's calls (its grace
    /// period); the device keeps showing what it showed.
    fn lost(&mut self) {
        if self.greeted {
            self.frozen = Some(self.expected());
        }
        self.open = false;
        self.greeted = false;
        self.parked_subscribed = false;
        self.people_subscribed = false;
    }

    /// Carries out everything the session asks for; the service answers at once
    /// unless muted.
    fn pump(&mut self, session: &mut Session) {
        while let Some(output) = session.poll_output() {
            match output {
                Output::Connect => self.connect_asked = true,
                Output::Send(frame) if self.open && !self.muted => self.serve(session, &frame),
                Output::Send(_) => self.dropped_since_greeting = true,
                Output::Close { .. } => {
                    self.connect_asked = false;
                    self.lost();
                }
                Output::Reply { id, .. } => *self.answered.entry(id).or_default() += 1,
                Output::ViewChanged | Output::Notice(_) => {}
            }
        }
    }

    fn serve(&mut self, session: &mut Session, frame: &str) {
        let Request { id, body } = serde_json::from_str(frame).unwrap();
        match body {
            RequestBody::Hello { .. } => {
                self.greeted = true;
                self.dropped_since_greeting = false;
                let welcome = ReplyBody::Welcome(Box::new(callpark_wire::Welcome {
                    protocol: callpark_wire::PROTOCOL_VERSION,
                    user: user(1),
                    device: 1,
                    policy: Some("Tag:Front desk".into()),
                    park_off: None,
                    resume: "token".into(),
                    resumed: true,
                    calls: self.calls.values().map(device_call).collect(),
                    ended_parks: self.ended.values().cloned().collect(),
                }));
                self.shown_ended = self.ended.clone();
                self.reply(session, id, welcome);
            }
            RequestBody::SubscribeParked => {
                self.parked_subscribed = true;
                self.reply(session, id, ReplyBody::Done);
                let calls = self.parked.values().cloned().collect();
                self.event(session, Event::ParkedList { policy: None, park_off: None, calls });
            }
            RequestBody::UnsubscribeParked => {
                self.parked_subscribed = false;
                self.reply(session, id, ReplyBody::Done);
            }
            RequestBody::SubscribePeople => {
                self.people_subscribed = true;
                self.reply(session, id, ReplyBody::Done);
                let people = self.people.values().cloned().collect();
                self.event(session, Event::People { people });
            }
            RequestBody::Ping => self.reply(session, id, ReplyBody::Pong),
            RequestBody::Dial { .. } => self.reply(session, id, ReplyBody::Dialing { call: 9_999 }),
            RequestBody::AcknowledgeParkEnded { call } => {
                if self.ended.remove(&call).is_some() {
                    self.reply(session, id, ReplyBody::Done);
                    self.shown_ended.remove(&call);
                    self.event(session, Event::ParkEndedAcknowledged { call });
                } else {
                    self.refuse(session, id, "park_outcome_not_found", "No such ended park.");
                }
            }
            RequestBody::Hangup { call } => {
                if self.calls.remove(&call).is_some() {
                    self.reply(session, id, ReplyBody::Done);
                    self.event(session, Event::CallEnded { call, reason: CallEndReason::HungUp });
                } else {
                    self.refuse(session, id, "call_not_found", "No such call.");
                }
            }
            other => panic!("the test does not ask {other:?}"),
        }
    }

    /// A change at the service. While the device is away, its calls may be answered
    /// or end (it hears in the next welcome); it is not rung and parks nothing.
    fn change(&mut self, session: &mut Session, what: u8, pick: u8) {
        let peer = user(2 + u64::from(pick % 3));
        match what {
            0 if self.greeted => {
                self.next_call += 1;
                let call = self.next_call;
                self.calls.insert(
                    call,
                    CallView {
                        call,
                        phase: CallPhase::Incoming,
                        peer: Some(peer.clone()),
                        code: None,
                        peer_reconnecting: false,
                    },
                );
                self.event(session, Event::IncomingCall { call, from: peer, forwarded_by: None });
            }
            1 => {
                let Some(call) = nth(&self.calls, pick) else { return };
                let view = self.calls.get_mut(&call).unwrap();
                view.phase = CallPhase::Connected;
                let peer = view.peer.clone().unwrap();
                self.event(session, Event::Connected { call, peer });
            }
            2 => {
                let Some(call) = nth(&self.calls, pick) else { return };
                self.calls.remove(&call);
                self.event(session, Event::CallEnded { call, reason: CallEndReason::PeerHungUp });
            }
            3 if self.greeted => {
                let Some(call) = nth(&self.calls, pick) else { return };
                let caller = self.calls.remove(&call).unwrap().peer.unwrap();
                let code = 10 + u16::from(pick);
                let park = MyPark { call, code, caller: caller.clone(), ringback_at_ms: 5 };
                self.my_parks.insert(call, park);
                self.event(session, Event::CallParked { call, code, caller, ringback_at_ms: 5 });
            }
            4 if self.greeted => {
                let Some(call) = nth(&self.my_parks, pick) else { return };
                let park = self.my_parks.remove(&call).unwrap();
                let ended = EndedPark {
                    call,
                    code: park.code,
                    outcome: ParkOutcome::Retrieved,
                    by: Some(peer),
                    caller: park.caller,
                    ended_at_ms: 7,
                };
                self.ended.insert(call, ended.clone());
                self.shown_ended.insert(call, ended.clone());
                self.event(session, Event::ParkEnded(ended));
            }
            9 => {
                // Another device of the user acknowledges an outcome; this one hears
                // it now, or (away) learns from the next welcome.
                let Some(call) = nth(&self.ended, pick) else { return };
                self.ended.remove(&call);
                if self.greeted {
                    self.shown_ended.remove(&call);
                    self.event(session, Event::ParkEndedAcknowledged { call });
                }
            }
            5 => {
                let code = 10 + u16::from(pick);
                let parked = ParkedCall {
                    call: 500 + u64::from(pick),
                    code,
                    caller: peer,
                    parked_by: user(9),
                    parked_at_ms: 1,
                    ringback_at_ms: 2,
                    ringing_back: false,
                };
                let added = !self.parked.contains_key(&code);
                self.parked.insert(code, parked.clone());
                if self.parked_subscribed {
                    let event = if added {
                        Event::ParkedCallAdded { parked }
                    } else {
                        Event::ParkedCallUpdated { parked }
                    };
                    self.event(session, event);
                }
            }
            6 => {
                let Some(code) = nth(&self.parked, pick) else { return };
                let call = self.parked.remove(&code).unwrap().call;
                if self.parked_subscribed {
                    self.event(session, Event::ParkedCallRemoved { call, code });
                }
            }
            7 => {
                let id = 2 + u64::from(pick % 5);
                let presence = [Presence::Available, Presence::InCall, Presence::Offline]
                    [usize::from(pick) % 3];
                let person =
                    Person { id, login: format!("u{id}"), name: format!("User {id}"), presence };
                self.people.insert(id, person.clone());
                if self.people_subscribed {
                    self.event(session, Event::PersonChanged { person });
                }
            }
            8 => {
                let Some(id) = nth(&self.people, pick) else { return };
                self.people.remove(&id);
                if self.people_subscribed {
                    self.event(session, Event::PersonRemoved { id });
                }
            }
            _ => {}
        }
    }

    fn ask(&mut self, session: &mut Session, what: u8, pick: u8) {
        match what {
            0 => self.wants_parked = true,
            1 => self.wants_parked = false,
            2 => self.wants_people = true,
            _ => {}
        }
        let id = match what {
            0 => session.ask(WatchParked, self.now),
            1 => session.ask(UnwatchParked, self.now),
            2 => session.ask(WatchPeople, self.now),
            3 => session.ask(Ping, self.now),
            4 => session.ask(Dial { to: "carol".into() }, self.now),
            5 => {
                let call = nth(&self.shown_ended, pick).unwrap_or(77);
                session.ask(AcknowledgeParkEnded { call }, self.now)
            }
            _ => {
                let call = nth(&self.calls, pick).unwrap_or(77);
                session.ask(HangUp { call }, self.now)
            }
        };
        assert!(self.asked.insert(id), "request id {id} given twice");
    }

    /// The view this device should show, from the service's state.
    fn expected(&self) -> ViewModel {
        let mut view = ViewModel {
            my_parks: self.my_parks.clone(),
            ended_parks: self.shown_ended.clone(),
            ..ViewModel::default()
        };
        if !self.greeted && !self.signed_out {
            view.calls =
                self.frozen.as_ref().map(|frozen| frozen.calls.clone()).unwrap_or_default();
        }
        if self.greeted {
            view.connection = Connection::Online;
            view.calls = self.calls.clone();
            view.parked = self.parked_subscribed.then(|| self.parked.clone());
            view.people = self.people_subscribed.then(|| self.people.clone());
        }
        view
    }
}

fn device_call(view: &CallView) -> DeviceCall {
    let role = match view.phase {
        CallPhase::Incoming => CallRole::Incoming,
        CallPhase::Connected => CallRole::Connected,
        other => panic!("the pretend service has no {other:?} calls"),
    };
    DeviceCall {
        call: view.call,
        role,
        peer: view.peer.clone(),
        code: view.code,
        peer_reconnecting: view.peer_reconnecting,
    }
}

fn run(steps: &[Step]) {
    let mut service = PretendService::default();
    let mut session = Session::new("laptop");
    service.pump(&mut session);
    for step in steps {
        match step {
            Step::Change { what, pick } => service.change(&mut session, *what, *pick),
            Step::Ask { what, pick } => service.ask(&mut session, *what, *pick),
            Step::Network { opens } => {
                if service.connect_asked {
                    service.connect_asked = false;
                    if *opens && !service.signed_out {
                        service.open = true;
                        session.handle_connected(service.now);
                    } else {
                        session.handle_connect_failed(
                            ConnectFailure::Failed("no route".into()),
                            service.now,
                        );
                    }
                }
            }
            Step::Drop => {
                if service.open {
                    service.lost();
                    session.handle_closed(None, "connection reset", service.now);
                }
            }
            Step::Mute => service.muted = !service.muted,
            Step::Wait(ms) => {
                service.now += Duration::from_millis(*ms);
                session.handle_timeout(service.now);
            }
            Step::Garbage => session.handle_frame("{\"type\":\"event\",\"kind\":", service.now),
            Step::SignOut => {
                if service.open {
                    service.lost();
                    service.signed_out = true;
                    session.handle_closed(
                        Some(CLOSE_SIGNED_OUT),
                        "Signed out elsewhere.",
                        service.now,
                    );
                }
            }
        }
        service.pump(&mut session);
        if let Some(due) = session.poll_timeout() {
            assert!(due > service.now, "asks to be woken at {due:?}, now is {:?}", service.now);
        }
        let view = session.view();
        let expected = service.expected();
        if service.greeted {
            assert_eq!(view.connection, Connection::Online);
            assert_eq!(view.user, Some(user(1)));
            if !service.dropped_since_greeting {
                // What the user asked to watch is watched, across reconnects too.
                assert_eq!(service.parked_subscribed, service.wants_parked, "after {step:?}");
                assert_eq!(service.people_subscribed, service.wants_people, "after {step:?}");
            }
        } else {
            assert_ne!(view.connection, Connection::Online, "online without a welcome");
        }
        assert_eq!(view.calls, expected.calls, "calls after {step:?}");
        assert_eq!(view.my_parks, expected.my_parks, "parks after {step:?}");
        assert_eq!(view.parked, expected.parked, "parked list after {step:?}");
        assert_eq!(view.people, expected.people, "people after {step:?}");
    }
    // Long after: everything asked has had exactly one outcome.
    service.now += REPLY_TIMEOUT * 2;
    session.handle_timeout(service.now);
    service.pump(&mut session);
    for id in &service.asked {
        assert_eq!(service.answered.get(id), Some(&1), "request {id}: outcomes");
    }
    assert_eq!(service.answered.len(), service.asked.len(), "outcomes for requests never made");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn the_view_follows_the_service_through_drops_timeouts_and_reconnects(
        steps in proptest::collection::vec(step(), 1..120)
    ) {
        run(&steps);
    }
}
