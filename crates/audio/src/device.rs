//! Sound devices through cpal: the microphone as an [`AudioSource`] and the speaker
//! as an [`AudioSink`]. Each device runs its cpal stream on a thread of its own (a
//! stream may not move between threads on every platform); a lock-free ring buffer
//! carries samples between the device callback and the pipeline, and the rate and
//! channel conversion to 48 kHz mono happens on the pipeline side, so the callback
//! only copies.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};
use ringbuf::traits::{Consumer, Observer, Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};

use super::io::{AudioSink, AudioSource, FRAME_SAMPLES, Frame, SAMPLE_RATE};
use super::resample::{RateConverter, ResampleError};

/// How long opening a stream may take before the device is reported unavailable.
const OPEN_TIMEOUT: Duration = Duration::from_secs(5);
/// Device periods. Playback's queue is two periods on PulseAudio, so a short period
/// there is delay saved. Every callback costs a round of the sound server's
/// protocol; capture is one whole frame per callback, as a frame leaves only once
/// complete anyway, so a longer period there costs no delay.
pub const SPEAKER_PERIOD: Duration = Duration::from_millis(5);
const MICROPHONE_PERIOD: Duration = Duration::from_millis(20);
/// The ring holds this much device audio; anything beyond is a stalled reader.
const RING: Duration = Duration::from_millis(500);

/// Which device to use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum DeviceChoice {
    /// The system's default device.
    #[default]
    Default,
    /// A device by its system name or its display name (exactly, or a unique part).
    Named(String),
}

impl std::str::FromStr for DeviceChoice {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        Ok(if text.is_empty() || text.eq_ignore_ascii_case("default") {
            DeviceChoice::Default
        } else {
            DeviceChoice::Named(text.to_owned())
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Microphone,
    Speaker,
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Direction::Microphone => "microphone",
            Direction::Speaker => "speaker",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("no sound system: {0}")]
    Host(String),
    #[error("no {direction} matches \"{name}\"; available: {available}")]
    NotFound { direction: Direction, name: String, available: String },
    #[error("\"{name}\" matches several {direction}s: {matches}; give the full name")]
    Ambiguous { direction: Direction, name: String, matches: String },
    #[error("there is no default {0}")]
    NoDefault(Direction),
    #[error("cannot open the {direction} \"{name}\": {reason}")]
    Open { direction: Direction, name: String, reason: String },
    #[error(transparent)]
    Resample(#[from] ResampleError),
}

/// One device as the user sees it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DeviceInfo {
    /// The system's name for it (stable; use it to choose the device).
    pub id: String,
    /// The name to show.
    pub name: String,
    pub is_default: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DeviceList {
    /// The sound system in use (PulseAudio, ALSA, CoreAudio, WASAPI, ...).
    pub host: String,
    pub microphones: Vec<DeviceInfo>,
    pub speakers: Vec<DeviceInfo>,
}

/// The sound system: on Linux PulseAudio (or PipeWire's PulseAudio server) when one
/// is reachable, through cpal's own client; otherwise the platform default.
pub fn sound_host() -> Result<cpal::Host, DeviceError> {
    #[cfg(target_os = "linux")]
    {
        let pulse_requested = std::env::var_os("PULSE_SERVER").is_some();
        if cpal::available_hosts().contains(&cpal::HostId::PulseAudio) {
            match cpal::host_from_id(cpal::HostId::PulseAudio) {
                Ok(host) if host.id() == cpal::HostId::PulseAudio => return Ok(host),
                Ok(host) => tracing::warn!(host = host.id().name(), "asked for PulseAudio"),
                Err(error) if pulse_requested => {
                    // A server was named explicitly: falling back to ALSA would play into
                    // its null device, silently.
                    return Err(DeviceError::Host(format!(
                        "PULSE_SERVER is set but PulseAudio cannot be reached: {error}"
                    )));
                }
                Err(error) => tracing::debug!(%error, "PulseAudio unavailable; using the default"),
            }
        } else if pulse_requested {
            return Err(DeviceError::Host("PULSE_SERVER is set but names no usable socket".into()));
        }
    }
    Ok(cpal::default_host())
}

/// The microphones and speakers the sound system offers.
pub fn list_devices() -> Result<DeviceList, DeviceError> {
    let host = sound_host()?;
    let describe = |devices: Vec<cpal::Device>, default: Option<cpal::Device>| {
        let default_id = default.as_ref().and_then(|device| device.id().ok());
        devices
            .iter()
            .filter_map(|device| {
                let id = device.id().ok()?;
                let name = device.description().map(|d| d.name().to_owned()).ok()?;
                let is_default = default_id.as_ref() == Some(&id);
                Some(DeviceInfo { id: id_text(&id), name, is_default })
            })
            .collect::<Vec<_>>()
    };
    let host_error = |error: cpal::Error| DeviceError::Host(error.to_string());
    let inputs = host.input_devices().map_err(host_error)?.collect();
    let outputs = host.output_devices().map_err(host_error)?.collect();
    Ok(DeviceList {
        host: host.id().name().to_owned(),
        microphones: describe(inputs, host.default_input_device()),
        speakers: describe(outputs, host.default_output_device()),
    })
}

/// The device's own name: what follows the host in cpal's `host:name` id.
fn id_text(id: &cpal::DeviceId) -> String {
    let text = id.to_string();
    match text.split_once(':') {
        Some((_, name)) => name.to_owned(),
        None => text,
    }
}

/// Checks that `choice` names a device of the sound system, without opening it (no
/// stream is started, so no "microphone in use" indicator lights up).
pub fn check_device(direction: Direction, choice: &DeviceChoice) -> Result<(), DeviceError> {
    find_device(&sound_host()?, direction, choice).map(|_| ())
}

fn find_device(
    host: &cpal::Host,
    direction: Direction,
    choice: &DeviceChoice,
) -> Result<cpal::Device, DeviceError> {
    let host_error = |error: cpal::Error| DeviceError::Host(error.to_string());
    let name = match choice {
        DeviceChoice::Default => {
            let default = match direction {
                Direction::Microphone => host.default_input_device(),
                Direction::Speaker => host.default_output_device(),
            };
            return default.ok_or(DeviceError::NoDefault(direction));
        }
        DeviceChoice::Named(name) => name,
    };
    let devices: Vec<cpal::Device> = match direction {
        Direction::Microphone => host.input_devices().map_err(host_error)?.collect(),
        Direction::Speaker => host.output_devices().map_err(host_error)?.collect(),
    };
    let named: Vec<(String, String, cpal::Device)> = devices
        .into_iter()
        .filter_map(|device| {
            let id = id_text(&device.id().ok()?);
            let shown = device.description().map(|d| d.name().to_owned()).unwrap_or_default();
            Some((id, shown, device))
        })
        .collect();
    let wanted = name.to_lowercase();
    let exact = |(id, shown, _): &&(String, String, cpal::Device)| {
        id.to_lowercase() == wanted || shown.to_lowercase() == wanted
    };
    if let Some((_, _, device)) = named.iter().find(exact) {
        return Ok(device.clone());
    }
    let partial: Vec<&(String, String, cpal::Device)> = named
        .iter()
        .filter(|(id, shown, _)| {
            id.to_lowercase().contains(&wanted) || shown.to_lowercase().contains(&wanted)
        })
        .collect();
    let list = |entries: &mut dyn Iterator<Item = &(String, String, cpal::Device)>| {
        entries.map(|(id, shown, _)| format!("{shown} ({id})")).collect::<Vec<_>>().join(", ")
    };
    match partial.as_slice() {
        [(_, _, device)] => Ok(device.clone()),
        [] => Err(DeviceError::NotFound {
            direction,
            name: name.clone(),
            available: if named.is_empty() { "none".into() } else { list(&mut named.iter()) },
        }),
        several => Err(DeviceError::Ambiguous {
            direction,
            name: name.clone(),
            matches: list(&mut several.iter().copied()),
        }),
    }
}

/// What a device stream was opened with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceFormat {
    pub name: String,
    pub sample_rate: u32,
    pub channels: u16,
}

/// Device-side delay (from the callback to the air, or from the air to the
/// callback), in microseconds, as the sound system last reported it.
#[derive(Clone, Debug, Default)]
struct DeviceDelay(Arc<AtomicU64>);

impl DeviceDelay {
    fn set(&self, delay: Duration) {
        self.0.store(u64::try_from(delay.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    fn get(&self) -> Duration {
        Duration::from_micros(self.0.load(Ordering::Relaxed))
    }
}

/// The most audio a playback callback has taken at once, in device samples (0 until
/// the first callback): the period the sound system actually granted.
#[derive(Clone, Debug, Default)]
struct DevicePeriod(Arc<AtomicUsize>);

impl DevicePeriod {
    fn taken(&self, samples: usize) {
        self.0.fetch_max(samples, Ordering::Relaxed);
    }

    fn get(&self, rate: u32) -> Option<Duration> {
        let samples = self.0.load(Ordering::Relaxed);
        (samples > 0).then(|| Duration::from_secs_f64(samples as f64 / f64::from(rate.max(1))))
    }
}

/// Keeps a device stream alive on its own thread until dropped.
#[derive(Debug)]
struct StreamThread {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for StreamThread {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::warn!("a sound device thread panicked");
        }
    }
}

/// Opens the chosen device on a thread of its own, builds its stream with `start`
/// (which also returns the pipeline's end of the stream's ring) and waits until it
/// plays or fails.
fn spawn_stream<End, F>(
    direction: Direction,
    choice: &DeviceChoice,
    start: F,
) -> Result<(StreamThread, DeviceFormat, End), DeviceError>
where
    End: Send + 'static,
    F: FnOnce(
            &cpal::Device,
            cpal::StreamConfig,
            SampleFormat,
        ) -> Result<(cpal::Stream, End), cpal::Error>
        + Send
        + 'static,
{
    let (opened_sender, opened) = mpsc::channel();
    let (stop, stopped) = mpsc::channel::<()>();
    let choice = choice.clone();
    let open = move || {
        let host = sound_host()?;
        let device = find_device(&host, direction, &choice)?;
        let name = device.to_string();
        let (config, sample_format) = stream_config(&device, direction)?;
        let (stream, end) =
            start(&device, config, sample_format).map_err(open_error(direction, &name))?;
        stream.play().map_err(open_error(direction, &name))?;
        let format =
            DeviceFormat { name, sample_rate: config.sample_rate, channels: config.channels };
        Ok::<_, DeviceError>((stream, format, end))
    };
    let thread = std::thread::Builder::new()
        .name(format!("callpark-{direction}"))
        .spawn(move || {
            let stream = match open() {
                Ok((stream, format, end)) => {
                    let _ = opened_sender.send(Ok((format, end)));
                    stream
                }
                Err(error) => {
                    let _ = opened_sender.send(Err(error));
                    return;
                }
            };
            // Returns when the owner drops its sender.
            let _ = stopped.recv();
            drop(stream);
        })
        .map_err(|error| DeviceError::Host(format!("cannot start a sound thread: {error}")))?;
    let (format, end) =
        opened.recv_timeout(OPEN_TIMEOUT + Duration::from_secs(1)).map_err(|_| {
            DeviceError::Open {
                direction,
                name: String::new(),
                reason: "the sound system did not answer".into(),
            }
        })??;
    tracing::info!(%direction, device = %format.name, rate = format.sample_rate, channels = format.channels, "sound device open");
    Ok((StreamThread { stop: Some(stop), thread: Some(thread) }, format, end))
}

fn stream_config(
    device: &cpal::Device,
    direction: Direction,
) -> Result<(cpal::StreamConfig, SampleFormat), DeviceError> {
    let name = device.to_string();
    let supported = match direction {
        Direction::Microphone => device.default_input_config(),
        Direction::Speaker => device.default_output_config(),
    }
    .map_err(|error| DeviceError::Open { direction, name, reason: error.to_string() })?;
    let rate = supported.sample_rate();
    let period = match direction {
        Direction::Microphone => MICROPHONE_PERIOD,
        Direction::Speaker => SPEAKER_PERIOD,
    };
    let period = u32::try_from(samples_in(rate, period)).unwrap_or(480);
    let buffer_size = match supported.buffer_size() {
        cpal::SupportedBufferSize::Range { min, max } if (*min..=*max).contains(&period) => {
            cpal::BufferSize::Fixed(period)
        }
        _ => cpal::BufferSize::Default,
    };
    let config =
        cpal::StreamConfig { channels: supported.channels(), sample_rate: rate, buffer_size };
    Ok((config, supported.sample_format()))
}

/// Samples in `span` at `rate` (mono).
fn samples_in(rate: u32, span: Duration) -> usize {
    usize::try_from(u128::from(rate) * span.as_micros() / 1_000_000).unwrap_or(usize::MAX)
}

fn ring_for(rate: u32) -> (HeapProd<f32>, HeapCons<f32>) {
    HeapRb::<f32>::new(samples_in(rate, RING).max(FRAME_SAMPLES * 4)).split()
}

fn open_error(direction: Direction, name: &str) -> impl Fn(cpal::Error) -> DeviceError + '_ {
    move |error| DeviceError::Open { direction, name: name.to_owned(), reason: error.to_string() }
}

fn log_stream_error(direction: Direction) -> impl FnMut(cpal::Error) + Send + 'static {
    move |error| tracing::warn!(%direction, %error, "sound device error")
}

/// A microphone: device audio, converted to 48 kHz mono 20 ms frames.
pub struct Microphone {
    _stream: StreamThread,
    format: DeviceFormat,
    samples: HeapCons<f32>,
    converter: RateConverter,
    device_delay: DeviceDelay,
    overflowed: Arc<AtomicU64>,
    scratch: Vec<f32>,
    assembled: CaptureFrames,
}

impl std::fmt::Debug for Microphone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Microphone").field("format", &self.format).finish_non_exhaustive()
    }
}

impl Microphone {
    pub fn open(choice: &DeviceChoice) -> Result<Self, DeviceError> {
        let device_delay = DeviceDelay::default();
        let overflowed = Arc::new(AtomicU64::new(0));
        let (delay, overflow) = (device_delay.clone(), overflowed.clone());
        let (stream, format, samples) =
            spawn_stream(Direction::Microphone, choice, move |device, config, sample_format| {
                let (producer, consumer) = ring_for(config.sample_rate);
                let capture = Capture {
                    producer,
                    channels: usize::from(config.channels),
                    mono: Vec::new(),
                    delay,
                    overflowed: overflow,
                };
                Ok((capture.start(device, config, sample_format)?, consumer))
            })?;
        Ok(Self {
            _stream: stream,
            converter: RateConverter::new(format.sample_rate, SAMPLE_RATE)?,
            format,
            samples,
            device_delay,
            overflowed,
            scratch: Vec::with_capacity(FRAME_SAMPLES * 4),
            assembled: CaptureFrames::default(),
        })
    }

    pub fn format(&self) -> &DeviceFormat {
        &self.format
    }

    /// How long ago the newest sample of the frame last read was captured (device
    /// delay plus what is still queued behind it).
    pub fn delay(&self) -> Duration {
        let queued = self.samples.occupied_len() as f64 / f64::from(self.format.sample_rate);
        let backlog = self.assembled.queued() + self.converter.delay_samples();
        self.device_delay.get()
            + Duration::from_secs_f64(queued + backlog as f64 / f64::from(SAMPLE_RATE))
    }

    /// Device samples lost because the pipeline did not read them in time.
    pub fn overflowed(&self) -> u64 {
        self.overflowed.load(Ordering::Relaxed)
    }
}

impl AudioSource for Microphone {
    fn read_frame(&mut self, frame: &mut Frame) -> bool {
        self.scratch.resize(self.samples.occupied_len(), 0.0);
        let taken = self.samples.pop_slice(&mut self.scratch);
        self.scratch.truncate(taken);
        let converter = &mut self.converter;
        let scratch = &self.scratch;
        if let Err(error) = self.assembled.push_with(|queue| converter.process(scratch, queue)) {
            tracing::warn!(%error, "microphone resampling failed");
        }
        self.assembled.pop(frame)
    }

    fn paced(&self) -> bool {
        true
    }
}

/// The capture callback's state: downmix and queue, nothing else.
struct Capture {
    producer: HeapProd<f32>,
    channels: usize,
    mono: Vec<f32>,
    delay: DeviceDelay,
    overflowed: Arc<AtomicU64>,
}

impl Capture {
    fn start(
        self,
        device: &cpal::Device,
        config: cpal::StreamConfig,
        format: SampleFormat,
    ) -> Result<cpal::Stream, cpal::Error> {
        match format {
            SampleFormat::I16 => self.build::<i16>(device, config),
            SampleFormat::I32 => self.build::<i32>(device, config),
            SampleFormat::U16 => self.build::<u16>(device, config),
            _ => self.build::<f32>(device, config),
        }
    }

    fn build<T>(
        mut self,
        device: &cpal::Device,
        config: cpal::StreamConfig,
    ) -> Result<cpal::Stream, cpal::Error>
    where
        T: SizedSample,
        f32: FromSample<T>,
    {
        device.build_input_stream::<T, _, _>(
            config,
            move |data: &[T], info: &cpal::InputCallbackInfo| {
                let stamp = info.timestamp();
                self.delay.set(stamp.callback.saturating_duration_since(stamp.capture));
                self.mono.clear();
                let channels = self.channels.max(1);
                if channels == 1 {
                    self.mono.extend(data.iter().map(|s| s.to_sample::<f32>()));
                } else {
                    let scale = 1.0 / channels as f32;
                    self.mono.extend(data.chunks_exact(channels).map(|frame| {
                        frame.iter().map(|s| s.to_sample::<f32>()).sum::<f32>() * scale
                    }));
                }
                let pushed = self.producer.push_slice(&self.mono);
                if pushed < self.mono.len() {
                    self.overflowed.fetch_add((self.mono.len() - pushed) as u64, Ordering::Relaxed);
                }
            },
            log_stream_error(Direction::Microphone),
            Some(OPEN_TIMEOUT),
        )
    }
}

/// 48 kHz samples waiting to leave as 20 ms frames, with the backlog bounded: when
/// the device's clock runs faster than the pipeline's, the oldest frame goes.
#[derive(Debug, Default)]
pub struct CaptureFrames {
    queue: Vec<f32>,
    dropped_frames: u64,
}

/// More than this much left after a frame is read means the reader has fallen behind.
const CAPTURE_BACKLOG: usize = 2 * FRAME_SAMPLES;

impl CaptureFrames {
    pub fn push(&mut self, samples: &[f32]) {
        self.queue.extend_from_slice(samples);
    }

    fn push_with<E>(&mut self, fill: impl FnOnce(&mut Vec<f32>) -> Result<(), E>) -> Result<(), E> {
        fill(&mut self.queue)
    }

    /// The oldest whole frame, if there is one.
    pub fn pop(&mut self, frame: &mut Frame) -> bool {
        if self.queue.len() < FRAME_SAMPLES {
            return false;
        }
        frame.copy_from_slice(&self.queue[..FRAME_SAMPLES]);
        let mut consumed = FRAME_SAMPLES;
        while self.queue.len() - consumed > CAPTURE_BACKLOG {
            consumed += FRAME_SAMPLES;
            self.dropped_frames += 1;
        }
        self.queue.drain(..consumed);
        true
    }

    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    pub fn dropped_frames(&self) -> u64 {
        self.dropped_frames
    }
}

/// A speaker: 48 kHz mono frames, converted to the device's rate and channels.
pub struct Speaker {
    _stream: StreamThread,
    format: DeviceFormat,
    samples: HeapProd<f32>,
    converter: RateConverter,
    device_delay: DeviceDelay,
    period: DevicePeriod,
    converted: Vec<f32>,
    /// Device samples the next writes leave out.
    skipping: usize,
}

impl std::fmt::Debug for Speaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Speaker").field("format", &self.format).finish_non_exhaustive()
    }
}

impl Speaker {
    pub fn open(choice: &DeviceChoice) -> Result<Self, DeviceError> {
        let device_delay = DeviceDelay::default();
        let period = DevicePeriod::default();
        let (delay, taken) = (device_delay.clone(), period.clone());
        let (stream, format, samples) =
            spawn_stream(Direction::Speaker, choice, move |device, config, sample_format| {
                let (producer, consumer) = ring_for(config.sample_rate);
                let playback = Playback {
                    consumer,
                    channels: usize::from(config.channels),
                    mono: Vec::new(),
                    level: PlaybackLevel::new(config.sample_rate),
                    delay,
                    period: taken,
                };
                Ok((playback.start(device, config, sample_format)?, producer))
            })?;
        Ok(Self {
            _stream: stream,
            converter: RateConverter::new(SAMPLE_RATE, format.sample_rate)?,
            format,
            samples,
            device_delay,
            period,
            converted: Vec::with_capacity(FRAME_SAMPLES * 2),
            skipping: 0,
        })
    }

    pub fn format(&self) -> &DeviceFormat {
        &self.format
    }

    /// How long until a frame written now is heard: what is queued ahead of it plus
    /// the device's own delay.
    pub fn delay(&self) -> Duration {
        let queued = self.samples.occupied_len() as f64 / f64::from(self.format.sample_rate);
        self.device_delay.get() + Duration::from_secs_f64(queued)
    }
}

impl AudioSink for Speaker {
    fn write_frame(&mut self, frame: &Frame) {
        self.converted.clear();
        if let Err(error) = self.converter.process(frame, &mut self.converted) {
            tracing::warn!(%error, "speaker resampling failed");
            return;
        }
        let skipped = self.skipping.min(self.converted.len());
        self.skipping -= skipped;
        // A full ring means the device stopped pulling; what does not fit is dropped.
        let _ = self.samples.push_slice(&self.converted[skipped..]);
    }

    fn skip_ahead(&mut self, by: Duration) {
        self.skipping += samples_in(self.format.sample_rate, by);
    }

    fn queued(&self) -> Option<Duration> {
        let queued = self.samples.occupied_len() as f64 / f64::from(self.format.sample_rate);
        Some(Duration::from_secs_f64(queued))
    }

    fn period(&self) -> Option<Duration> {
        self.period.get(self.format.sample_rate)
    }
}

/// The playback callback's state.
struct Playback {
    consumer: HeapCons<f32>,
    channels: usize,
    mono: Vec<f32>,
    level: PlaybackLevel,
    delay: DeviceDelay,
    period: DevicePeriod,
}

impl Playback {
    fn start(
        self,
        device: &cpal::Device,
        config: cpal::StreamConfig,
        format: SampleFormat,
    ) -> Result<cpal::Stream, cpal::Error> {
        match format {
            SampleFormat::I16 => self.build::<i16>(device, config),
            SampleFormat::I32 => self.build::<i32>(device, config),
            SampleFormat::U16 => self.build::<u16>(device, config),
            _ => self.build::<f32>(device, config),
        }
    }

    fn build<T>(
        mut self,
        device: &cpal::Device,
        config: cpal::StreamConfig,
    ) -> Result<cpal::Stream, cpal::Error>
    where
        T: SizedSample + FromSample<f32>,
    {
        device.build_output_stream::<T, _, _>(
            config,
            move |data: &mut [T], info: &cpal::OutputCallbackInfo| {
                let stamp = info.timestamp();
                self.delay.set(stamp.playback.saturating_duration_since(stamp.callback));
                let channels = self.channels.max(1);
                let wanted = data.len() / channels;
                self.period.taken(wanted);
                self.mono.clear();
                self.mono.resize(wanted, 0.0);
                let skip = self.level.before_read(self.consumer.occupied_len(), wanted);
                self.consumer.skip(skip);
                if self.level.playing() {
                    let got = self.consumer.pop_slice(&mut self.mono);
                    self.level.after_read(got, wanted);
                }
                for (out, sample) in data.chunks_mut(channels).zip(&self.mono) {
                    out.fill(T::from_sample(*sample));
                }
            },
            log_stream_error(Direction::Speaker),
            Some(OPEN_TIMEOUT),
        )
    }
}

/// Keeps the speaker's queue short and steady: after running dry it waits for one
/// 20 ms frame before playing again (so a late frame costs one gap, not a gap per
/// callback), and when more than three frames have piled up it skips to one.
#[derive(Debug)]
pub struct PlaybackLevel {
    frame: usize,
    playing: bool,
    underruns: u64,
    skipped: u64,
}

impl PlaybackLevel {
    pub fn new(device_rate: u32) -> Self {
        let frame = usize::try_from(device_rate / 50).unwrap_or(FRAME_SAMPLES).max(1);
        Self { frame, playing: false, underruns: 0, skipped: 0 }
    }

    /// Before a callback reads `wanted` samples with `queued` waiting: how many of
    /// the oldest to skip.
    pub fn before_read(&mut self, queued: usize, wanted: usize) -> usize {
        if !self.playing && queued >= self.frame.max(wanted) {
            self.playing = true;
        }
        if queued > 3 * self.frame + wanted {
            let skip = queued - self.frame - wanted;
            self.skipped += skip as u64;
            return skip;
        }
        0
    }

    pub fn playing(&self) -> bool {
        self.playing
    }

    pub fn after_read(&mut self, got: usize, wanted: usize) {
        if got < wanted {
            self.playing = false;
            self.underruns += 1;
        }
    }

    pub fn underruns(&self) -> u64 {
        self.underruns
    }

    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_choice_reads_default_and_names() {
        assert_eq!("default".parse::<DeviceChoice>(), Ok(DeviceChoice::Default));
        assert_eq!(" ".parse::<DeviceChoice>(), Ok(DeviceChoice::Default));
        assert_eq!(
            "vsink.monitor".parse::<DeviceChoice>(),
            Ok(DeviceChoice::Named("vsink.monitor".into()))
        );
    }

    #[test]
    fn capture_gives_whole_frames_in_order() {
        let mut frames = CaptureFrames::default();
        let ramp: Vec<f32> = (0..1500).map(|n| n as f32).collect();
        let mut frame = [0.0; FRAME_SAMPLES];
        frames.push(&ramp[..500]);
        assert!(!frames.pop(&mut frame), "not a whole frame yet");
        frames.push(&ramp[500..]);
        assert!(frames.pop(&mut frame));
        assert_eq!(frame[0], 0.0);
        assert_eq!(frame[FRAME_SAMPLES - 1], 959.0);
        assert_eq!(frames.queued(), 540);
        assert!(!frames.pop(&mut frame));
    }

    #[test]
    fn a_capture_backlog_beyond_two_frames_drops_the_oldest() {
        let mut frames = CaptureFrames::default();
        let samples: Vec<f32> = (0..FRAME_SAMPLES * 5).map(|n| n as f32).collect();
        frames.push(&samples);
        let mut frame = [0.0; FRAME_SAMPLES];
        assert!(frames.pop(&mut frame));
        assert_eq!(frame[0], 0.0, "the frame read is the oldest");
        assert_eq!(frames.queued(), CAPTURE_BACKLOG, "two frames left, not four");
        assert_eq!(frames.dropped_frames(), 2);
        assert!(frames.pop(&mut frame));
        assert_eq!(frame[0], (FRAME_SAMPLES * 3) as f32, "continues after the dropped ones");
    }

    #[test]
    fn playback_waits_for_a_frame_after_running_dry() {
        let mut level = PlaybackLevel::new(48_000);
        assert_eq!(level.before_read(480, 480), 0);
        assert!(!level.playing(), "half a frame is not enough to start");
        level.before_read(960, 480);
        assert!(level.playing());
        level.after_read(480, 480);
        assert!(level.playing());
        level.after_read(100, 480);
        assert!(!level.playing(), "ran dry");
        assert_eq!(level.underruns(), 1);
        level.before_read(500, 480);
        assert!(!level.playing(), "waits for a whole frame again");
    }

    #[test]
    fn playback_skips_a_pile_up_down_to_one_frame() {
        let mut level = PlaybackLevel::new(48_000);
        let skip = level.before_read(960 * 5, 480);
        assert_eq!(960 * 5 - skip, 960 + 480, "one frame left after this read");
        assert_eq!(level.skipped(), skip as u64);
        assert_eq!(level.before_read(960 * 2, 480), 0, "two frames is not a pile-up");
    }
}
