//! A call through the real sound path: cpal's PulseAudio host on a private
//! PulseAudio daemon with null sinks (the README's test command starts the daemon,
//! points PULSE_SERVER at it and stops it by PID afterwards). Each test makes its
//! own sinks, so no other test's audio mixes in.
//!
//! Bob's microphone is the monitor of a null sink the test plays a tone into;
//! Carol's speaker is another null sink whose monitor the test records.

#![cfg(target_os = "linux")] // PulseAudio null sinks; other systems test their devices by hand
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::time::{Duration, Instant};

use callpark_client::audio::io::{FRAME_SAMPLES, SAMPLE_RATE};
use callpark_client::audio::{
    AudioSink, AudioSource, DeviceChoice, DiscardSink, Microphone, SilentSource, Speaker,
    ToneSource, list_devices,
};
use callpark_client::intent::HangUp;
use callpark_client::media::CallAudio;

mod common;

use common::pulse::NullSink;
use common::{Phone, blocks_with, connect, service};

/// Waits (up to a second) for `count` to read `expected`: devices open and close a
/// moment after the call event that decides it.
async fn settles(count: impl Fn() -> usize, expected: usize, what: &str) {
    // pactl runs as a process: the phones' tasks share this runtime, so its wait
    // must not hold a worker thread they need.
    let count = || tokio::task::block_in_place(&count);
    let until = Instant::now() + Duration::from_secs(1);
    let mut seen = count();
    while seen != expected && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
        seen = count();
    }
    assert_eq!(seen, expected, "{what}");
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
    // Bob's microphone's sink runs as a sound card does (Carol's speaker is recorded by
    // the test below): its monitor has a recording of the test's own on it, so Bob's
    // microphone is the second source output there. Each phone opens the one real
    // device the test listens through, for each call (the desktop app's UI suite
    // covers `SoundDevices`, both at once).
    let _card = bob_mic.keep_running();
    let bob_microphone = bob_mic.monitor();
    let bob = Phone::with_audio(&service, "bob", move || CallAudio {
        source: Box::new(Microphone::open(&bob_microphone).expect("Bob's microphone")),
        sink: Box::new(DiscardSink),
    })
    .await;
    let carol_speaker_device = carol_speaker.sink();
    let carol = Phone::with_audio(&service, "carol", move || CallAudio {
        source: Box::new(SilentSource),
        sink: Box::new(Speaker::open(&carol_speaker_device).expect("Carol's speaker")),
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bob_mic.recording_streams(), 1, "signed in and idle: Bob's microphone is closed");
    assert_eq!(carol_speaker.playing_streams(), 0, "signed in and idle: no playback stream");
    let mut carol_ears = Microphone::open(&carol_speaker.monitor()).unwrap();
    assert_eq!(carol_ears.format().sample_rate, 48_000);

    let dialed = Instant::now();
    let call = connect(&bob, &carol, "carol").await;
    settles(|| bob_mic.recording_streams(), 2, "in a call: Bob's microphone records").await;
    settles(|| carol_speaker.playing_streams(), 1, "in a call: Carol's speaker plays").await;
    let mouth = play_tone(Speaker::open(&bob_mic.sink()).unwrap(), 523.0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let heard = record(&mut carol_ears, Duration::from_secs(2)).await;
    mouth.abort();

    assert!(heard.len() >= FRAME_SAMPLES * 90, "{} samples in 2 s", heard.len());
    let with_tone = blocks_with(&heard, 523.0, 0.7);
    let pattern: String = heard
        .chunks_exact(FRAME_SAMPLES)
        .map(|block| if blocks_with(block, 523.0, 0.7) > 0.0 { '#' } else { '.' })
        .collect();
    assert!(
        with_tone >= 0.9,
        "Carol's speaker plays Bob's 523 Hz in {with_tone:.2} of blocks ({pattern}; Bob's audio \
         opened {:?} and Carol's {:?} after the dial; {:?}; {:?})",
        bob.media.audio_opened().first_after(dialed).map(|at| at - dialed),
        carol.media.audio_opened().first_after(dialed).map(|at| at - dialed),
        bob.media.stats().borrow(),
        carol.media.stats().borrow(),
    );
    let stats = bob.media.stats().borrow().clone();
    assert!(stats.input_dbfs > -20.0, "Bob's input level shows the tone: {stats:?}");
    let stats = carol.media.stats().borrow().clone();
    assert!(stats.output_dbfs > -20.0 && stats.loss < 0.05, "{stats:?}");

    bob.ask(HangUp { call }).await;
    // The first half second still holds the call's end: the speaker's queue, and the
    // jitter buffer concealing a while in case packets are only late.
    let after = record(&mut carol_ears, Duration::from_millis(1_000)).await;
    let settled = &after[after.len().saturating_sub(FRAME_SAMPLES * 25)..];
    assert_eq!(blocks_with(settled, 523.0, 0.3), 0.0, "the speaker is quiet after the hang-up");
    settles(|| bob_mic.recording_streams(), 1, "after the call Bob's microphone is closed").await;
    settles(|| carol_speaker.playing_streams(), 0, "after the call Carol's speaker is closed")
        .await;
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
