//! Audio in and out of a call, as 20 ms frames of 48 kHz mono: the traits the
//! media pipeline uses, and the headless implementations (tones, silence, a sink
//! that keeps what it hears for analysis). Sound devices implement the same traits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::tone::ToneSource;

pub const SAMPLE_RATE: u32 = 48_000;
/// Samples in one 20 ms frame at 48 kHz mono.
pub const FRAME_SAMPLES: usize = 960;

pub type Frame = [f32; FRAME_SAMPLES];

/// Where the call's outgoing audio comes from.
pub trait AudioSource: Send {
    /// Fills the next 20 ms; `false` when no frame is ready yet (nothing is sent).
    fn read_frame(&mut self, frame: &mut Frame) -> bool;

    /// A device with its own clock: every frame it has is sent as soon as it is
    /// ready. Other sources are read once per 20 ms by the pipeline's clock.
    fn paced(&self) -> bool {
        false
    }
}

/// Where the call's incoming audio goes.
pub trait AudioSink: Send {
    fn write_frame(&mut self, frame: &Frame);

    /// For a device with its own clock, the audio it has queued: the pipeline plays
    /// a frame whenever that runs low, so playout follows the device. Other sinks
    /// get a frame per 20 ms of the pipeline's clock.
    fn queued(&self) -> Option<std::time::Duration> {
        None
    }

    /// Gives up `by` of the delay queued at a device: the next audio written loses
    /// that much from its start. Sinks without a queue of their own ignore it.
    fn skip_ahead(&mut self, _by: std::time::Duration) {}

    /// For a device with its own clock, how much audio it takes at a time, once it
    /// has taken some. A device may not grant the period asked for (WASAPI and
    /// CoreAudio pick their own), and the playout delay given up must leave it.
    fn period(&self) -> Option<std::time::Duration> {
        None
    }
}

impl AudioSource for ToneSource {
    fn read_frame(&mut self, frame: &mut Frame) -> bool {
        self.fill(frame);
        true
    }
}

/// A microphone that hears nothing.
#[derive(Debug, Default)]
pub struct SilentSource;

impl AudioSource for SilentSource {
    fn read_frame(&mut self, frame: &mut Frame) -> bool {
        frame.fill(0.0);
        true
    }
}

/// A source that says silence until its [`Gate`] opens: a file played into a call
/// starts when the call connects, not when the audio link comes up.
pub struct GatedSource {
    inner: Box<dyn AudioSource>,
    open: Gate,
}

/// Opens a [`GatedSource`].
#[derive(Clone, Debug, Default)]
pub struct Gate(Arc<AtomicBool>);

impl Gate {
    pub fn open(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Gate {
    fn is_open(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl GatedSource {
    pub fn new(inner: Box<dyn AudioSource>, gate: &Gate) -> Self {
        Self { inner, open: gate.clone() }
    }
}

/// A sink that hears nothing until its [`Gate`] opens: a recording starts when the
/// call connects.
pub struct GatedSink {
    inner: Box<dyn AudioSink>,
    open: Gate,
}

impl GatedSink {
    pub fn new(inner: Box<dyn AudioSink>, gate: &Gate) -> Self {
        Self { inner, open: gate.clone() }
    }
}

impl std::fmt::Debug for GatedSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatedSink").field("open", &self.open).finish_non_exhaustive()
    }
}

impl AudioSink for GatedSink {
    fn write_frame(&mut self, frame: &Frame) {
        if self.open.is_open() {
            self.inner.write_frame(frame);
        }
    }

    fn queued(&self) -> Option<std::time::Duration> {
        if self.open.is_open() { self.inner.queued() } else { None }
    }

    fn skip_ahead(&mut self, by: std::time::Duration) {
        if self.open.is_open() {
            self.inner.skip_ahead(by);
        }
    }

    fn period(&self) -> Option<std::time::Duration> {
        self.inner.period()
    }
}

impl std::fmt::Debug for GatedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatedSource").field("open", &self.open).finish_non_exhaustive()
    }
}

impl AudioSource for GatedSource {
    fn read_frame(&mut self, frame: &mut Frame) -> bool {
        if self.open.is_open() {
            self.inner.read_frame(frame)
        } else {
            frame.fill(0.0);
            true
        }
    }

    fn paced(&self) -> bool {
        self.open.is_open() && self.inner.paced()
    }
}

/// A speaker that plays nowhere.
#[derive(Debug, Default)]
pub struct DiscardSink;

impl AudioSink for DiscardSink {
    fn write_frame(&mut self, _frame: &Frame) {}
}

/// One frame as it was played, and when.
#[derive(Clone, Debug)]
pub struct HeardFrame {
    pub at: Instant,
    pub samples: Box<Frame>,
}

/// Keeps the most recent frames played, for tests and the headless softphone's
/// tone detection. Clone the [`Heard`] handle before giving the sink away.
#[derive(Debug)]
pub struct AnalysingSink {
    heard: Heard,
}

/// What an [`AnalysingSink`] has played so far.
#[derive(Clone, Debug)]
pub struct Heard {
    frames: Arc<Mutex<Vec<HeardFrame>>>,
    limit: usize,
}

impl AnalysingSink {
    /// Keeps at most `seconds` of audio (the oldest goes first).
    pub fn new(seconds: u32) -> Self {
        let limit = usize::try_from(seconds).unwrap_or(usize::MAX).saturating_mul(50).max(1);
        Self { heard: Heard { frames: Arc::new(Mutex::new(Vec::new())), limit } }
    }

    pub fn heard(&self) -> Heard {
        self.heard.clone()
    }
}

impl AudioSink for AnalysingSink {
    fn write_frame(&mut self, frame: &Frame) {
        let Ok(mut frames) = self.heard.frames.lock() else { return };
        if frames.len() >= self.heard.limit {
            let excess = frames.len() + 1 - self.heard.limit;
            frames.drain(..excess);
        }
        frames.push(HeardFrame { at: Instant::now(), samples: Box::new(*frame) });
    }
}

impl Heard {
    /// The frames played at or after `since`.
    pub fn since(&self, since: Instant) -> Vec<HeardFrame> {
        self.frames
            .lock()
            .map(|frames| frames.iter().filter(|frame| frame.at >= since).cloned().collect())
            .unwrap_or_default()
    }

    /// Another sink that keeps what it plays here (for a new call's audio).
    pub fn sink(&self) -> AnalysingSink {
        AnalysingSink { heard: self.clone() }
    }

    pub fn clear(&self) {
        if let Ok(mut frames) = self.frames.lock() {
            frames.clear();
        }
    }
}
