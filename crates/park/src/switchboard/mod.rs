//! The switchboard: every call and park rule as a deterministic state machine.
//!
//! Inputs are `handle_*` calls with the time passed in; requests from a device get
//! their reply as the return value. Everything else the driver must do (tell other
//! devices, route audio, store, audit) is drained from [`Switchboard::poll_output`];
//! [`Switchboard::poll_timeout`] says when to call [`Switchboard::handle_timeout`].

mod calls;
mod lost;
mod outcomes;
mod park;
mod presence;
mod reconnect;

pub use lost::LostPark;
pub use outcomes::PARK_OUTCOMES_KEPT;
pub use reconnect::{DeviceCall, DeviceRole};

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use crate::codes::CodeBook;
use crate::directory::{Directory, UnansweredAction, UserSettings};
use crate::error::{CallError, DirectoryError, PolicyError};
use crate::ids::{CallId, DeviceId, GroupId, PolicyId, UserId};
use crate::output::{
    AuditEvent, AuditKind, MediaCommand, Notice, Output, ParkOutcome, ParkedCallView,
    ParkedListChange, StoreCommand,
};
use crate::policy::PolicyChanges;
use crate::time::Timestamp;

/// Driver-chosen settings of the switchboard itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Divides park timeouts and unanswered delays. Only for UI tests that must see a
    /// ringback without waiting minutes; policies still hold their real 120–1800 s.
    pub clock_speedup: u32,
    /// How long a code that left park is remembered, so that a late retriever hears
    /// who picked it up (or why it is gone) instead of "no such code". The code of a
    /// park lost in a restart is also held this long (no new park gets it).
    pub remember_ended_codes: Duration,
    /// How long a device whose connection dropped keeps its place in its calls and
    /// ringing, so that a network hiccup does not end a call.
    pub reconnect_grace: Duration,
    /// After a restart, how long a parked caller has to connect again before the
    /// park ends as `caller_left`.
    pub restored_caller_grace: Duration,
}

/// How long a dropped device keeps its calls unless configured otherwise.
pub const DEFAULT_RECONNECT_GRACE: Duration = Duration::from_secs(30);

/// How long a parked caller has to come back after a restart unless configured
/// otherwise.
pub const DEFAULT_RESTORED_CALLER_GRACE: Duration = Duration::from_secs(60);

impl Default for Config {
    fn default() -> Self {
        Self {
            clock_speedup: 1,
            remember_ended_codes: Duration::from_secs(30 * 60),
            reconnect_grace: DEFAULT_RECONNECT_GRACE,
            restored_caller_grace: DEFAULT_RESTORED_CALLER_GRACE,
        }
    }
}

/// What a successful park returns to the parking device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParkReceipt {
    pub call: CallId,
    pub code: u16,
    pub policy: PolicyId,
    pub ringback_at: Timestamp,
}

/// What a successful retrieve returns to the retrieving device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetrieveReceipt {
    pub call: CallId,
    pub code: u16,
    pub caller: UserId,
    pub parked_by: UserId,
}

/// One side of a call: a user on one of their devices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Party {
    pub user: UserId,
    pub device: DeviceId,
}

/// A read-only look at a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallView {
    Ringing { caller: Party, callee: UserId, ringing: Vec<DeviceId>, forwarded_by: Option<UserId> },
    Connected { a: Party, b: Party },
    Parked { caller_device: DeviceId, policy: PolicyId, view: ParkedCallView },
    Voicemail { caller: Party, owner: UserId },
}

#[derive(Debug)]
struct Ringing {
    caller: Party,
    callee: UserId,
    devices: Vec<DeviceId>,
    unanswered_at: Timestamp,
    forwarded_by: Option<UserId>,
}

#[derive(Debug)]
struct Ringback {
    devices: Vec<DeviceId>,
    unanswered_at: Timestamp,
}

#[derive(Debug)]
struct Park {
    parkee: Party,
    parker: UserId,
    policy: PolicyId,
    code: u16,
    parked_at: Timestamp,
    ringback_at: Timestamp,
    ringback: Option<Ringback>,
}

#[derive(Debug)]
enum CallState {
    Ringing(Ringing),
    Connected { a: Party, b: Party },
    Parked(Park),
    Voicemail { caller: Party, owner: UserId },
}

impl CallState {
    /// The one timer a call has in this state, if any.
    fn deadline(&self) -> Option<Timestamp> {
        match self {
            CallState::Ringing(ringing) => Some(ringing.unanswered_at),
            CallState::Parked(park) => Some(match &park.ringback {
                Some(ringback) => ringback.unanswered_at,
                None => park.ringback_at,
            }),
            CallState::Connected { .. } | CallState::Voicemail { .. } => None,
        }
    }
}

#[derive(Debug)]
struct Device {
    user: UserId,
    /// The call this device is a leg of (talking, calling out, parked, leaving a message).
    call: Option<CallId>,
    /// Calls ringing on this device (incoming or ringback).
    ringing: Vec<CallId>,
    subscribed: bool,
    /// When subscribed: the policy whose parked-calls list this device is shown, or
    /// why it is shown none.
    shown: Option<Result<PolicyId, CallError>>,
    /// Its connection dropped: it keeps its place until then, unless it comes back.
    away_until: Option<Timestamp>,
}

#[derive(Clone, Copy, Debug)]
struct EndedPark {
    at: Timestamp,
    parker: UserId,
    outcome: ParkOutcome,
}

/// The call park switchboard. See the module docs for how a driver uses it.
#[derive(Debug)]
pub struct Switchboard {
    config: Config,
    directory: Directory,
    devices: HashMap<DeviceId, Device>,
    user_devices: HashMap<UserId, Vec<DeviceId>>,
    calls: HashMap<CallId, CallState>,
    next_call: u64,
    /// The highest call id the store has been asked to reserve.
    call_ids_reserved_through: u64,
    codebooks: HashMap<PolicyId, CodeBook>,
    parked: HashMap<PolicyId, BTreeMap<u16, CallId>>,
    ended_parks: HashMap<(PolicyId, u16), EndedPark>,
    subscribers: HashMap<PolicyId, BTreeSet<DeviceId>>,
    timers: BTreeSet<(Timestamp, CallId)>,
    /// Devices whose connection dropped, by the end of their grace period.
    away: BTreeSet<(Timestamp, DeviceId)>,
    /// Codes of parks lost in a restart, held until the time given.
    quarantined: BTreeSet<(Timestamp, PolicyId, u16)>,
    /// How parks ended, by parker, until acknowledged (see `outcomes`).
    park_outcomes: HashMap<UserId, BTreeMap<CallId, crate::output::ParkEndRecord>>,
    outputs: VecDeque<Output>,
    presence: presence::PresenceWatch,
}

impl Default for Switchboard {
    fn default() -> Self {
        Self::new(Config::default())
    }
}

impl Switchboard {
    pub fn new(config: Config) -> Self {
        Self {
            config: Config { clock_speedup: config.clock_speedup.max(1), ..config },
            directory: Directory::new(),
            devices: HashMap::new(),
            user_devices: HashMap::new(),
            calls: HashMap::new(),
            next_call: 1,
            call_ids_reserved_through: 0,
            codebooks: HashMap::new(),
            parked: HashMap::new(),
            ended_parks: HashMap::new(),
            subscribers: HashMap::new(),
            timers: BTreeSet::new(),
            away: BTreeSet::new(),
            quarantined: BTreeSet::new(),
            park_outcomes: HashMap::new(),
            outputs: VecDeque::new(),
            presence: presence::PresenceWatch::default(),
        }
    }

    // ---- driving -----------------------------------------------------------------

    /// The next thing for the driver to do, in order; `None` when there is nothing.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.flush_presence();
        self.outputs.pop_front()
    }

    /// When [`Switchboard::handle_timeout`] must next be called; `None` if no timer runs.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let call = self.timers.first().map(|(at, _)| *at);
        let away = self.away.first().map(|(at, _)| *at);
        let quarantine = self.quarantined.first().map(|(at, _, _)| *at);
        call.into_iter().chain(away).chain(quarantine).min()
    }

    /// Fires every timer due at or before `now`, earliest first.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.end_expired_grace(now);
        self.end_quarantines(now);
        while let Some(&(at, call)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.remove(&(at, call));
            match self.calls.get(&call) {
                Some(CallState::Ringing(_)) => self.ringing_unanswered(now, call),
                Some(CallState::Parked(park)) if park.ringback.is_none() => {
                    self.start_ringback(now, call)
                }
                Some(CallState::Parked(_)) => self.fall_back(now, call, None),
                Some(CallState::Connected { .. } | CallState::Voicemail { .. }) | None => {}
            }
        }
    }

    // ---- reading -----------------------------------------------------------------

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    pub fn call(&self, call: CallId) -> Option<CallView> {
        Some(match self.calls.get(&call)? {
            CallState::Ringing(r) => CallView::Ringing {
                caller: r.caller,
                callee: r.callee,
                ringing: r.devices.clone(),
                forwarded_by: r.forwarded_by,
            },
            CallState::Connected { a, b } => CallView::Connected { a: *a, b: *b },
            CallState::Parked(park) => CallView::Parked {
                caller_device: park.parkee.device,
                policy: park.policy,
                view: park_view(call, park),
            },
            CallState::Voicemail { caller, owner } => {
                CallView::Voicemail { caller: *caller, owner: *owner }
            }
        })
    }

    pub fn calls(&self) -> impl Iterator<Item = CallId> + '_ {
        self.calls.keys().copied()
    }

    /// The user signed in on a device.
    pub fn device_owner(&self, device: DeviceId) -> Option<UserId> {
        self.devices.get(&device).map(|d| d.user)
    }

    /// The call a device is a leg of, if any.
    pub fn device_call(&self, device: DeviceId) -> Option<CallId> {
        self.devices.get(&device).and_then(|d| d.call)
    }

    pub fn devices_of(&self, user: UserId) -> &[DeviceId] {
        self.user_devices.get(&user).map_or(&[], Vec::as_slice)
    }

    /// The calls parked under a policy, by code.
    pub fn parked_calls(&self, policy: PolicyId) -> Vec<ParkedCallView> {
        self.parked.get(&policy).map_or_else(Vec::new, |codes| {
            codes
                .values()
                .filter_map(|call| match self.calls.get(call) {
                    Some(CallState::Parked(park)) => Some(park_view(*call, park)),
                    _ => None,
                })
                .collect()
        })
    }

    pub fn parked_count(&self) -> usize {
        self.parked.values().map(BTreeMap::len).sum()
    }

    /// Every armed timer as (deadline, call): for drivers' diagnostics and tests.
    pub fn timers(&self) -> impl Iterator<Item = (Timestamp, CallId)> + '_ {
        self.timers.iter().copied()
    }

    // ---- devices -----------------------------------------------------------------

    /// A device of `user` signed in. Signing in again with the same id is harmless.
    pub fn handle_device_online(
        &mut self,
        now: Timestamp,
        device: DeviceId,
        user: UserId,
    ) -> Result<(), CallError> {
        if self.directory.user(user).is_none() {
            return Err(CallError::UserNotFound { user });
        }
        match self.devices.get(&device) {
            Some(existing) if existing.user == user => return Ok(()),
            Some(_) => self.handle_device_offline(now, device),
            None => {}
        }
        self.devices.insert(
            device,
            Device {
                user,
                call: None,
                ringing: Vec::new(),
                subscribed: false,
                shown: None,
                away_until: None,
            },
        );
        self.user_devices.entry(user).or_default().push(device);
        self.presence.touch(user);
        Ok(())
    }

    /// A device signed out or lost its connection for good: it leaves every call it
    /// was in or ringing for, as if it had hung up or stopped ringing.
    pub fn handle_device_offline(&mut self, now: Timestamp, device: DeviceId) {
        let Some(gone) = self.devices.remove(&device) else {
            return;
        };
        if let Some(until) = gone.away_until {
            self.away.remove(&(until, device));
        }
        self.presence.forget_device(device);
        self.presence.touch(gone.user);
        if let Some(list) = self.user_devices.get_mut(&gone.user) {
            list.retain(|d| *d != device);
            if list.is_empty() {
                self.user_devices.remove(&gone.user);
            }
        }
        if let Some(Ok(policy)) = gone.shown {
            self.unsubscribe_index(policy, device);
        }
        for call in gone.ringing {
            self.device_stopped_ringing(now, call, device);
        }
        if let Some(call) = gone.call {
            self.leg_left(now, call, device, crate::output::CallEnded::PeerLost);
        }
    }

    /// Starts or stops the live parked-calls list on a device. Subscribing sends a
    /// snapshot first; the device then gets every change until it unsubscribes.
    pub fn handle_subscribe_parked(
        &mut self,
        device: DeviceId,
        subscribe: bool,
    ) -> Result<(), CallError> {
        let dev = self.devices.get_mut(&device).ok_or(CallError::UnknownDevice)?;
        dev.subscribed = subscribe;
        if let Some(Ok(policy)) = dev.shown.take() {
            self.unsubscribe_index(policy, device);
        }
        if subscribe {
            self.refresh_subscription(device, true);
        }
        Ok(())
    }

    // ---- administration ------------------------------------------------------------

    pub fn add_user(&mut self, user: UserId, settings: UserSettings) -> Result<(), DirectoryError> {
        self.directory.add_user(user, settings)?;
        self.presence.touch(user);
        Ok(())
    }

    pub fn update_user(
        &mut self,
        user: UserId,
        settings: UserSettings,
    ) -> Result<(), DirectoryError> {
        self.directory.update_user(user, settings)?;
        self.refresh_subscriptions();
        Ok(())
    }

    /// Removes an account: its devices leave their calls first. Calls it parked stay
    /// retrievable and fall back without ringing when their timeout comes.
    pub fn remove_user(&mut self, now: Timestamp, user: UserId) -> Result<(), DirectoryError> {
        if self.directory.user(user).is_none() {
            return Err(DirectoryError::UserNotFound(user));
        }
        for device in self.devices_of(user).to_vec() {
            self.handle_device_offline(now, device);
        }
        self.directory.remove_user(user)?;
        self.presence.touch(user);
        self.refresh_subscriptions();
        Ok(())
    }

    pub fn add_group(&mut self, group: GroupId) -> Result<(), DirectoryError> {
        self.directory.add_group(group)
    }

    pub fn remove_group(&mut self, group: GroupId) -> Result<(), DirectoryError> {
        self.directory.remove_group(group)?;
        self.refresh_subscriptions();
        Ok(())
    }

    pub fn add_group_member(&mut self, group: GroupId, user: UserId) -> Result<(), DirectoryError> {
        self.directory.add_member(group, user)?;
        self.refresh_subscriptions();
        Ok(())
    }

    pub fn remove_group_member(
        &mut self,
        group: GroupId,
        user: UserId,
    ) -> Result<(), DirectoryError> {
        self.directory.remove_member(group, user)?;
        self.refresh_subscriptions();
        Ok(())
    }

    /// `New-CsTeamsCallParkPolicy`: unset fields take the defaults.
    pub fn new_policy(
        &mut self,
        identity: &str,
        settings: &PolicyChanges,
    ) -> Result<PolicyId, PolicyError> {
        self.directory.new_policy(identity, settings)
    }

    /// `Set-CsTeamsCallParkPolicy`: only the given fields change. A new range applies
    /// to new parks; calls already parked keep their codes.
    pub fn set_policy(
        &mut self,
        identity: &str,
        changes: &PolicyChanges,
    ) -> Result<PolicyId, PolicyError> {
        let id = self.directory.set_policy(identity, changes)?;
        self.refresh_subscriptions();
        Ok(id)
    }

    /// `Remove-CsTeamsCallParkPolicy`. Calls already parked under it stay parked.
    pub fn remove_policy(&mut self, identity: &str, force: bool) -> Result<PolicyId, PolicyError> {
        let id = self.directory.remove_policy(identity, force)?;
        self.refresh_subscriptions();
        Ok(id)
    }

    /// `Grant-CsTeamsCallParkPolicy -Identity <user>`; `None` removes the direct grant.
    pub fn grant_user_policy(
        &mut self,
        user: UserId,
        identity: Option<&str>,
    ) -> Result<(), DirectoryError> {
        self.directory.grant_to_user(user, identity)?;
        self.refresh_subscriptions();
        Ok(())
    }

    /// `Grant-CsTeamsCallParkPolicy -Group <group> -Rank <n>`; `None` removes it.
    pub fn grant_group_policy(
        &mut self,
        group: GroupId,
        identity: Option<&str>,
        rank: i64,
    ) -> Result<Option<u32>, DirectoryError> {
        let rank = self.directory.grant_to_group(group, identity, rank)?;
        self.refresh_subscriptions();
        Ok(rank)
    }

    /// `Grant-CsTeamsCallParkPolicy -Global`; `None` makes `Global` the default again.
    pub fn grant_tenant_default(&mut self, identity: Option<&str>) -> Result<(), DirectoryError> {
        self.directory.grant_tenant_default(identity)?;
        self.refresh_subscriptions();
        Ok(())
    }

    /// After a restart: new calls get ids above `last` (the reservation the store
    /// kept, and every id it names), so that no id of a call from before names a new
    /// call.
    pub fn skip_call_ids_through(&mut self, last: CallId) {
        self.next_call = self.next_call.max(last.0.saturating_add(1));
    }

    // ---- plumbing shared by the call and park halves -----------------------------------

    fn new_call_id(&mut self) -> CallId {
        let id = CallId(self.next_call);
        self.next_call += 1;
        if id.0 > self.call_ids_reserved_through {
            self.call_ids_reserved_through = id.0.saturating_add(crate::output::CALL_ID_BLOCK - 1);
            let through = CallId(self.call_ids_reserved_through);
            self.outputs.push_back(Output::Store(StoreCommand::ReserveCallIds { through }));
        }
        id
    }

    /// Puts a call in a state, keeping the timer table equal to the states' deadlines.
    fn put_call(&mut self, call: CallId, state: CallState) {
        if let Some(deadline) = state.deadline() {
            self.timers.insert((deadline, call));
        }
        if let Some(old) = self.calls.insert(call, state) {
            if let Some(deadline) = old.deadline() {
                self.timers.remove(&(deadline, call));
            }
            self.forget_if_connected(call, &old);
        }
    }

    fn take_call(&mut self, call: CallId) -> Option<CallState> {
        let state = self.calls.remove(&call)?;
        if let Some(deadline) = state.deadline() {
            self.timers.remove(&(deadline, call));
        }
        self.forget_if_connected(call, &state);
        Some(state)
    }

    /// A call that leaves the connected state is no longer kept for a restart.
    fn forget_if_connected(&mut self, call: CallId, old: &CallState) {
        if matches!(old, CallState::Connected { .. }) {
            self.outputs.push_back(Output::Store(StoreCommand::ForgetConnectedCall { call }));
        }
    }

    fn device_user(&self, device: DeviceId) -> Result<UserId, CallError> {
        self.devices.get(&device).map(|d| d.user).ok_or(CallError::UnknownDevice)
    }

    fn attach(&mut self, device: DeviceId, call: CallId) {
        if let Some(dev) = self.devices.get_mut(&device) {
            dev.call = Some(call);
            self.presence.touch(dev.user);
        }
    }

    fn detach(&mut self, device: DeviceId) {
        if let Some(dev) = self.devices.get_mut(&device) {
            dev.call = None;
            self.presence.touch(dev.user);
        }
    }

    /// Devices of `user` that are connected and not in a call.
    fn idle_devices(&self, user: UserId) -> Vec<DeviceId> {
        self.devices_of(user)
            .iter()
            .copied()
            .filter(|d| {
                self.devices
                    .get(d)
                    .is_some_and(|dev| dev.call.is_none() && dev.away_until.is_none())
            })
            .collect()
    }

    fn start_ringing(&mut self, devices: &[DeviceId], call: CallId, notice: &Notice) {
        for device in devices {
            if let Some(dev) = self.devices.get_mut(device) {
                dev.ringing.push(call);
            }
            self.notify(*device, notice.clone());
        }
    }

    fn stop_ringing(
        &mut self,
        devices: &[DeviceId],
        call: CallId,
        reason: crate::output::RingingStopped,
        except: Option<DeviceId>,
    ) {
        for device in devices {
            if let Some(dev) = self.devices.get_mut(device) {
                dev.ringing.retain(|c| *c != call);
            }
            if Some(*device) != except {
                self.notify(*device, Notice::RingingStopped { call, reason });
            }
        }
    }

    fn notify(&mut self, device: DeviceId, notice: Notice) {
        if self.devices.contains_key(&device) {
            self.outputs.push_back(Output::Notify { device, notice });
        }
    }

    fn notify_user(&mut self, user: UserId, notice: &Notice) {
        if let Some(devices) = self.user_devices.get(&user) {
            for device in devices {
                self.outputs.push_back(Output::Notify { device: *device, notice: notice.clone() });
            }
        }
    }

    fn media(&mut self, command: MediaCommand) {
        self.outputs.push_back(Output::Media(command));
    }

    fn audit(&mut self, event: AuditEvent) {
        self.outputs.push_back(Output::Audit(event));
    }

    fn audit_park(
        &mut self,
        now: Timestamp,
        kind: AuditKind,
        user: Option<UserId>,
        call: CallId,
        park: &Park,
    ) {
        self.audit(AuditEvent {
            at: now,
            kind,
            user,
            policy: Some(park.policy),
            call: Some(call),
            code: Some(park.code),
        });
    }

    fn scaled(&self, duration: Duration) -> Duration {
        duration / self.config.clock_speedup
    }

    fn unanswered_delay(&self, user: UserId) -> Duration {
        let delay = self.directory.user(user).map_or(
            Duration::from_secs(u64::from(crate::limits::DEFAULT_UNANSWERED_DELAY_SECONDS)),
            UserSettings::unanswered_delay,
        );
        self.scaled(delay)
    }

    // ---- live parked-calls lists ----------------------------------------------------

    fn list_changed(&mut self, policy: PolicyId, change: ParkedListChange) {
        if let Some(devices) = self.subscribers.get(&policy) {
            for device in devices {
                self.outputs.push_back(Output::Notify {
                    device: *device,
                    notice: Notice::ParkedList(change.clone()),
                });
            }
        }
    }

    fn unsubscribe_index(&mut self, policy: PolicyId, device: DeviceId) {
        if let Some(set) = self.subscribers.get_mut(&policy) {
            set.remove(&device);
            if set.is_empty() {
                self.subscribers.remove(&policy);
            }
        }
    }

    /// After any directory change: subscribed devices whose visible policy changed
    /// move to the new list and get a fresh snapshot.
    fn refresh_subscriptions(&mut self) {
        let subscribed: Vec<DeviceId> =
            self.devices.iter().filter(|(_, d)| d.subscribed).map(|(id, _)| *id).collect();
        for device in subscribed {
            self.refresh_subscription(device, false);
        }
    }

    fn refresh_subscription(&mut self, device: DeviceId, always_send: bool) {
        let Some(dev) = self.devices.get(&device) else {
            return;
        };
        let access = self.directory.park_policy(dev.user);
        if dev.shown.as_ref() == Some(&access) && !always_send {
            return;
        }
        if let Some(Ok(old)) = dev.shown {
            self.unsubscribe_index(old, device);
        }
        if let Ok(new) = access {
            self.subscribers.entry(new).or_default().insert(device);
        }
        if let Some(dev) = self.devices.get_mut(&device) {
            dev.shown = Some(access.clone());
        }
        let calls =
            access.as_ref().map_or_else(|_| Vec::new(), |policy| self.parked_calls(*policy));
        self.notify(device, Notice::ParkedList(ParkedListChange::Snapshot { access, calls }));
    }
}

fn park_view(call: CallId, park: &Park) -> ParkedCallView {
    ParkedCallView {
        call,
        code: park.code,
        caller: park.parkee.user,
        parked_by: park.parker,
        parked_at: park.parked_at,
        ringback_at: park.ringback_at,
        ringing_back: park.ringback.is_some(),
    }
}

/// Where an unanswered call goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    Voicemail(UserId),
    Forward { to: UserId, from: UserId },
    Disconnect,
}

impl Route {
    fn action(self) -> UnansweredAction {
        match self {
            Route::Voicemail(_) => UnansweredAction::Voicemail,
            Route::Forward { to, .. } => UnansweredAction::Forward(to),
            Route::Disconnect => UnansweredAction::Disconnect,
        }
    }
}
