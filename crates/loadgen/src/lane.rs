//! A lane: one call passed back and forth through park. The caller waits on hold
//! while two group members take turns: the holder parks, the other picks up by code
//! and becomes the holder. Every step is a park or a retrieve; nothing else.

use std::time::Instant;

use callpark_wire::{ReplyBody, RequestBody};

use crate::LoadError;
use crate::device::Device;
use crate::setup::LoadUser;
use crate::stats::Samples;

#[derive(Debug)]
pub struct Lane {
    caller: Device,
    members: [Device; 2],
    holder: usize,
    call: u64,
}

/// What one park-and-retrieve cycle cost, seen from the client.
#[derive(Debug, Default)]
pub struct LaneSamples {
    pub park: Samples,
    pub retrieve: Samples,
}

impl Lane {
    /// `users[0]` calls `users[1]`, who answers; `users[2]` is the other member.
    pub async fn connect(websocket_url: &str, users: &[LoadUser; 3]) -> Result<Lane, LoadError> {
        let mut caller = Device::connect(websocket_url, &users[0].token, "load caller").await?;
        let mut first = Device::connect(websocket_url, &users[1].token, "load member").await?;
        let second = Device::connect(websocket_url, &users[2].token, "load member").await?;
        caller.request(RequestBody::Dial { to: users[1].login.clone() }).await?;
        let call = first.incoming_call().await?;
        first.request(RequestBody::Answer { call }).await?;
        Ok(Lane { caller, members: [first, second], holder: 0, call })
    }

    /// Parks the call and picks it up from the other member; records both latencies.
    pub async fn cycle(&mut self, samples: &mut LaneSamples) -> Result<(), LoadError> {
        let started = Instant::now();
        let reply =
            self.members[self.holder].request(RequestBody::Park { call: self.call }).await?;
        samples.park.record(started.elapsed());
        let ReplyBody::Parked { code, .. } = reply else {
            return Err(LoadError::Protocol(format!("park replied {reply:?}")));
        };
        let picker = 1 - self.holder;
        let started = Instant::now();
        let reply =
            self.members[picker].request(RequestBody::Retrieve { code: code.to_string() }).await?;
        samples.retrieve.record(started.elapsed());
        let ReplyBody::Retrieved { call, .. } = reply else {
            return Err(LoadError::Protocol(format!("retrieve replied {reply:?}")));
        };
        self.call = call;
        self.holder = picker;
        Ok(())
    }

    pub async fn hang_up(mut self) {
        let _ = self.members[self.holder].request(RequestBody::Hangup { call: self.call }).await;
        self.caller.close().await;
        for member in self.members {
            member.close().await;
        }
    }
}
