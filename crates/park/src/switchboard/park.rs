//! Park, retrieve, ringback and the unanswered fallback.

use super::{
    CallState, EndedPark, Park, ParkReceipt, Party, RetrieveReceipt, Ringback, Switchboard,
    park_view,
};
use crate::directory::UnansweredAction;
use crate::error::{CallError, ExpiredReason};
use crate::ids::{CallId, DeviceId, PolicyId};
use crate::output::{
    AuditEvent, AuditKind, CallEnded, MediaCommand, Notice, ParkEndRecord, ParkOutcome,
    ParkedCallRecord, ParkedListChange, RingingStopped, StoreCommand,
};
use crate::time::Timestamp;

impl Switchboard {
    /// Parks the connected call `device` is in: the other party hears hold music,
    /// this device's leg ends, and every device of the parker gets the code. A park
    /// that cannot get a code is refused and the call stays connected.
    pub fn handle_park(
        &mut self,
        now: Timestamp,
        device: DeviceId,
        call: CallId,
    ) -> Result<ParkReceipt, CallError> {
        let parker = self.device_user(device)?;
        let parkee = match self.calls.get(&call) {
            Some(CallState::Connected { a, b }) if a.device == device => *b,
            Some(CallState::Connected { a, b }) if b.device == device => *a,
            Some(_) if self.device_call(device) == Some(call) => {
                return Err(CallError::NotConnected { call });
            }
            _ => return Err(CallError::CallNotFound { call }),
        };
        let allocated = self.directory.park_policy(parker).and_then(|policy| {
            let range = self
                .directory
                .policy(policy)
                .map(|p| p.pickup_range())
                .ok_or(CallError::ParkNotAllowed)?;
            let (start, end) = (*range.start(), *range.end());
            self.codebooks
                .entry(policy)
                .or_default()
                .allocate(range)
                .map(|code| (policy, code))
                .ok_or(CallError::NoFreeCode { start, end })
        });
        let (policy, code) = match allocated {
            Ok(allocated) => allocated,
            Err(error) => {
                self.audit(AuditEvent {
                    at: now,
                    kind: AuditKind::ParkRefused { reason: error.code() },
                    user: Some(parker),
                    policy: self.directory.effective_policy(parker).map(|e| e.policy),
                    call: Some(call),
                    code: None,
                });
                return Err(error);
            }
        };
        let timeout = self.directory.policy(policy).map(|p| p.park_timeout()).unwrap_or_default();
        let park = Park {
            parkee,
            parker,
            policy,
            code,
            parked_at: now,
            ringback_at: now.after(self.scaled(timeout)),
            ringback: None,
        };
        let view = park_view(call, &park);
        let record = ParkedCallRecord {
            call,
            policy,
            code,
            caller: parkee.user,
            caller_device: parkee.device,
            parked_by: parker,
            parked_at: now,
            ringback_at: park.ringback_at,
        };
        let receipt = ParkReceipt { call, code, policy, ringback_at: park.ringback_at };
        self.parked.entry(policy).or_default().insert(code, call);
        self.audit_park(now, AuditKind::Parked { caller: parkee.user }, Some(parker), call, &park);
        self.put_call(call, CallState::Parked(park));
        self.end_leg(call, device, CallEnded::Parked { code });
        self.media(MediaCommand::HoldMusic { device: parkee.device });
        self.notify(parkee.device, Notice::OnHold { call });
        self.notify_user(
            parker,
            &Notice::CallParked {
                call,
                code,
                caller: parkee.user,
                ringback_at: receipt.ringback_at,
            },
        );
        self.outputs.push_back(crate::Output::Store(StoreCommand::SaveParkedCall(record)));
        self.list_changed(policy, ParkedListChange::Added(view));
        Ok(receipt)
    }

    /// Picks up the call parked under `code` in the retriever's own policy. Exactly
    /// one retriever wins; a code of another policy is indistinguishable from one
    /// that was never parked.
    pub fn handle_retrieve(
        &mut self,
        now: Timestamp,
        device: DeviceId,
        code: u16,
    ) -> Result<RetrieveReceipt, CallError> {
        let user = self.device_user(device)?;
        if self.device_call(device).is_some() {
            return Err(CallError::Busy);
        }
        let found = self.directory.park_policy(user).and_then(|policy| {
            self.parked
                .get(&policy)
                .and_then(|codes| codes.get(&code))
                .copied()
                .ok_or_else(|| self.explain_missing_code(now, policy, code))
        });
        let call = match found {
            Ok(call) => call,
            Err(error) => {
                self.audit(AuditEvent {
                    at: now,
                    kind: AuditKind::RetrieveRefused { reason: error.code() },
                    user: Some(user),
                    policy: self.directory.park_policy(user).ok(),
                    call: None,
                    code: Some(code),
                });
                return Err(error);
            }
        };
        let Some(CallState::Parked(park)) = self.calls.get(&call) else {
            return Err(CallError::CodeNotFound { code });
        };
        let receipt =
            RetrieveReceipt { call, code, caller: park.parkee.user, parked_by: park.parker };
        self.connect_from_park(
            now,
            call,
            Party { user, device },
            ParkOutcome::Retrieved { by: user },
        );
        Ok(receipt)
    }

    /// Parses what a person typed as a pickup code.
    pub fn parse_code(input: &str) -> Result<u16, CallError> {
        let trimmed = input.trim();
        trimmed
            .parse::<u16>()
            .ok()
            .filter(|_| trimmed.bytes().all(|b| b.is_ascii_digit()))
            .filter(|code| {
                (crate::limits::PICKUP_CODE_MIN..=crate::limits::PICKUP_CODE_MAX).contains(code)
            })
            .ok_or_else(|| CallError::InvalidCode { input: input.to_owned() })
    }

    fn explain_missing_code(&self, now: Timestamp, policy: PolicyId, code: u16) -> CallError {
        let Some(ended) = self
            .ended_parks
            .get(&(policy, code))
            .filter(|ended| now.since(ended.at) <= self.config.remember_ended_codes)
        else {
            return CallError::CodeNotFound { code };
        };
        let picked_up_by = |by| CallError::AlreadyRetrieved {
            code,
            by,
            by_name: self.directory.display_name(by),
            ago: now.since(ended.at),
        };
        let expired = |reason| CallError::CodeExpired { code, reason };
        match ended.outcome {
            ParkOutcome::Retrieved { by } => picked_up_by(by),
            ParkOutcome::RingbackAnswered => picked_up_by(ended.parker),
            ParkOutcome::CallerLeft => expired(ExpiredReason::CallerLeft),
            ParkOutcome::FellBack(UnansweredAction::Voicemail) => {
                expired(ExpiredReason::WentToVoicemail)
            }
            ParkOutcome::FellBack(UnansweredAction::Forward(_)) => {
                expired(ExpiredReason::Forwarded)
            }
            ParkOutcome::FellBack(UnansweredAction::Disconnect) => {
                expired(ExpiredReason::Disconnected)
            }
            ParkOutcome::Lost => {
                CallError::CodeLost { code, parker_name: self.directory.display_name(ended.parker) }
            }
        }
    }

    /// The parked caller is connected to `party` (a retriever, or the parker answering
    /// the ringback) in one step.
    pub(super) fn connect_from_park(
        &mut self,
        now: Timestamp,
        call: CallId,
        party: Party,
        outcome: ParkOutcome,
    ) {
        let Some(CallState::Parked(park)) = self.take_call(call) else {
            return;
        };
        let stop = match outcome {
            ParkOutcome::Retrieved { by } => RingingStopped::RetrievedBy(by),
            _ => RingingStopped::AnsweredElsewhere,
        };
        self.end_park(now, call, &park, outcome, stop, Some(party.device));
        self.connect(call, park.parkee, party);
    }

    /// Everything that happens once when a call leaves park, however it leaves.
    pub(super) fn end_park(
        &mut self,
        now: Timestamp,
        call: CallId,
        park: &Park,
        outcome: ParkOutcome,
        stop: RingingStopped,
        except: Option<DeviceId>,
    ) {
        if let Some(codes) = self.parked.get_mut(&park.policy) {
            codes.remove(&park.code);
            if codes.is_empty() {
                self.parked.remove(&park.policy);
            }
        }
        if let Some(book) = self.codebooks.get_mut(&park.policy) {
            book.release(park.code);
        }
        self.ended_parks
            .insert((park.policy, park.code), EndedPark { at: now, parker: park.parker, outcome });
        if let Some(ringback) = &park.ringback {
            self.stop_ringing(&ringback.devices, call, stop, except);
        }
        let (kind, user) = match outcome {
            ParkOutcome::Retrieved { by } => (AuditKind::Retrieved, Some(by)),
            ParkOutcome::RingbackAnswered => (AuditKind::RingbackAnswered, Some(park.parker)),
            ParkOutcome::CallerLeft => (AuditKind::CallerLeft, Some(park.parkee.user)),
            ParkOutcome::FellBack(action) => (AuditKind::FellBack(action), Some(park.parker)),
            ParkOutcome::Lost => (AuditKind::Lost, Some(park.parker)),
        };
        self.audit_park(now, kind, user, call, park);
        let record = ParkEndRecord {
            call,
            code: park.code,
            caller: park.parkee.user,
            parked_by: park.parker,
            outcome,
            ended_at: now,
        };
        self.notify_user(park.parker, &Notice::ParkEnded(record));
        self.outputs.push_back(crate::Output::Store(StoreCommand::ParkEnded(record)));
        self.keep_park_outcome(record);
        self.list_changed(park.policy, ParkedListChange::Removed { call, code: park.code });
    }

    /// The park timeout passed: ring the parker's idle devices, the code still valid.
    /// A parker with no idle device gets the fallback at once.
    pub(super) fn start_ringback(&mut self, now: Timestamp, call: CallId) {
        let Some(CallState::Parked(park)) = self.calls.get(&call) else {
            return;
        };
        let parker = park.parker;
        let devices = self.idle_devices(parker);
        if devices.is_empty() {
            self.fall_back(now, call, None);
            return;
        }
        let unanswered_at = now.after(self.unanswered_delay(parker));
        let Some(CallState::Parked(mut park)) = self.take_call(call) else {
            return;
        };
        let ringback = Notice::Ringback { call, code: park.code, caller: park.parkee.user };
        self.start_ringing(&devices, call, &ringback);
        park.ringback = Some(Ringback { devices, unanswered_at });
        self.audit_park(now, AuditKind::RangBack, Some(parker), call, &park);
        let (policy, view) = (park.policy, park_view(call, &park));
        self.put_call(call, CallState::Parked(park));
        self.list_changed(policy, ParkedListChange::Updated(view));
    }

    /// Nobody picked the call up, not even the parker on ringback: the parker's
    /// unanswered setting decides (voicemail, forward, or end).
    pub(super) fn fall_back(&mut self, now: Timestamp, call: CallId, stop: Option<RingingStopped>) {
        let Some(CallState::Parked(park)) = self.take_call(call) else {
            return;
        };
        let route = self.unanswered_route(park.parker, park.parkee.user, false);
        self.end_park(
            now,
            call,
            &park,
            ParkOutcome::FellBack(route.action()),
            stop.unwrap_or(RingingStopped::Unanswered),
            None,
        );
        self.apply_route(now, call, park.parkee, route, CallEnded::NoAnswer);
    }
}
