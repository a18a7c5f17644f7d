//! Ordinary calls: dial, ring every device, first answer wins, decline, hang up, and
//! where an unanswered call goes.

use super::{CallState, Park, Party, Ringing, Route, Switchboard};
use crate::directory::UnansweredAction;
use crate::error::CallError;
use crate::ids::{CallId, DeviceId, UserId};
use crate::output::{
    CallEnded, ConnectedCallRecord, MediaCommand, Notice, ParkOutcome, RingingStopped, StoreCommand,
};
use crate::time::Timestamp;

impl Switchboard {
    /// Calls `callee` from `device`: all of the callee's idle devices ring. A callee
    /// with no idle device gets the call as unanswered at once (voicemail, forward),
    /// or, if their setting is to end unanswered calls, the dial is refused.
    pub fn handle_dial(
        &mut self,
        now: Timestamp,
        device: DeviceId,
        callee: UserId,
    ) -> Result<CallId, CallError> {
        let user = self.device_user(device)?;
        if self.device_call(device).is_some() {
            return Err(CallError::Busy);
        }
        if callee == user {
            return Err(CallError::CannotCallSelf);
        }
        if self.directory.user(callee).is_none() {
            return Err(CallError::UserNotFound { user: callee });
        }
        if self.idle_devices(callee).is_empty()
            && self.unanswered_route(callee, user, false) == Route::Disconnect
        {
            return Err(CallError::UserUnavailable {
                user: callee,
                name: self.directory.display_name(callee),
            });
        }
        let call = self.new_call_id();
        self.attach(device, call);
        self.ring_user(now, call, Party { user, device }, callee, None);
        Ok(call)
    }

    /// Answers a call ringing on `device`: an incoming call, or a ringback of a call
    /// this user parked. The first device to answer wins; the others stop ringing.
    pub fn handle_answer(
        &mut self,
        now: Timestamp,
        device: DeviceId,
        call: CallId,
    ) -> Result<(), CallError> {
        let user = self.device_user(device)?;
        let ringing_here = match self.calls.get(&call) {
            Some(CallState::Ringing(ringing)) => ringing.devices.contains(&device),
            Some(CallState::Parked(Park { ringback: Some(ringback), .. })) => {
                ringback.devices.contains(&device)
            }
            _ => false,
        };
        if !ringing_here {
            return Err(CallError::NotRinging { call });
        }
        if self.device_call(device).is_some() {
            return Err(CallError::Busy);
        }
        let answerer = Party { user, device };
        match self.take_call(call) {
            Some(CallState::Ringing(ringing)) => {
                self.stop_ringing(
                    &ringing.devices,
                    call,
                    RingingStopped::AnsweredElsewhere,
                    Some(device),
                );
                self.connect(call, ringing.caller, answerer);
            }
            Some(state @ CallState::Parked(_)) => {
                self.put_call(call, state);
                self.connect_from_park(now, call, answerer, ParkOutcome::RingbackAnswered);
            }
            Some(state) => self.put_call(call, state),
            None => {}
        }
        Ok(())
    }

    /// Declines a call ringing on `device`. An incoming call goes where the user's
    /// unanswered setting says at once; a declined ringback falls back at once.
    pub fn handle_decline(
        &mut self,
        now: Timestamp,
        device: DeviceId,
        call: CallId,
    ) -> Result<(), CallError> {
        self.device_user(device)?;
        match self.calls.get(&call) {
            Some(CallState::Ringing(ringing)) if ringing.devices.contains(&device) => {
                if let Some(CallState::Ringing(ringing)) = self.take_call(call) {
                    self.stop_ringing(&ringing.devices, call, RingingStopped::Declined, None);
                    let route = self.unanswered_route(
                        ringing.callee,
                        ringing.caller.user,
                        ringing.forwarded_by.is_some(),
                    );
                    self.apply_route(now, call, ringing.caller, route, CallEnded::Declined);
                }
                Ok(())
            }
            Some(CallState::Parked(Park { ringback: Some(ringback), .. }))
                if ringback.devices.contains(&device) =>
            {
                self.fall_back(now, call, Some(RingingStopped::Declined));
                Ok(())
            }
            _ => Err(CallError::NotRinging { call }),
        }
    }

    /// Hangs up `device`'s leg of a call: cancels a call still ringing, ends a
    /// connected call for both sides, takes a parked caller out of park.
    pub fn handle_hangup(
        &mut self,
        now: Timestamp,
        device: DeviceId,
        call: CallId,
    ) -> Result<(), CallError> {
        self.device_user(device)?;
        if self.device_call(device) != Some(call) {
            return Err(CallError::CallNotFound { call });
        }
        self.leg_left(now, call, device, CallEnded::PeerHungUp);
        Ok(())
    }

    /// The media anchor finished recording a message (maximum length reached).
    pub fn handle_voicemail_finished(&mut self, call: CallId) {
        if let Some(CallState::Voicemail { .. }) = self.calls.get(&call)
            && let Some(CallState::Voicemail { caller, .. }) = self.take_call(call)
        {
            self.end_leg(call, caller.device, CallEnded::VoicemailFinished);
        }
    }

    /// `device` left `call` (hung up, or went offline); the other side is told why.
    pub(super) fn leg_left(
        &mut self,
        now: Timestamp,
        call: CallId,
        device: DeviceId,
        peer_reason: CallEnded,
    ) {
        match self.take_call(call) {
            Some(CallState::Ringing(ringing)) if ringing.caller.device == device => {
                self.stop_ringing(&ringing.devices, call, RingingStopped::CallerHungUp, None);
                self.end_leg(call, device, CallEnded::HungUp);
            }
            Some(CallState::Connected { a, b }) if a.device == device || b.device == device => {
                let peer = if a.device == device { b } else { a };
                self.end_leg(call, device, CallEnded::HungUp);
                self.end_leg(call, peer.device, peer_reason);
            }
            Some(CallState::Parked(park)) if park.parkee.device == device => {
                self.end_park(
                    now,
                    call,
                    &park,
                    ParkOutcome::CallerLeft,
                    RingingStopped::CallerHungUp,
                    None,
                );
                self.end_leg(call, device, CallEnded::HungUp);
            }
            Some(CallState::Voicemail { caller, .. }) if caller.device == device => {
                self.end_leg(call, device, CallEnded::HungUp);
            }
            Some(state) => self.put_call(call, state),
            None => {}
        }
    }

    /// A device stops ringing for a call without answering (it went offline). When no
    /// device is left ringing, the call is unanswered now.
    pub(super) fn device_stopped_ringing(
        &mut self,
        now: Timestamp,
        call: CallId,
        device: DeviceId,
    ) {
        let now_empty = match self.calls.get_mut(&call) {
            Some(CallState::Ringing(ringing)) => {
                ringing.devices.retain(|d| *d != device);
                ringing.devices.is_empty()
            }
            Some(CallState::Parked(Park { ringback: Some(ringback), .. })) => {
                ringback.devices.retain(|d| *d != device);
                ringback.devices.is_empty()
            }
            _ => false,
        };
        if now_empty {
            match self.calls.get(&call) {
                Some(CallState::Ringing(_)) => self.ringing_unanswered(now, call),
                Some(CallState::Parked(_)) => self.fall_back(now, call, None),
                _ => {}
            }
        }
    }

    /// Nobody answered a ringing call in time.
    pub(super) fn ringing_unanswered(&mut self, now: Timestamp, call: CallId) {
        if let Some(CallState::Ringing(ringing)) = self.take_call(call) {
            self.stop_ringing(&ringing.devices, call, RingingStopped::Unanswered, None);
            let route = self.unanswered_route(
                ringing.callee,
                ringing.caller.user,
                ringing.forwarded_by.is_some(),
            );
            self.apply_route(now, call, ringing.caller, route, CallEnded::NoAnswer);
        }
    }

    /// Rings every idle device of `callee` for a call whose `caller` leg is already
    /// attached to it; with none idle, the call is unanswered at once.
    pub(super) fn ring_user(
        &mut self,
        now: Timestamp,
        call: CallId,
        caller: Party,
        callee: UserId,
        forwarded_by: Option<UserId>,
    ) {
        let devices = self.idle_devices(callee);
        if devices.is_empty() {
            let route = self.unanswered_route(callee, caller.user, forwarded_by.is_some());
            self.apply_route(now, call, caller, route, CallEnded::NoAnswer);
            return;
        }
        let incoming = Notice::IncomingCall { call, from: caller.user, forwarded_by };
        self.start_ringing(&devices, call, &incoming);
        self.notify(caller.device, Notice::Ringing { call, callee });
        self.media(MediaCommand::RingingTone { device: caller.device });
        let unanswered_at = now.after(self.unanswered_delay(callee));
        self.put_call(
            call,
            CallState::Ringing(Ringing { caller, callee, devices, unanswered_at, forwarded_by }),
        );
    }

    /// Where a call `callee` did not answer goes. A call is forwarded at most once,
    /// never back to its caller, and never to an account that is gone: then it goes
    /// to voicemail instead, so the caller can still leave a message.
    pub(super) fn unanswered_route(
        &self,
        callee: UserId,
        caller: UserId,
        already_forwarded: bool,
    ) -> Route {
        let Some(settings) = self.directory.user(callee) else {
            return Route::Disconnect;
        };
        match settings.unanswered {
            UnansweredAction::Voicemail => Route::Voicemail(callee),
            UnansweredAction::Disconnect => Route::Disconnect,
            UnansweredAction::Forward(to)
                if !already_forwarded && to != caller && self.directory.user(to).is_some() =>
            {
                Route::Forward { to, from: callee }
            }
            UnansweredAction::Forward(_) => Route::Voicemail(callee),
        }
    }

    /// Sends `caller`'s call (detached from any state) where `route` says.
    pub(super) fn apply_route(
        &mut self,
        now: Timestamp,
        call: CallId,
        caller: Party,
        route: Route,
        ended: CallEnded,
    ) {
        match route {
            Route::Voicemail(owner) => {
                self.put_call(call, CallState::Voicemail { caller, owner });
                self.notify(caller.device, Notice::VoicemailStarted { call, owner });
                self.media(MediaCommand::Voicemail {
                    device: caller.device,
                    owner,
                    call,
                    caller: caller.user,
                });
            }
            Route::Forward { to, from } => self.ring_user(now, call, caller, to, Some(from)),
            Route::Disconnect => self.end_leg(call, caller.device, ended),
        }
    }

    pub(super) fn connect(&mut self, call: CallId, a: Party, b: Party) {
        self.attach(a.device, call);
        self.attach(b.device, call);
        self.put_call(call, CallState::Connected { a, b });
        let record = ConnectedCallRecord { call, a, b };
        self.outputs.push_back(crate::Output::Store(StoreCommand::SaveConnectedCall(record)));
        self.media(MediaCommand::Bridge { a: a.device, b: b.device });
        self.notify(a.device, Notice::Connected { call, peer: b.user });
        self.notify(b.device, Notice::Connected { call, peer: a.user });
    }

    pub(super) fn end_leg(&mut self, call: CallId, device: DeviceId, reason: CallEnded) {
        self.detach(device);
        self.media(MediaCommand::EndLeg { device });
        self.notify(device, Notice::CallEnded { call, reason });
    }
}
