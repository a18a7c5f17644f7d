//! A small world for switchboard tests: four users, one park group, a clock.
#![allow(dead_code)]

use std::time::Duration;

use callpark_park::*;

pub const ALICE: UserId = UserId(1);
pub const BOB: UserId = UserId(2);
pub const CAROL: UserId = UserId(3);
/// Not in the Sales group: governed by Global, where park is off.
pub const DAVE: UserId = UserId(4);
pub const SALES: GroupId = GroupId(1);

pub const A1: DeviceId = DeviceId(11);
pub const A2: DeviceId = DeviceId(12);
pub const B1: DeviceId = DeviceId(21);
pub const C1: DeviceId = DeviceId(31);
pub const D1: DeviceId = DeviceId(41);

pub struct World {
    pub sb: Switchboard,
    pub now: Timestamp,
    /// Everything drained so far that a test has not taken yet.
    pub out: Vec<Output>,
}

pub fn user(name: &str) -> UserSettings {
    UserSettings::new(name).with_enterprise_voice(true)
}

impl World {
    /// Alice (two devices), Bob and Carol in Sales (park on, codes 10–99, 300 s),
    /// Dave outside it; everyone enterprise-voice enabled and signed in.
    pub fn new() -> Self {
        Self::with_config(Config::default())
    }

    pub fn with_config(config: Config) -> Self {
        let mut sb = Switchboard::new(config);
        for (id, name) in [(ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol"), (DAVE, "Dave")] {
            sb.add_user(id, user(name)).unwrap();
        }
        sb.add_group(SALES).unwrap();
        for member in [ALICE, BOB, CAROL] {
            sb.add_group_member(SALES, member).unwrap();
        }
        sb.new_policy(
            "Sales",
            &PolicyChanges { allow_call_park: Some(true), ..Default::default() },
        )
        .unwrap();
        sb.grant_group_policy(SALES, Some("Sales"), 1).unwrap();
        let now = Timestamp::from_millis(1_000_000);
        for (device, owner) in [(A1, ALICE), (A2, ALICE), (B1, BOB), (C1, CAROL), (D1, DAVE)] {
            sb.handle_device_online(now, device, owner).unwrap();
        }
        let mut world = Self { sb, now, out: Vec::new() };
        world.drain();
        world.out.clear();
        world
    }

    /// Changes where `who`'s unanswered calls go, and after how many seconds.
    pub fn set_unanswered(&mut self, who: UserId, action: UnansweredAction, delay_seconds: u32) {
        let settings = self.sb.directory().user(who).unwrap().clone();
        self.sb.update_user(who, settings.with_unanswered(action, delay_seconds)).unwrap();
    }

    pub fn sales(&self) -> PolicyId {
        self.sb.directory().policy_by_identity("Sales").unwrap().0
    }

    pub fn drain(&mut self) {
        while let Some(output) = self.sb.poll_output() {
            self.out.push(output);
        }
    }

    /// Takes every output produced so far.
    pub fn take(&mut self) -> Vec<Output> {
        self.drain();
        std::mem::take(&mut self.out)
    }

    pub fn advance(&mut self, by: Duration) {
        self.now = self.now.after(by);
        self.sb.handle_timeout(self.now);
        self.drain();
    }

    /// Moves the clock to just before the next timer, checks it has not fired, then
    /// onto it.
    pub fn advance_to_next_timer(&mut self) {
        let due = self.sb.poll_timeout().expect("a timer is armed");
        let before = Timestamp::from_millis(due.as_millis() - 1);
        let calls_before: Vec<_> = self.sb.timers().collect();
        self.now = before;
        self.sb.handle_timeout(before);
        assert_eq!(self.sb.timers().collect::<Vec<_>>(), calls_before, "a timer fired early");
        self.now = due;
        self.sb.handle_timeout(due);
        self.drain();
    }

    /// `caller_device` calls `callee`, who answers on `answer_on`.
    pub fn connected(
        &mut self,
        caller_device: DeviceId,
        callee: UserId,
        answer_on: DeviceId,
    ) -> CallId {
        let call = self.sb.handle_dial(self.now, caller_device, callee).unwrap();
        self.sb.handle_answer(self.now, answer_on, call).unwrap();
        self.drain();
        call
    }

    /// How Alice's park of Dave's `call` under `code` ended, now.
    pub fn alice_park_ended(&self, call: CallId, code: u16, outcome: ParkOutcome) -> ParkEndRecord {
        ParkEndRecord { call, code, caller: DAVE, parked_by: ALICE, outcome, ended_at: self.now }
    }

    /// Dave calls Alice, Alice answers on A1 and parks: the usual parked call.
    pub fn parked_by_alice(&mut self) -> (CallId, ParkReceipt) {
        let call = self.connected(D1, ALICE, A1);
        let receipt = self.sb.handle_park(self.now, A1, call).unwrap();
        self.drain();
        (call, receipt)
    }
}

/// The view of a call connected between `a` (the side that stayed) and `b`.
pub fn talking(a: (UserId, DeviceId), b: (UserId, DeviceId)) -> Option<CallView> {
    Some(CallView::Connected {
        a: Party { user: a.0, device: a.1 },
        b: Party { user: b.0, device: b.1 },
    })
}

pub fn notices_to(outputs: &[Output], device: DeviceId) -> Vec<Notice> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Notify { device: d, notice } if *d == device => Some(notice.clone()),
            _ => None,
        })
        .collect()
}

pub fn media(outputs: &[Output]) -> Vec<MediaCommand> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Media(command) => Some(*command),
            _ => None,
        })
        .collect()
}

pub fn audits(outputs: &[Output]) -> Vec<AuditKind> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Audit(event) => Some(event.kind),
            _ => None,
        })
        .collect()
}

pub fn stores(outputs: &[Output]) -> Vec<StoreCommand> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Store(command) => Some(*command),
            _ => None,
        })
        .collect()
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}
