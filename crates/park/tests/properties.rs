//! Random sequences of operations against the switchboard with a simulated clock,
//! checking the invariants the product promises after every step.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::{BTreeSet, HashMap, HashSet};

use callpark_park::*;
use proptest::prelude::*;

const USERS: u64 = 6;
/// (device, owner): users 0 and 3 have two devices each.
const DEVICES: [(u64, u64); 8] =
    [(10, 0), (11, 0), (20, 1), (30, 2), (40, 3), (41, 3), (50, 4), (60, 5)];
const POLICIES: [&str; 2] = ["P1", "P2"];

#[derive(Clone, Debug)]
enum Op {
    Dial {
        device: usize,
        callee: u64,
    },
    /// Answers the `pick`-th call ringing on the device (incoming or ringback).
    Answer {
        device: usize,
        pick: usize,
    },
    Decline {
        device: usize,
        pick: usize,
    },
    Hangup {
        device: usize,
    },
    Park {
        device: usize,
    },
    Retrieve {
        device: usize,
        code: u16,
    },
    Advance {
        millis: u64,
    },
    Offline {
        device: usize,
    },
    Online {
        device: usize,
    },
    /// The device's connection drops; it may come back (`Returned`) or not.
    Dropped {
        device: usize,
    },
    Returned {
        device: usize,
    },
    SetRange {
        policy: usize,
        start: u16,
        len: u16,
    },
    Regrant {
        user: u64,
        policy: Option<usize>,
    },
    ToggleEnterpriseVoice {
        user: u64,
    },
    VoicemailFinished {
        call: u64,
    },
    /// Acknowledges the `pick`-th kept park outcome of the device's user, or a call
    /// that is not one (`pick` past the end).
    Acknowledge {
        device: usize,
        pick: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let device = 0..DEVICES.len();
    prop_oneof![
        4 => (device.clone(), 0..USERS).prop_map(|(device, callee)| Op::Dial { device, callee }),
        6 => (device.clone(), 0..3usize).prop_map(|(device, pick)| Op::Answer { device, pick }),
        1 => (device.clone(), 0..3usize).prop_map(|(device, pick)| Op::Decline { device, pick }),
        2 => device.clone().prop_map(|device| Op::Hangup { device }),
        4 => device.clone().prop_map(|device| Op::Park { device }),
        4 => (device.clone(), 9..16u16).prop_map(|(device, code)| Op::Retrieve { device, code }),
        4 => prop_oneof![0..2_000u64, 0..400_000u64].prop_map(|millis| Op::Advance { millis }),
        1 => device.clone().prop_map(|device| Op::Offline { device }),
        1 => device.clone().prop_map(|device| Op::Online { device }),
        1 => device.clone().prop_map(|device| Op::Dropped { device }),
        1 => device.clone().prop_map(|device| Op::Returned { device }),
        1 => (0..2usize, 10..14u16, 0..4u16).prop_map(|(policy, start, len)| Op::SetRange { policy, start, len }),
        1 => (0..USERS, prop::option::of(0..2usize)).prop_map(|(user, policy)| Op::Regrant { user, policy }),
        1 => (0..USERS).prop_map(|user| Op::ToggleEnterpriseVoice { user }),
        1 => (1..40u64).prop_map(|call| Op::VoicemailFinished { call }),
        2 => (device, 0..4usize).prop_map(|(device, pick)| Op::Acknowledge { device, pick }),
    ]
}

struct Harness {
    sb: Switchboard,
    now: Timestamp,
    /// Per policy, the last code handed out.
    last_code: HashMap<PolicyId, u16>,
    /// Calls parked and not yet ended, with when they must ring back.
    open_parks: HashMap<CallId, Timestamp>,
    saved_records: HashSet<CallId>,
    /// Connected calls the store was asked to keep, with their parties.
    saved_connected: HashMap<CallId, (Party, Party)>,
    /// Park outcomes the store keeps, as its commands say.
    stored_outcomes: HashSet<(UserId, CallId)>,
    /// The highest call id the store was asked to reserve.
    call_ids_reserved_through: u64,
}

impl Harness {
    fn new() -> Self {
        let mut sb = Switchboard::default();
        let now = Timestamp::from_millis(0);
        for user in 0..USERS {
            let action = if user == 2 {
                UnansweredAction::Forward(UserId(0))
            } else if user == 4 {
                UnansweredAction::Disconnect
            } else {
                UnansweredAction::Voicemail
            };
            sb.add_user(
                UserId(user),
                UserSettings::new(format!("user{user}")).with_enterprise_voice(true),
            )
            .unwrap();
            if user == 2 || user == 4 {
                let settings = UserSettings::new(format!("user{user}"))
                    .with_enterprise_voice(true)
                    .with_unanswered(action, 10);
                sb.update_user(UserId(user), settings).unwrap();
            }
        }
        for name in POLICIES {
            let changes = PolicyChanges {
                allow_call_park: Some(true),
                pickup_range_start: Some(10),
                pickup_range_end: Some(12),
                park_timeout_seconds: Some(120),
                ..Default::default()
            };
            sb.new_policy(name, &changes).unwrap();
        }
        for (user, policy) in [(0, "P1"), (1, "P1"), (2, "P1"), (3, "P2"), (4, "P2")] {
            sb.grant_user_policy(UserId(user), Some(policy)).unwrap();
        }
        for (device, owner) in DEVICES {
            sb.handle_device_online(now, DeviceId(device), UserId(owner)).unwrap();
        }
        Self {
            sb,
            now,
            last_code: HashMap::new(),
            open_parks: HashMap::new(),
            saved_records: HashSet::new(),
            saved_connected: HashMap::new(),
            stored_outcomes: HashSet::new(),
            call_ids_reserved_through: 0,
        }
    }

    fn device(index: usize) -> (DeviceId, UserId) {
        let (device, owner) = DEVICES[index];
        (DeviceId(device), UserId(owner))
    }

    fn policy_of(&self, user: UserId) -> Option<PolicyId> {
        self.sb.directory().effective_policy(user).map(|e| e.policy)
    }

    fn parked_codes(&self, policy: PolicyId) -> BTreeSet<u16> {
        self.sb.parked_calls(policy).iter().map(|view| view.code).collect()
    }

    /// Where the spec says the next code must be: after the last one, wrapping, first
    /// not held.
    fn expected_code(&self, policy: PolicyId) -> Option<u16> {
        let range = self.sb.directory().policy(policy)?.pickup_range();
        let held = self.parked_codes(policy);
        let (start, end) = (*range.start(), *range.end());
        let first = match self.last_code.get(&policy) {
            Some(&last) if last >= start && last < end => last + 1,
            _ => start,
        };
        (first..=end).chain(start..first).find(|code| !held.contains(code))
    }

    fn apply(&mut self, op: &Op) {
        let now = self.now;
        match *op {
            Op::Dial { device, callee } => {
                let (device, _) = Self::device(device);
                let _ = self.sb.handle_dial(now, device, UserId(callee));
            }
            Op::Answer { device, pick } => {
                let (device, user) = Self::device(device);
                if let Some(call) = self.ringing_for(device, user, pick) {
                    let _ = self.sb.handle_answer(now, device, call);
                }
            }
            Op::Decline { device, pick } => {
                let (device, user) = Self::device(device);
                if let Some(call) = self.ringing_for(device, user, pick) {
                    let _ = self.sb.handle_decline(now, device, call);
                }
            }
            Op::Hangup { device } => {
                let (device, _) = Self::device(device);
                if let Some(call) = self.sb.device_call(device) {
                    self.sb.handle_hangup(now, device, call).unwrap();
                }
            }
            Op::Park { device } => self.park(device),
            Op::Retrieve { device, code } => self.retrieve(device, code),
            Op::Advance { millis } => {
                self.now = Timestamp::from_millis(now.as_millis() + millis);
                self.sb.handle_timeout(self.now);
            }
            Op::Offline { device } => self.sb.handle_device_offline(now, Self::device(device).0),
            Op::Dropped { device } => self.sb.handle_device_dropped(now, Self::device(device).0),
            Op::Returned { device } => {
                self.sb.handle_device_returned(Self::device(device).0);
            }
            Op::Online { device } => {
                let (device, user) = Self::device(device);
                self.sb.handle_device_online(now, device, user).unwrap();
            }
            Op::SetRange { policy, start, len } => {
                let changes = PolicyChanges {
                    pickup_range_start: Some(i64::from(start)),
                    pickup_range_end: Some(i64::from(start + len)),
                    ..Default::default()
                };
                self.sb.set_policy(POLICIES[policy], &changes).unwrap();
            }
            Op::Regrant { user, policy } => {
                self.sb.grant_user_policy(UserId(user), policy.map(|p| POLICIES[p])).unwrap();
            }
            Op::ToggleEnterpriseVoice { user } => {
                let mut settings = self.sb.directory().user(UserId(user)).unwrap().clone();
                settings.enterprise_voice = !settings.enterprise_voice;
                self.sb.update_user(UserId(user), settings).unwrap();
            }
            Op::VoicemailFinished { call } => self.sb.handle_voicemail_finished(CallId(call)),
            Op::Acknowledge { device, pick } => {
                let (device, user) = Self::device(device);
                let kept: Vec<CallId> = self.sb.park_outcomes_of(user).map(|r| r.call).collect();
                if self.sb.device_owner(device).is_none() {
                    let call = kept.get(pick).copied().unwrap_or(CallId(999));
                    let error = self.sb.handle_acknowledge_park_ended(device, call);
                    assert_eq!(error, Err(CallError::UnknownDevice));
                    return;
                }
                match kept.get(pick) {
                    Some(&call) => self.sb.handle_acknowledge_park_ended(device, call).unwrap(),
                    None => {
                        let error = self.sb.handle_acknowledge_park_ended(device, CallId(999));
                        assert_eq!(
                            error,
                            Err(CallError::ParkOutcomeNotFound { call: CallId(999) })
                        );
                    }
                }
            }
        }
    }

    fn park(&mut self, device: usize) {
        let (device, user) = Self::device(device);
        let Some(call) = self.sb.device_call(device) else {
            return;
        };
        let policy = self.policy_of(user);
        let expected = policy.and_then(|p| self.expected_code(p));
        match self.sb.handle_park(self.now, device, call) {
            Ok(receipt) => {
                assert_eq!(Some(receipt.policy), policy);
                assert_eq!(
                    Some(receipt.code),
                    expected,
                    "codes follow the sequence, skipping held ones"
                );
                self.last_code.insert(receipt.policy, receipt.code);
            }
            Err(CallError::NoFreeCode { .. }) => {
                assert_eq!(expected, None, "refused although a code was free");
                assert!(
                    matches!(self.sb.call(call), Some(CallView::Connected { .. })),
                    "call stays connected"
                );
            }
            Err(_) => {}
        }
    }

    fn retrieve(&mut self, device: usize, code: u16) {
        let (device, user) = Self::device(device);
        let own_policy = self.sb.directory().effective_policy(user).map(|e| e.policy);
        let parked_in_own = own_policy.is_some_and(|p| self.parked_codes(p).contains(&code));
        let may_park = self.sb.directory().user(user).is_some_and(|u| u.enterprise_voice)
            && own_policy
                .and_then(|p| self.sb.directory().policy(p))
                .is_some_and(|p| p.allow_call_park);
        let busy = self.sb.device_call(device).is_some();
        let online = self.sb.devices_of(user).contains(&device);
        match self.sb.handle_retrieve(self.now, device, code) {
            Ok(receipt) => {
                assert!(
                    may_park && parked_in_own,
                    "a retrieve succeeded outside the retriever's policy"
                );
                assert_eq!(self.sb.device_call(device), Some(receipt.call));
            }
            Err(error) => {
                assert!(
                    !(may_park && parked_in_own && !busy && online),
                    "a permitted retrieve of a parked code failed: {error}"
                );
            }
        }
    }

    /// Checks the outputs since the last step and the invariants of the state.
    fn check(&mut self) {
        while let Some(output) = self.sb.poll_output() {
            match output {
                Output::Audit(event)
                    if event.call.is_some_and(|call| call.0 > self.call_ids_reserved_through) =>
                {
                    panic!("{event:?} names a call id the store was not asked to reserve");
                }
                Output::Audit(event) => match event.kind {
                    AuditKind::Parked { .. } => {
                        let call = event.call.unwrap();
                        let view = self.parked_view(call);
                        let ringback_at = view.map_or(event.at, |v| v.ringback_at);
                        assert!(
                            self.open_parks.insert(call, ringback_at).is_none(),
                            "parked twice"
                        );
                    }
                    AuditKind::Retrieved
                    | AuditKind::RingbackAnswered
                    | AuditKind::CallerLeft
                    | AuditKind::Lost
                    | AuditKind::FellBack(_) => {
                        let call = event.call.unwrap();
                        let ringback_at = self.open_parks.remove(&call);
                        assert!(
                            ringback_at.is_some(),
                            "a parked call ended twice, or without a park"
                        );
                        if matches!(event.kind, AuditKind::FellBack(_)) {
                            assert!(
                                event.at >= ringback_at.unwrap_or_default(),
                                "fell back before its ringback time"
                            );
                        }
                    }
                    AuditKind::RangBack => {
                        let call = event.call.unwrap();
                        let due = self.open_parks.get(&call).copied();
                        assert!(due.is_some_and(|due| event.at >= due), "rang back early");
                    }
                    AuditKind::ParkRefused { .. } | AuditKind::RetrieveRefused { .. } => {}
                },
                Output::Store(StoreCommand::SaveParkedCall(record)) => {
                    assert!(
                        record.call.0 <= self.call_ids_reserved_through,
                        "{record:?} not reserved"
                    );
                    assert!(self.saved_records.insert(record.call));
                }
                Output::Store(StoreCommand::ReserveCallIds { through }) => {
                    assert!(through.0 > self.call_ids_reserved_through, "a reservation went back");
                    self.call_ids_reserved_through = through.0;
                }
                Output::Store(StoreCommand::ParkEnded(record)) => {
                    assert!(self.saved_records.remove(&record.call));
                    // A call parked again by the same parker replaces its outcome.
                    self.stored_outcomes.insert((record.parked_by, record.call));
                }
                Output::Store(StoreCommand::ForgetParkOutcome { parked_by, call }) => {
                    let removed = self.stored_outcomes.remove(&(parked_by, call));
                    assert!(removed, "forgot {call:?} of {parked_by:?}, never kept");
                }
                Output::Store(StoreCommand::SaveConnectedCall(record)) => {
                    let parties = (record.a, record.b);
                    assert!(self.saved_connected.insert(record.call, parties).is_none());
                }
                Output::Store(StoreCommand::ForgetConnectedCall { call }) => {
                    assert!(self.saved_connected.remove(&call).is_some(), "{call:?} never kept");
                }
                Output::Notify { .. } | Output::Media(_) => {}
            }
        }
        // Every open park is parked exactly once, under a unique code in its policy.
        let mut parked_calls = HashSet::new();
        let policies: Vec<PolicyId> = self.sb.directory().policies().map(|(id, _)| id).collect();
        for policy in policies {
            let views = self.sb.parked_calls(policy);
            let codes: BTreeSet<u16> = views.iter().map(|v| v.code).collect();
            assert_eq!(codes.len(), views.len(), "two live parks share a code in {policy}");
            for view in views {
                assert!(parked_calls.insert(view.call));
            }
        }
        assert_eq!(parked_calls, self.open_parks.keys().copied().collect::<HashSet<_>>());
        assert_eq!(parked_calls, self.saved_records);
        // The store keeps exactly the connected calls, with their parties.
        let connected: HashMap<CallId, (Party, Party)> = (self.sb.calls())
            .filter_map(|call| match self.sb.call(call)? {
                CallView::Connected { a, b } => Some((call, (a, b))),
                _ => None,
            })
            .collect();
        assert_eq!(connected, self.saved_connected);
        // What the store keeps of ended parks is what the switchboard would tell.
        let kept: HashSet<(UserId, CallId)> = (0..USERS)
            .flat_map(|user| self.sb.park_outcomes_of(UserId(user)).map(|r| (r.parked_by, r.call)))
            .collect();
        assert_eq!(kept, self.stored_outcomes);
        // Timers: none overdue (so none lost), one per ringing or parked call.
        let timers: Vec<(Timestamp, CallId)> = self.sb.timers().collect();
        assert!(timers.iter().all(|(at, _)| *at > self.now), "an overdue timer did not fire");
        let timed: HashSet<CallId> = timers.iter().map(|(_, call)| *call).collect();
        assert_eq!(timed.len(), timers.len(), "a call has two timers");
        for call in self.sb.calls().collect::<Vec<_>>() {
            let needs_timer = matches!(
                self.sb.call(call),
                Some(CallView::Ringing { .. } | CallView::Parked { .. })
            );
            assert_eq!(timed.contains(&call), needs_timer, "timer table disagrees with {call}");
        }
        // A device away is waiting, and not for longer than its grace period.
        for (until, device) in self.sb.away_devices().collect::<Vec<_>>() {
            assert!(until > self.now, "{device}'s grace period ended but it is still away");
            assert!(self.sb.is_away(device));
        }
        // Devices and calls agree.
        for (device, _) in DEVICES {
            if let Some(call) = self.sb.device_call(DeviceId(device)) {
                assert!(self.sb.call(call).is_some(), "device#{device} is in a call that is gone");
            }
        }
    }

    /// A call that may be ringing on `device`: incoming to it, or ringing back its user.
    fn ringing_for(&self, device: DeviceId, user: UserId, pick: usize) -> Option<CallId> {
        let mut calls: Vec<CallId> = self
            .sb
            .calls()
            .filter(|call| match self.sb.call(*call) {
                Some(CallView::Ringing { ringing, .. }) => ringing.contains(&device),
                Some(CallView::Parked { view, .. }) => view.ringing_back && view.parked_by == user,
                _ => false,
            })
            .collect();
        calls.sort();
        (!calls.is_empty()).then(|| calls[pick % calls.len()])
    }

    fn parked_view(&self, call: CallId) -> Option<ParkedCallView> {
        match self.sb.call(call) {
            Some(CallView::Parked { view, .. }) => Some(view),
            _ => None,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_for_any_sequence(ops in prop::collection::vec(op(), 1..250)) {
        let mut harness = Harness::new();
        for op in &ops {
            harness.apply(op);
            harness.check();
        }
        // Let every timer run out: every parked call must end exactly once.
        for _ in 0..10 {
            harness.apply(&Op::Advance { millis: 1_000_000 });
            harness.check();
        }
        prop_assert!(harness.open_parks.is_empty(), "parks never ended: {:?}", harness.open_parks);
        prop_assert_eq!(harness.sb.parked_count(), 0);
    }
}
