//! Presence: who in the organisation is signed in, and who is in a call, pushed
//! live to the devices that watch the people list.
//!
//! Changes are collected as users whose presence may have moved (a device came or
//! went, joined or left a call, a user was added or removed) and compared with what
//! watchers were last told when outputs are drained, so a burst of changes to one
//! user (a call ending and another starting) becomes at most one notice.

use std::collections::{BTreeMap, BTreeSet};

use super::Switchboard;
use crate::error::CallError;
use crate::ids::{DeviceId, UserId};
use crate::output::{Notice, PeopleChange, Presence};

#[derive(Debug, Default)]
pub(super) struct PresenceWatch {
    watchers: BTreeSet<DeviceId>,
    /// What watchers were last told, per user.
    shown: BTreeMap<UserId, Presence>,
    /// Users whose presence may have changed since.
    dirty: BTreeSet<UserId>,
}

impl PresenceWatch {
    pub(super) fn touch(&mut self, user: UserId) {
        if !self.watchers.is_empty() {
            self.dirty.insert(user);
        }
    }

    pub(super) fn forget_device(&mut self, device: DeviceId) {
        self.watchers.remove(&device);
    }
}

impl Switchboard {
    /// A user's presence right now.
    pub fn presence(&self, user: UserId) -> Presence {
        let devices = self.devices_of(user);
        if devices.is_empty() {
            Presence::Offline
        } else if devices.iter().any(|d| self.device_call(*d).is_some()) {
            Presence::InCall
        } else {
            Presence::Available
        }
    }

    /// Starts or stops the live people list on a device. Subscribing sends everyone
    /// with their presence first; then each change.
    pub fn handle_subscribe_people(
        &mut self,
        device: DeviceId,
        subscribe: bool,
    ) -> Result<(), CallError> {
        if !self.devices.contains_key(&device) {
            return Err(CallError::UnknownDevice);
        }
        if !subscribe {
            self.presence.watchers.remove(&device);
            return Ok(());
        }
        self.flush_presence();
        let mut everyone: Vec<(UserId, Presence)> =
            self.directory.users().map(|(user, _)| (user, self.presence(user))).collect();
        everyone.sort_unstable_by_key(|(user, _)| *user);
        self.presence.shown = everyone.iter().copied().collect();
        self.presence.watchers.insert(device);
        self.notify(device, Notice::People(PeopleChange::Everyone(everyone)));
        Ok(())
    }

    /// Tells watchers about every user whose presence differs from what they were
    /// last told.
    pub(super) fn flush_presence(&mut self) {
        if self.presence.dirty.is_empty() {
            return;
        }
        let dirty = std::mem::take(&mut self.presence.dirty);
        for user in dirty {
            let now = self.directory.user(user).is_some().then(|| self.presence(user));
            let change = match (now, self.presence.shown.get(&user).copied()) {
                (Some(now), shown) if shown != Some(now) => {
                    self.presence.shown.insert(user, now);
                    PeopleChange::Changed { user, presence: now }
                }
                (None, Some(_)) => {
                    self.presence.shown.remove(&user);
                    PeopleChange::Removed { user }
                }
                _ => continue,
            };
            let watchers: Vec<DeviceId> = self.presence.watchers.iter().copied().collect();
            for device in watchers {
                self.notify(device, Notice::People(change.clone()));
            }
        }
    }
}
