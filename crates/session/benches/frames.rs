//! What the session costs per frame, against the raw frames the load generator
//! speaks (`crates/loadgen/src/device.rs`): `cargo bench -p callpark-session --bench frames`.
//!
//! One park as the parker's device sees it: dial and its reply, ringing, connected,
//! park and its reply, the call leaving this device, the park and its end (picked
//! up). Raw: encode the two requests and decode the seven frames, matching replies
//! by id. Session: the same through `Session` (typed replies, the view model).

#![allow(clippy::unwrap_used)] // benchmark code: a panic is the failure report

use std::hint::black_box;
use std::time::Duration;

use callpark_session::intent::{Dial, Park};
use callpark_session::{Output, Session};
use callpark_wire::{
    CallEndReason, EndedPark, Event, PROTOCOL_VERSION, ParkOutcome, ReplyBody, ReplyResult,
    Request, RequestBody, ServerMessage, UserRef,
};
use criterion::{Criterion, criterion_group, criterion_main};

fn carol() -> UserRef {
    UserRef { id: 3, name: "Carol Lindqvist".into() }
}

fn dave() -> UserRef {
    UserRef { id: 4, name: "Dave Park-less".into() }
}

fn reply(id: u64, body: ReplyBody) -> String {
    ServerMessage::Reply { id: Some(id), result: ReplyResult::Ok(body) }.to_json()
}

fn event(event: Event) -> String {
    ServerMessage::Event { event }.to_json()
}

/// The frames of one park of call `call`, the dial answered as request `dial_id`
/// and the park as `park_id`.
fn one_park(call: u64, dial_id: u64, park_id: u64) -> [String; 7] {
    let code = 10 + (call % 90) as u16;
    [
        reply(dial_id, ReplyBody::Dialing { call }),
        event(Event::Ringing { call, callee: dave() }),
        event(Event::Connected { call, peer: dave() }),
        reply(park_id, ReplyBody::Parked { call, code, ringback_at_ms: 300_000 }),
        event(Event::CallEnded { call, reason: CallEndReason::Parked }),
        event(Event::CallParked { call, code, caller: dave(), ringback_at_ms: 300_000 }),
        event(Event::ParkEnded(EndedPark {
            call,
            code,
            outcome: ParkOutcome::Retrieved,
            by: Some(carol()),
            caller: dave(),
            ended_at_ms: 301_000,
        })),
    ]
}

fn raw_frames(c: &mut Criterion) {
    let mut call = 0;
    c.bench_function("one_park_raw_frames", |b| {
        b.iter(|| {
            call += 1;
            let (dial_id, park_id) = (2 * call, 2 * call + 1);
            let dial = RequestBody::Dial { to: "dave".into() };
            black_box(serde_json::to_string(&Request { id: dial_id, body: dial }).unwrap());
            let park = RequestBody::Park { call };
            black_box(serde_json::to_string(&Request { id: park_id, body: park }).unwrap());
            for frame in one_park(call, dial_id, park_id) {
                let message: ServerMessage = serde_json::from_str(black_box(&frame)).unwrap();
                if let ServerMessage::Reply { id, result } = message {
                    black_box((id == Some(dial_id) || id == Some(park_id), result));
                }
            }
        })
    });
}

fn session(c: &mut Criterion) {
    let now = Duration::ZERO;
    let mut session = Session::new("Bob's laptop");
    session.handle_connected(now);
    let welcome = ReplyBody::Welcome(Box::new(callpark_wire::Welcome {
        protocol: PROTOCOL_VERSION,
        user: UserRef { id: 2, name: "Bob Okafor".into() },
        device: 7,
        policy: Some("Tag:Front desk".into()),
        park_off: None,
        resume: String::new(),
        resumed: false,
        calls: Vec::new(),
        ended_parks: Vec::new(),
    }));
    session.handle_frame(&reply(1, welcome), now);
    while session.poll_output().is_some() {}
    let mut call = 0;
    c.bench_function("one_park_through_the_session", |b| {
        b.iter(|| {
            call += 1;
            let dial_id = session.ask(Dial { to: "dave".into() }, now);
            let park_id = session.ask(Park { call }, now);
            let frames = one_park(call, dial_id, park_id);
            for frame in &frames {
                session.handle_frame(black_box(frame), now);
            }
            while let Some(output) = session.poll_output() {
                if let Output::Reply { .. } = output {
                    black_box(output);
                }
            }
        })
    });
}

/// Making the seven frames is part of both loops; measured alone, it is taken off
/// both before they are compared.
fn making_the_frames(c: &mut Criterion) {
    let mut call = 0;
    c.bench_function("one_park_frames_made", |b| {
        b.iter(|| {
            call += 1;
            black_box(one_park(call, 2 * call, 2 * call + 1));
        })
    });
}

criterion_group!(benches, raw_frames, session, making_the_frames);
criterion_main!(benches);
