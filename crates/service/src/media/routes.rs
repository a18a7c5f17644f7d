//! Who hears what: the routing table the switchboard's media commands edit. Pure:
//! no sockets, no clock. Every command replaces what the named legs had, and a leg
//! that stops hearing a device also stops being heard by it.

use std::collections::HashMap;

use callpark_park::{CallId, DeviceId, MediaCommand, UserId};

/// What a device hears.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Nothing (no call, or the call's media is over).
    Silence,
    /// The other party of a bridged call.
    Peer(DeviceId),
    HoldMusic,
    RingingTone,
    /// The owner's greeting and a tone; then what the device says is recorded.
    Voicemail {
        owner: UserId,
        call: CallId,
        /// Who leaves the message, known from the start (their device may be gone
        /// by the time the message is kept).
        caller: UserId,
    },
}

impl Source {
    /// Played from frames the anchor makes (rather than relayed from a device).
    pub fn is_generated(self) -> bool {
        !matches!(self, Source::Silence | Source::Peer(_))
    }
}

#[derive(Debug, Default)]
pub struct Routes {
    sources: HashMap<DeviceId, Source>,
    /// `listeners[x] = y`: frames from x are relayed to y. Bridges are one to one.
    listeners: HashMap<DeviceId, DeviceId>,
}

impl Routes {
    /// Applies one command; returns the devices whose source changed, with the new one.
    pub fn apply(&mut self, command: MediaCommand) -> Vec<(DeviceId, Source)> {
        let mut touched = Vec::new();
        match command {
            MediaCommand::Bridge { a, b } => {
                self.isolate(a, &mut touched);
                self.isolate(b, &mut touched);
                self.set(a, Source::Peer(b), &mut touched);
                self.set(b, Source::Peer(a), &mut touched);
                self.listeners.insert(a, b);
                self.listeners.insert(b, a);
            }
            MediaCommand::HoldMusic { device } => {
                self.replace(device, Source::HoldMusic, &mut touched)
            }
            MediaCommand::RingingTone { device } => {
                self.replace(device, Source::RingingTone, &mut touched);
            }
            MediaCommand::Voicemail { device, owner, call, caller } => {
                self.replace(device, Source::Voicemail { owner, call, caller }, &mut touched);
            }
            MediaCommand::EndLeg { device } => self.replace(device, Source::Silence, &mut touched),
        }
        self.changes(touched)
    }

    /// The device is gone: it hears nothing and nobody hears it.
    pub fn remove(&mut self, device: DeviceId) -> Vec<(DeviceId, Source)> {
        let mut touched = Vec::new();
        self.isolate(device, &mut touched);
        touched.retain(|(other, _)| *other != device);
        self.changes(touched)
    }

    /// From the sources touched devices had before, to those that really changed.
    fn changes(&self, before: Vec<(DeviceId, Source)>) -> Vec<(DeviceId, Source)> {
        before
            .into_iter()
            .map(|(device, old)| (device, old, self.source(device)))
            .filter(|(_, old, new)| old != new)
            .map(|(device, _, new)| (device, new))
            .collect()
    }

    pub fn source(&self, device: DeviceId) -> Source {
        self.sources.get(&device).copied().unwrap_or(Source::Silence)
    }

    /// In no call: hears nothing and is heard by nobody.
    pub fn is_idle(&self, device: DeviceId) -> bool {
        self.source(device) == Source::Silence && self.listener(device).is_none()
    }

    /// The device that hears `speaker`, if any.
    pub fn listener(&self, speaker: DeviceId) -> Option<DeviceId> {
        self.listeners.get(&speaker).copied()
    }

    fn replace(&mut self, device: DeviceId, source: Source, touched: &mut Vec<(DeviceId, Source)>) {
        self.isolate(device, touched);
        self.set(device, source, touched);
    }

    /// Cuts both directions of any bridge the device is in.
    fn isolate(&mut self, device: DeviceId, touched: &mut Vec<(DeviceId, Source)>) {
        if let Source::Peer(heard) = self.source(device)
            && self.listeners.get(&heard) == Some(&device)
        {
            self.listeners.remove(&heard);
        }
        if let Some(listener) = self.listeners.remove(&device)
            && self.source(listener) == Source::Peer(device)
        {
            self.set(listener, Source::Silence, touched);
        }
        self.set(device, Source::Silence, touched);
    }

    /// `touched` keeps each device's source from before the command, in the order
    /// devices were first touched.
    fn set(&mut self, device: DeviceId, source: Source, touched: &mut Vec<(DeviceId, Source)>) {
        if !touched.iter().any(|(other, _)| *other == device) {
            touched.push((device, self.source(device)));
        }
        if source == Source::Silence {
            self.sources.remove(&device);
        } else {
            self.sources.insert(device, source);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: DeviceId = DeviceId(1);
    const B: DeviceId = DeviceId(2);
    const C: DeviceId = DeviceId(3);

    #[test]
    fn a_bridge_relays_both_ways() {
        let mut routes = Routes::default();
        let changed = routes.apply(MediaCommand::Bridge { a: A, b: B });
        assert_eq!(changed, vec![(A, Source::Peer(B)), (B, Source::Peer(A))]);
        assert_eq!(routes.listener(A), Some(B));
        assert_eq!(routes.listener(B), Some(A));
    }

    #[test]
    fn a_device_is_idle_only_while_it_hears_nothing_and_nobody_hears_it() {
        let mut routes = Routes::default();
        assert!(routes.is_idle(A), "a new device is in no call");
        routes.apply(MediaCommand::RingingTone { device: A });
        assert!(!routes.is_idle(A), "dialing: it hears the ringing tone");
        routes.apply(MediaCommand::Bridge { a: A, b: B });
        assert!(!routes.is_idle(A) && !routes.is_idle(B));
        routes.apply(MediaCommand::EndLeg { device: A });
        assert!(routes.is_idle(A));
        assert!(routes.is_idle(B), "the other party of an ended leg hears nothing until told");
        routes.apply(MediaCommand::HoldMusic { device: B });
        assert!(!routes.is_idle(B), "a parked caller hears hold music");
        assert!(routes.is_idle(C));
    }

    #[test]
    fn park_then_retrieve_moves_the_parkee_from_music_to_the_retriever() {
        let mut routes = Routes::default();
        routes.apply(MediaCommand::Bridge { a: A, b: B });
        routes.apply(MediaCommand::EndLeg { device: A });
        let parked = routes.apply(MediaCommand::HoldMusic { device: B });
        assert_eq!(parked, vec![(B, Source::HoldMusic)]);
        assert_eq!(routes.listener(B), None, "nobody hears the parked caller");
        assert_eq!(routes.listener(A), None);
        assert_eq!(routes.source(A), Source::Silence);

        let retrieved = routes.apply(MediaCommand::Bridge { a: B, b: C });
        assert_eq!(retrieved, vec![(B, Source::Peer(C)), (C, Source::Peer(B))]);
        assert_eq!(routes.listener(B), Some(C));
        assert_eq!(routes.listener(C), Some(B));
    }

    #[test]
    fn ending_one_leg_silences_the_other() {
        let mut routes = Routes::default();
        routes.apply(MediaCommand::Bridge { a: A, b: B });
        let changed = routes.apply(MediaCommand::EndLeg { device: A });
        assert_eq!(changed, vec![(B, Source::Silence), (A, Source::Silence)]);
        assert_eq!(routes.listener(A), None);
        assert_eq!(routes.listener(B), None);
    }

    #[test]
    fn ringing_tone_then_answer() {
        let mut routes = Routes::default();
        routes.apply(MediaCommand::RingingTone { device: A });
        assert_eq!(routes.source(A), Source::RingingTone);
        routes.apply(MediaCommand::Bridge { a: A, b: B });
        assert_eq!(routes.source(A), Source::Peer(B));
    }

    #[test]
    fn a_removed_device_leaves_no_route_behind() {
        let mut routes = Routes::default();
        routes.apply(MediaCommand::Bridge { a: A, b: B });
        let changed = routes.remove(B);
        assert_eq!(changed, vec![(A, Source::Silence)]);
        assert_eq!(routes.listener(A), None);
        assert_eq!(routes.listener(B), None);
        assert!(routes.sources.is_empty());
    }

    #[test]
    fn repeating_a_command_changes_nothing() {
        let mut routes = Routes::default();
        routes.apply(MediaCommand::HoldMusic { device: A });
        assert_eq!(routes.apply(MediaCommand::HoldMusic { device: A }), vec![]);
    }
}
