//! A call through the real sound path: cpal's PulseAudio host on a private
//! PulseAudio daemon with null sinks (the README's test command starts the daemon,
//! points PULSE_SERVER at it and stops it by PID afterwards). Each test makes its
//! own sinks, so no other test's audio mixes in.
//!
//! Bob's microphone is the monitor of a null sink the test plays a tone into;
//! Carol's speaker is another null sink whose monitor the test records.

#![cfg(target_os = "linux")] // PulseAudio null sinks; other systems test their devices by hand
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::process::Command;
use std::time::{Duration, Instant};

use callpark_client::audio::io::{FRAME_SAMPLES, SAMPLE_RATE};
use callpark_client::audio::{
    AudioSink, AudioSource, DeviceChoice, DiscardSink, Microphone, SilentSource, Speaker,
    ToneSource, list_devices,
};
use callpark_wire::RequestBody;

mod common;

use common::{Phone, blocks_with, connect, service};

/// A null sink loaded for one test and unloaded when dropped.
struct NullSink {
    module: String,
    name: String,
}

impl NullSink {
    fn load(role: &str) -> NullSink {
        assert!(
            std::env::var_os("PULSE_SERVER").is_some(),
            "this test needs a PulseAudio server: run it through the README's test command \
             (cargo xtask test), or `cargo xtask pulse -- cargo nextest run ...`"
        );
        let name = format!("callpark_test_{}_{role}", std::process::id());
        let output = Command::new("pactl")
            .args(["load-module", "module-null-sink", &format!("sink_name={name}")])
            .args(["rate=48000", "channels=1"])
            .output()
            .expect("pactl (pulseaudio-utils) is installed");
        assert!(output.status.success(), "pactl: {}", String::from_utf8_lossy(&output.stderr));
        let module = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        NullSink { module, name }
    }

    fn monitor(&self) -> DeviceChoice {
        DeviceChoice::Named(format!("{}.monitor", self.name))
    }

    fn sink(&self) -> DeviceChoice {
        DeviceChoice::Named(self.name.clone())
    }
}

impl Drop for NullSink {
    fn drop(&mut self) {
        let _ = Command::new("pactl").args(["unload-module", &self.module]).status();
    }
}

/// Plays `frames` of a tone into `speaker` in real time (one frame per 20 ms).
async fn feed_tone(speaker: &mut Speaker, hz: f32, frames: u32) {
    let mut tone = ToneSource::new(hz, SAMPLE_RATE, 0.3);
    let mut frame = [0.0; FRAME_SAMPLES];
    let mut period = tokio::time::interval(Duration::from_millis(20));
    for _ in 0..frames {
        period.tick().await;
        tone.read_frame(&mut frame);
        speaker.write_frame(&frame);
    }
}

/// Plays a tone into `speaker` in real time until stopped.
fn play_tone(mut speaker: Speaker, hz: f32) -> tokio::task::JoinHandle<()> {
    // Bounded: a test that forgets to stop it still ends.
    tokio::spawn(async move { feed_tone(&mut speaker, hz, 1_500).await })
}

/// Records `microphone` for `length`.
async fn record(microphone: &mut Microphone, length: Duration) -> Vec<f32> {
    let until = Instant::now() + length;
    let mut samples = Vec::new();
    let mut frame = [0.0; FRAME_SAMPLES];
    let mut period = tokio::time::interval(Duration::from_millis(10));
    while Instant::now() < until {
        period.tick().await;
        while microphone.read_frame(&mut frame) {
            samples.extend_from_slice(&frame);
        }
    }
    samples
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tone_into_one_phones_microphone_comes_out_of_the_others_speaker() {
    let bob_mic = NullSink::load("bob_mic");
    let carol_speaker = NullSink::load("carol_speaker");
    let devices = list_devices().unwrap();
    assert_eq!(devices.host, "PulseAudio", "cpal's own PulseAudio host, not an ALSA fallback");
    let listed = |name: &str| devices.microphones.iter().any(|d| d.id == name);
    assert!(listed(&format!("{}.monitor", bob_mic.name)), "{devices:?}");

    let (service, _data) = service().await;
    let bob = Phone::with_audio(
        &service,
        "bob",
        Box::new(Microphone::open(&bob_mic.monitor()).unwrap()),
        Box::new(DiscardSink),
    )
    .await;
    let carol = Phone::with_audio(
        &service,
        "carol",
        Box::new(SilentSource),
        Box::new(Speaker::open(&carol_speaker.sink()).unwrap()),
    )
    .await;
    let mut carol_ears = Microphone::open(&carol_speaker.monitor()).unwrap();
    assert_eq!(carol_ears.format().sample_rate, 48_000);

    let call = connect(&bob, &carol, "carol").await;
    let mouth = play_tone(Speaker::open(&bob_mic.sink()).unwrap(), 523.0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let heard = record(&mut carol_ears, Duration::from_secs(2)).await;
    mouth.abort();

    assert!(heard.len() >= FRAME_SAMPLES * 90, "{} samples in 2 s", heard.len());
    let with_tone = blocks_with(&heard, 523.0, 0.7);
    assert!(with_tone >= 0.9, "Carol's speaker plays Bob's 523 Hz in {with_tone:.2} of blocks");
    let stats = bob.media.stats().borrow().clone();
    assert!(stats.input_dbfs > -20.0, "Bob's input level shows the tone: {stats:?}");
    let stats = carol.media.stats().borrow().clone();
    assert!(stats.output_dbfs > -20.0 && stats.loss < 0.05, "{stats:?}");

    bob.ask(RequestBody::Hangup { call }).await;
    // The first half second still holds the call's end: the speaker's queue, and the
    // jitter buffer concealing a while in case packets are only late.
    let after = record(&mut carol_ears, Duration::from_millis(1_000)).await;
    let settled = &after[after.len().saturating_sub(FRAME_SAMPLES * 25)..];
    assert_eq!(blocks_with(settled, 523.0, 0.3), 0.0, "the speaker is quiet after the hang-up");
}

#[tokio::test]
async fn an_unknown_device_is_refused_with_the_ones_there_are() {
    let bob_mic = NullSink::load("named");
    let error = Microphone::open(&DeviceChoice::Named("no such microphone".into())).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("no microphone matches \"no such microphone\""), "{message}");
    assert!(message.contains(&format!("{}.monitor", bob_mic.name)), "lists what exists: {message}");
}

/// The pipeline keeps one device period of playout delay; the period must be what
/// the sound system grants, which need not be what was asked (this PulseAudio
/// server takes 10 ms per callback where 5 ms are asked).
#[tokio::test]
async fn a_speaker_reports_the_period_the_sound_system_grants() {
    let carol_speaker = NullSink::load("period");
    let mut speaker = Speaker::open(&carol_speaker.sink()).unwrap();
    feed_tone(&mut speaker, 440.0, 25).await;
    let granted = speaker.period().expect("the speaker has taken audio for half a second");
    assert!(
        (Duration::from_millis(1)..=Duration::from_millis(100)).contains(&granted),
        "a device period of {granted:?}"
    );
}
