//! How fast a call's audio starts now that the sound devices open only for calls:
//! two phones in one process, on real sound devices (cpal's PulseAudio host on null
//! sinks) against a service on 127.0.0.1. For each of CALLS calls (default 20):
//! - the callee, whose devices open at `connected`: connected → first packet sent,
//!   → first frame played;
//! - the caller, whose devices open when it dials: dial sent → first packet sent,
//!   → first frame played (the ringing tone);
//! - a retriever, whose devices open at the pickup: retrieve reply → first parkee
//!   packet received; retrieve sent → first frame played, → first packet sent.
//!
//! Needs a PulseAudio server: `cargo xtask pulse -- cargo bench -p callpark-client
//! --bench call_start`.

#![allow(clippy::unwrap_used)] // a benchmark: a panic is the failure report

use std::time::{Duration, Instant};

use callpark_client::intent::{Answer, Dial, HangUp, Park, Retrieve};
use callpark_client::media::{PacketTimes, SoundDevices};
use callpark_wire::Event;

#[path = "../tests/common/mod.rs"]
mod common;

use common::pulse::NullSink;
use common::{Phone, connect, service};

/// A phone on its own pair of null sinks (its microphone hears the first's monitor,
/// kept running as a sound card runs).
struct OnDevices {
    phone: Phone,
    _card: callpark_client::audio::Microphone,
    _sinks: (NullSink, NullSink),
}

async fn on_devices(service: &callpark_client::ServiceAddress, login: &str) -> OnDevices {
    let (mouth, ear) = (NullSink::load(&format!("{login}_mic")), NullSink::load(login));
    let card = mouth.keep_running();
    let devices = SoundDevices { microphone: mouth.monitor(), speaker: ear.sink() };
    let phone = Phone::with_audio(service, login, devices).await;
    OnDevices { phone, _card: card, _sinks: (mouth, ear) }
}

/// The first time in `times` at or after `since`, waiting for it up to a second.
async fn first(times: &PacketTimes, since: Instant) -> Duration {
    let until = Instant::now() + Duration::from_secs(1);
    loop {
        if let Some(at) = times.first_after(since) {
            return at - since;
        }
        assert!(Instant::now() < until, "nothing within a second");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[derive(Default)]
struct Figure(Vec<Duration>);

impl Figure {
    fn report(&mut self, what: &str) {
        self.0.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{what}: p50 {:.1} ms, max {:.1} ms (n = {})",
            ms(self.0[self.0.len() / 2]),
            ms(*self.0.last().unwrap()),
            self.0.len()
        );
    }
}

async fn closed(phone: &Phone, since: Instant) {
    first(&phone.media.audio_closed(), since).await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let calls: usize = std::env::var("CALLS").ok().and_then(|n| n.parse().ok()).unwrap_or(20);
    let (service, _data) = service().await;
    let bob = on_devices(&service, "bob").await;
    let carol = on_devices(&service, "carol").await;
    let dave = on_devices(&service, "dave").await;
    let (bob, carol, dave) = (&bob.phone, &carol.phone, &dave.phone);

    let mut figures: [Figure; 7] = Default::default();
    for _ in 0..calls {
        let incoming = carol.event(|event| match event {
            Event::IncomingCall { call, .. } => Some(*call),
            _ => None,
        });
        let dialed = Instant::now();
        let call = bob.ask(Dial { to: "carol".into() }).await;
        incoming.await;
        let connected = carol.event(|event| matches!(event, Event::Connected { .. }).then_some(()));
        carol.ask(Answer { call }).await;
        connected.await;
        let connected_at = Instant::now();
        figures[0].0.push(first(&carol.media.departures(), connected_at).await);
        figures[1].0.push(first(&carol.media.first_played(), connected_at).await);
        figures[2].0.push(first(&bob.media.departures(), dialed).await);
        figures[3].0.push(first(&bob.media.first_played(), dialed).await);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let hung_up = Instant::now();
        bob.ask(HangUp { call }).await;
        closed(bob, hung_up).await;
        closed(carol, hung_up).await;

        // Dave calls Bob, Bob parks, Carol picks up.
        let call = connect(dave, bob, "bob").await;
        let code = bob.ask(Park { call }).await.code;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let asked = Instant::now();
        let retrieved = carol.ask(Retrieve { code: code.to_string() }).await;
        let replied = Instant::now();
        assert_eq!(retrieved.code, code);
        figures[4].0.push(first(&carol.media.arrivals(), replied).await);
        figures[5].0.push(first(&carol.media.first_played(), asked).await);
        figures[6].0.push(first(&carol.media.departures(), asked).await);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let hung_up = Instant::now();
        carol.ask(HangUp { call }).await;
        closed(carol, hung_up).await;
        closed(dave, hung_up).await;
    }
    figures[0].report("callee: connected -> first packet sent");
    figures[1].report("callee: connected -> first frame played");
    figures[2].report("caller: dial sent -> first packet sent");
    figures[3].report("caller: dial sent -> first frame played (ringing tone)");
    figures[4].report("retriever: retrieve reply -> first parkee packet received");
    figures[5].report("retriever: retrieve sent -> first frame played");
    figures[6].report("retriever: retrieve sent -> first packet sent");
}
