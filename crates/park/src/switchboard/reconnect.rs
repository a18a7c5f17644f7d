//! Devices whose connection drops: a device in a call or ringing keeps its place for
//! a grace period ([`super::Config::reconnect_grace`]) and the other party is told
//! it is reconnecting; a device that comes back in time carries on where it was, and
//! one that does not leaves its calls as if it had gone offline.

use super::{CallState, Device, Park, Party, Switchboard};
use crate::error::CallError;
use crate::ids::{CallId, DeviceId, UserId};
use crate::output::{ConnectedCallRecord, MediaCommand, Notice, ParkedCallRecord};
use crate::time::Timestamp;

/// What a device is doing in a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceRole {
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

/// A call a device takes part in or that rings on it, as the device is told when it
/// connects again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceCall {
    pub call: CallId,
    pub role: DeviceRole,
    /// The other party, or whose voicemail this is.
    pub peer: Option<UserId>,
    /// The pickup code, for a ringback.
    pub code: Option<u16>,
    /// The other party of a connected call has dropped and may come back.
    pub peer_reconnecting: bool,
}

impl Switchboard {
    /// The device's connection dropped without it signing off. In a call or ringing,
    /// it keeps its place until the grace period ends, and the other party of a
    /// connected call hears that it is reconnecting. An idle device has no place to
    /// keep: it goes offline at once.
    pub fn handle_device_dropped(&mut self, now: Timestamp, device: DeviceId) {
        let until = now.after(self.config.reconnect_grace);
        let Some(dev) = self.devices.get_mut(&device) else { return };
        if dev.away_until.is_some() {
            return;
        }
        if dev.call.is_none() && dev.ringing.is_empty() {
            self.handle_device_offline(now, device);
            return;
        }
        dev.away_until = Some(until);
        let (user, call) = (dev.user, dev.call);
        self.away.insert((until, device));
        if let Some(call) = call
            && let Some(other) = self.other_party(call, device)
        {
            self.notify(other, Notice::PeerReconnecting { call, peer: user });
        }
    }

    /// A dropped device connected again within its grace period: it is back in every
    /// call it was in. False when it is not waiting to come back (never dropped, or
    /// its grace period ended and it left its calls).
    pub fn handle_device_returned(&mut self, device: DeviceId) -> bool {
        let Some(dev) = self.devices.get_mut(&device) else { return false };
        let Some(until) = dev.away_until.take() else { return false };
        let (user, call) = (dev.user, dev.call);
        self.away.remove(&(until, device));
        if let Some(call) = call
            && let Some(other) = self.other_party(call, device)
        {
            self.notify(other, Notice::PeerReconnected { call, peer: user });
        }
        true
    }

    /// Puts a call parked before a restart (the record the store was asked to keep)
    /// back in park, with its code, parker and
    /// ringback time (a time that has passed fires at the next timeout). Its caller's
    /// device is away: it has [`super::Config::restored_caller_grace`] to connect
    /// again (resuming), or the park ends as `caller_left`. Refused, changing
    /// nothing, when an account or the policy is gone, or the code or device is taken.
    pub fn restore_park(
        &mut self,
        now: Timestamp,
        park: ParkedCallRecord,
    ) -> Result<(), CallError> {
        for user in [park.caller, park.parked_by] {
            if self.directory.user(user).is_none() {
                return Err(CallError::UserNotFound { user });
            }
        }
        if self.directory.policy(park.policy).is_none() {
            return Err(CallError::ParkNotAllowed);
        }
        if self.devices.contains_key(&park.caller_device) || self.calls.contains_key(&park.call) {
            return Err(CallError::UnknownDevice);
        }
        if !self.codebooks.entry(park.policy).or_default().claim(park.code) {
            return Err(CallError::NoFreeCode { start: park.code, end: park.code });
        }
        self.restore_away_device(
            now,
            Party { user: park.caller, device: park.caller_device },
            park.call,
        );
        self.skip_call_ids_through(park.call);
        self.parked.entry(park.policy).or_default().insert(park.code, park.call);
        let state = Park {
            parkee: Party { user: park.caller, device: park.caller_device },
            parker: park.parked_by,
            policy: park.policy,
            code: park.code,
            parked_at: park.parked_at,
            ringback_at: park.ringback_at,
            ringback: None,
        };
        self.put_call(park.call, CallState::Parked(state));
        self.media(MediaCommand::HoldMusic { device: park.caller_device });
        Ok(())
    }

    /// Puts a call connected before a restart back, both its devices away: each has
    /// [`super::Config::restored_caller_grace`] to connect again (resuming); one that
    /// does not comes off the call as if it had gone offline, and the other hears
    /// `peer_lost`. Refused, changing nothing, when an account is gone or the call
    /// or a device is already known.
    pub fn restore_connected_call(
        &mut self,
        now: Timestamp,
        record: ConnectedCallRecord,
    ) -> Result<(), CallError> {
        let ConnectedCallRecord { call, a, b } = record;
        for user in [a.user, b.user] {
            if self.directory.user(user).is_none() {
                return Err(CallError::UserNotFound { user });
            }
        }
        let known = |device| self.devices.contains_key(&device);
        if known(a.device)
            || known(b.device)
            || a.device == b.device
            || self.calls.contains_key(&call)
        {
            return Err(CallError::UnknownDevice);
        }
        self.restore_away_device(now, a, call);
        self.restore_away_device(now, b, call);
        self.skip_call_ids_through(call);
        // Not `put_call`: the stored record stays as it is, resume tokens included.
        self.calls.insert(call, CallState::Connected { a, b });
        self.media(MediaCommand::Bridge { a: a.device, b: b.device });
        Ok(())
    }

    /// A device from before a restart, in `call`, away until it resumes or its
    /// restored grace period ends.
    fn restore_away_device(&mut self, now: Timestamp, party: Party, call: CallId) {
        let until = now.after(self.config.restored_caller_grace);
        self.devices.insert(
            party.device,
            Device {
                user: party.user,
                call: Some(call),
                ringing: Vec::new(),
                subscribed: false,
                shown: None,
                away_until: Some(until),
            },
        );
        self.user_devices.entry(party.user).or_default().push(party.device);
        self.away.insert((until, party.device));
        self.presence.touch(party.user);
    }

    /// The device dropped and may still come back.
    pub fn is_away(&self, device: DeviceId) -> bool {
        self.devices.get(&device).is_some_and(|dev| dev.away_until.is_some())
    }

    /// Every call the device takes part in or that rings on it.
    pub fn device_calls(&self, device: DeviceId) -> Vec<DeviceCall> {
        let Some(dev) = self.devices.get(&device) else { return Vec::new() };
        let own = dev.call.and_then(|call| {
            let (role, peer) = match self.calls.get(&call)? {
                CallState::Ringing(ringing) => (DeviceRole::Dialing, Some(ringing.callee)),
                CallState::Connected { a, b } => {
                    let peer = if a.device == device { b.user } else { a.user };
                    (DeviceRole::Connected, Some(peer))
                }
                CallState::Parked(park) => (DeviceRole::OnHold, Some(park.parker)),
                CallState::Voicemail { owner, .. } => (DeviceRole::Voicemail, Some(*owner)),
            };
            let peer_reconnecting =
                self.other_party(call, device).is_some_and(|other| self.is_away(other));
            Some(DeviceCall { call, role, peer, code: None, peer_reconnecting })
        });
        let ringing = dev.ringing.iter().filter_map(|call| match self.calls.get(call)? {
            CallState::Ringing(ringing) => Some(DeviceCall {
                call: *call,
                role: DeviceRole::Incoming,
                peer: Some(ringing.caller.user),
                code: None,
                peer_reconnecting: false,
            }),
            CallState::Parked(Park { parkee, code, ringback: Some(_), .. }) => Some(DeviceCall {
                call: *call,
                role: DeviceRole::Ringback,
                peer: Some(parkee.user),
                code: Some(*code),
                peer_reconnecting: false,
            }),
            CallState::Parked(_) | CallState::Connected { .. } | CallState::Voicemail { .. } => {
                None
            }
        });
        own.into_iter().chain(ringing).collect()
    }

    /// The device of the other party of a connected call.
    fn other_party(&self, call: CallId, device: DeviceId) -> Option<DeviceId> {
        match self.calls.get(&call)? {
            CallState::Connected { a, b } if a.device == device => Some(b.device),
            CallState::Connected { a, b } if b.device == device => Some(a.device),
            _ => None,
        }
    }

    /// Devices whose grace period has ended leave their calls, as if offline.
    pub(super) fn end_expired_grace(&mut self, now: Timestamp) {
        while let Some(&(until, device)) = self.away.first() {
            if until > now {
                break;
            }
            self.away.remove(&(until, device));
            if let Some(dev) = self.devices.get_mut(&device) {
                dev.away_until = None;
            }
            self.handle_device_offline(now, device);
        }
    }

    /// Devices waiting to come back, with the end of their grace period.
    pub fn away_devices(&self) -> impl Iterator<Item = (Timestamp, DeviceId)> + '_ {
        self.away.iter().copied()
    }
}
