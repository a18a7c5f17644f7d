//! One call's audio processing, between the sound I/O and the network: encode what
//! the source gives every 20 ms, and play what the jitter buffer releases, giving up
//! playout delay at a speaker that packets do not need (`SlackMeter`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::ClientError;
use crate::audio::device::SPEAKER_PERIOD;
use crate::audio::io::{FRAME_SAMPLES, Frame};
use crate::audio::{
    JitterBuffer, JitterConfig, Playout, SlackMeter, VoiceDecoder, VoiceEncoder, level_dbfs,
};

use super::CallAudio;

const STATS_EVERY: Duration = Duration::from_millis(100);
const FRAME: Duration = Duration::from_millis(20);
/// RTP ticks per 20 ms frame at 48 kHz.
const FRAME_TICKS: u64 = 960;
/// A device sink gets another frame once less than this is queued: one poll period
/// (5 ms) and one device period (5 ms) with a little to spare.
const PLAYOUT_LOW_WATER: Duration = Duration::from_millis(12);
/// A frame this quiet can be played short without anyone hearing the cut.
const QUIET_DBFS: f32 = -45.0;
/// Frames handled in one go at most, so a stalled device cannot spin the loop.
pub const MAX_FRAMES_AT_ONCE: usize = 3;

/// A 20 ms clock for sources and sinks without one of their own: due once per
/// period; after a stall of more than three periods it starts afresh rather than
/// bursting to catch up.
#[derive(Debug, Default)]
pub struct FrameClock {
    next: Option<Instant>,
}

impl FrameClock {
    pub fn due(&mut self, now: Instant) -> bool {
        match self.next {
            Some(next) if now < next => false,
            Some(next) if now - next < 3 * FRAME => {
                self.next = Some(next + FRAME);
                true
            }
            _ => {
                self.next = Some(now + FRAME);
                true
            }
        }
    }
}

/// Call statistics and levels, for the UI and tests.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct MediaStats {
    /// The peer connection to the service is up (ICE and DTLS done).
    pub connected: bool,
    pub muted: bool,
    pub packets_sent: u64,
    pub packets_received: u64,
    /// Share of incoming packets lost (0–1).
    pub loss: f64,
    pub jitter_ms: f64,
    /// Audio waiting in the jitter buffer.
    pub buffer_delay_ms: u64,
    pub recovered_by_fec: u64,
    pub concealed: u64,
    /// Last frame's levels, dBFS (−100 is silence).
    pub input_dbfs: f32,
    pub output_dbfs: f32,
    /// The call audio is open: the microphone captures (muted or not) and the
    /// speaker plays. Only while this device is a party to a call.
    pub microphone_open: bool,
    /// What could not be opened for this call, in words (the call goes on without it).
    pub sound_problems: Vec<String>,
}

/// When the most recent packets arrived or left, for latency measurements.
#[derive(Clone, Debug, Default)]
pub struct PacketTimes {
    times: Arc<Mutex<VecDeque<Instant>>>,
}

const TIMES_KEPT: usize = 512;

impl PacketTimes {
    pub(crate) fn record(&self, at: Instant) {
        if let Ok(mut times) = self.times.lock() {
            if times.len() == TIMES_KEPT {
                times.pop_front();
            }
            times.push_back(at);
        }
    }

    /// The first packet time at or after `since` (among the last 512).
    pub fn first_after(&self, since: Instant) -> Option<Instant> {
        let times = self.times.lock().ok()?;
        times.iter().copied().find(|at| *at >= since)
    }

    /// The last packet time at or before `until` (among the last 512).
    pub fn last_before(&self, until: Instant) -> Option<Instant> {
        let times = self.times.lock().ok()?;
        times.iter().copied().rev().find(|at| *at <= until)
    }
}

/// Arrival and departure times of one device's packets, and when its call audio
/// opened and closed.
#[derive(Clone, Debug, Default)]
pub struct PacketLog {
    pub arrivals: PacketTimes,
    pub departures: PacketTimes,
    pub opened: PacketTimes,
    pub closed: PacketTimes,
    /// When each call's first frame was written to its sink.
    pub first_played: PacketTimes,
}

pub struct Pipeline {
    log: PacketLog,
    encoder: VoiceEncoder,
    decoder: VoiceDecoder,
    jitter: JitterBuffer,
    slack: SlackMeter,
    newest_arrival: Option<Instant>,
    origin: Instant,
    input: Box<Frame>,
    output: Box<Frame>,
    next_rtp_time: u64,
    play_clock: FrameClock,
    send_clock: FrameClock,
    muted: bool,
    played_any: bool,
    packets_sent: u64,
    input_dbfs: f32,
    output_dbfs: f32,
    stats_at: Instant,
}

impl Pipeline {
    pub fn new(muted: bool, log: PacketLog) -> Result<Self, ClientError> {
        let media = |error: crate::audio::voice::CodecError| ClientError::Media(error.to_string());
        let now = Instant::now();
        Ok(Self {
            log,
            encoder: VoiceEncoder::new().map_err(media)?,
            decoder: VoiceDecoder::new().map_err(media)?,
            jitter: JitterBuffer::new(JitterConfig::default()),
            // The period asked of the speaker, until it has said what it takes.
            slack: SlackMeter::new(SPEAKER_PERIOD),
            newest_arrival: None,
            origin: now,
            input: Box::new([0.0; FRAME_SAMPLES]),
            output: Box::new([0.0; FRAME_SAMPLES]),
            next_rtp_time: 0,
            play_clock: FrameClock::default(),
            send_clock: FrameClock::default(),
            muted,
            played_any: false,
            packets_sent: 0,
            input_dbfs: -100.0,
            output_dbfs: -100.0,
            stats_at: now,
        })
    }

    pub fn set_muted(&mut self, muted: bool) {
        self.muted = muted;
    }

    /// Plays what is due: as many frames as a device sink needs to stay above its
    /// low-water mark, or one frame per 20 ms for other sinks.
    pub fn play(&mut self, audio: &mut CallAudio, now: Instant) {
        match audio.sink.queued() {
            Some(mut queued) => {
                for _ in 0..MAX_FRAMES_AT_ONCE {
                    if queued >= PLAYOUT_LOW_WATER {
                        break;
                    }
                    self.play_one(audio, Some(now));
                    queued += FRAME;
                }
            }
            None => {
                if self.play_clock.due(now) {
                    self.play_one(audio, None);
                }
            }
        }
    }

    /// Plays the next frame. `device_time` is given for a sink that keeps its own
    /// queue: its delay is then watched, and given up in a quiet frame when packets
    /// wait for their turn longer than they need to.
    fn play_one(&mut self, audio: &mut CallAudio, device_time: Option<Instant>) {
        let playout = self.jitter.poll_playout();
        self.decoder.play(&playout, &mut self.output);
        self.output_dbfs = level_dbfs(&self.output[..]);
        if let Some(now) = device_time {
            // The newest packet's wait from arrival until it is played: so far, plus
            // the frames still ahead of it.
            let waited = self
                .newest_arrival
                .filter(|_| matches!(playout, Playout::Decode(_)))
                .map(|at| now.saturating_duration_since(at) + self.jitter.buffered());
            if let Some(period) = audio.sink.period() {
                self.slack.set_step(period);
            }
            self.slack.played(waited, self.jitter.jitter());
            if self.output_dbfs < QUIET_DBFS {
                let spare = self.slack.take();
                if !spare.is_zero() {
                    tracing::debug!(
                        spare_ms = spare.as_secs_f64() * 1000.0,
                        "playout delay given up"
                    );
                    audio.sink.skip_ahead(spare);
                }
            }
        }
        audio.sink.write_frame(&self.output);
        if !self.played_any {
            self.played_any = true;
            self.log.first_played.record(Instant::now());
        }
    }

    /// The next packet to send (with its RTP time), if one is due: every frame a
    /// device source has ready, or one per 20 ms from other sources.
    pub fn next_packet(&mut self, audio: &mut CallAudio, now: Instant) -> Option<(u64, &[u8])> {
        let due = if audio.source.paced() { true } else { self.send_clock.due(now) };
        if !due || !audio.source.read_frame(&mut self.input) {
            return None;
        }
        if self.muted {
            self.input.fill(0.0);
        }
        self.input_dbfs = level_dbfs(&self.input[..]);
        let rtp_time = self.next_rtp_time;
        self.next_rtp_time += FRAME_TICKS;
        match self.encoder.encode(&self.input) {
            Ok(packet) => {
                self.packets_sent += 1;
                self.log.departures.record(Instant::now());
                Some((rtp_time, packet))
            }
            Err(error) => {
                tracing::warn!(%error, "cannot encode a frame");
                None
            }
        }
    }

    /// A packet arrived.
    pub fn receive(&mut self, at: Instant, sequence: u16, rtp_time: u32, payload: &[u8]) {
        self.log.arrivals.record(at);
        self.newest_arrival = Some(at);
        self.jitter.handle_packet(at - self.origin, sequence, rtp_time, payload.to_vec());
    }

    /// Fresh statistics, if it is time for them.
    pub fn stats_due(&mut self, connected: bool) -> Option<MediaStats> {
        let now = Instant::now();
        if now < self.stats_at {
            return None;
        }
        self.stats_at = now + STATS_EVERY;
        let jitter = self.jitter.stats();
        Some(MediaStats {
            connected,
            muted: self.muted,
            packets_sent: self.packets_sent,
            packets_received: jitter.received,
            loss: jitter.loss(),
            jitter_ms: jitter.jitter_ms,
            buffer_delay_ms: jitter.buffered_ms,
            recovered_by_fec: jitter.recovered_by_fec,
            concealed: jitter.concealed,
            input_dbfs: self.input_dbfs,
            output_dbfs: self.output_dbfs,
            microphone_open: true,
            sound_problems: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_clock_is_due_every_20_ms_and_catches_up_short_delays() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut clock = FrameClock::default();
        assert!(clock.due(at(0)));
        assert!(!clock.due(at(5)));
        assert!(!clock.due(at(19)));
        assert!(clock.due(at(20)));
        // Woken at 65 ms: the periods due at 40 and 60 ms are both still served, then
        // the clock is back on its grid.
        assert!(clock.due(at(65)));
        assert!(clock.due(at(65)));
        assert!(!clock.due(at(66)));
        assert!(clock.due(at(80)));
    }

    #[test]
    fn after_a_long_stall_the_frame_clock_starts_afresh() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut clock = FrameClock::default();
        assert!(clock.due(at(0)));
        assert!(clock.due(at(500)));
        assert!(!clock.due(at(501)), "no burst of the 24 missed periods");
        assert!(clock.due(at(520)));
    }
}

/// The pipeline against a simulated sound device, on a simulated clock: packets
/// arrive every 20 ms at a chosen phase, the device takes a period of audio every
/// period, and the pipeline is polled every 5 ms, as the peer does.
#[cfg(test)]
mod playout_delay {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::audio::{AudioSink, SilentSource};

    const STEP: Duration = Duration::from_millis(1);

    #[derive(Debug, Default)]
    struct Device {
        period: Duration,
        written: Duration,
        played: Duration,
        skipping: Duration,
        skipped: Duration,
        underruns: u32,
    }

    struct SimulatedSpeaker(Arc<Mutex<Device>>);

    impl AudioSink for SimulatedSpeaker {
        fn write_frame(&mut self, _frame: &Frame) {
            let mut device = self.0.lock().unwrap();
            let skipped = device.skipping.min(FRAME);
            device.skipping -= skipped;
            device.skipped += skipped;
            device.written += FRAME - skipped;
        }

        fn queued(&self) -> Option<Duration> {
            let device = self.0.lock().unwrap();
            Some(device.written.saturating_sub(device.played))
        }

        fn skip_ahead(&mut self, by: Duration) {
            self.0.lock().unwrap().skipping += by;
        }

        fn period(&self) -> Option<Duration> {
            let device = self.0.lock().unwrap();
            (device.played > Duration::ZERO).then_some(device.period)
        }
    }

    struct Run {
        /// Audio ahead of each packet's first sample when it arrives, over the
        /// first and the last second.
        delay_first_second: Duration,
        delay_last_second: Duration,
        device: Device,
        /// Frames concealed after the first cut.
        concealed: u64,
    }

    /// Four seconds of a call: packets arriving `phase` after each 20 ms mark,
    /// spread by `spread` (a fixed pattern, 0 to `spread`), played by a device that
    /// takes `period` at a time.
    fn run_with_period(phase: Duration, spread: Duration, period: Duration) -> Run {
        let device = Arc::new(Mutex::new(Device { period, ..Device::default() }));
        let mut audio = CallAudio {
            source: Box::new(SilentSource),
            sink: Box::new(SimulatedSpeaker(device.clone())),
        };
        let mut pipeline = Pipeline::new(false, PacketLog::default()).unwrap();
        let mut encoder = VoiceEncoder::new().unwrap();
        let packet = encoder.encode(&[0.0; FRAME_SAMPLES]).unwrap().to_vec();
        let start = Instant::now();
        let pattern = [0u32, 3, 1, 4, 2];
        let arrivals: Vec<(u32, u32)> = (0..200u32)
            .map(|k| {
                let jitter = spread * pattern[k as usize % pattern.len()] / 4;
                let at = FRAME * k + phase + jitter;
                (u32::try_from(at.as_millis()).unwrap(), k)
            })
            .collect();
        let pull_every = u32::try_from(period.as_millis()).unwrap();
        let mut delays = Vec::new();
        let mut concealed_before_first_cut = None;
        for ms in 0..4_000u32 {
            let now = start + STEP * ms;
            if ms % pull_every == 0 {
                let mut device = device.lock().unwrap();
                if device.written >= device.played + period {
                    device.played += period;
                } else if device.played > Duration::ZERO {
                    device.underruns += 1;
                }
            }
            for &(_, k) in arrivals.iter().filter(|(at, _)| *at == ms) {
                pipeline.receive(now, k as u16, k * 960, &packet);
                let queued = audio.sink.queued().unwrap_or_default();
                delays.push((ms, (queued + pipeline.jitter.buffered()).saturating_sub(FRAME)));
            }
            if ms % 5 == 2 {
                pipeline.play(&mut audio, now);
            }
            if concealed_before_first_cut.is_none()
                && device.lock().unwrap().skipped > Duration::ZERO
            {
                let stats = pipeline.jitter.stats();
                concealed_before_first_cut = Some(stats.concealed + stats.expanded);
            }
        }
        let mean = |from: u32, to: u32| {
            let chosen: Vec<Duration> =
                delays.iter().filter(|(ms, _)| (from..to).contains(ms)).map(|(_, d)| *d).collect();
            chosen.iter().sum::<Duration>() / u32::try_from(chosen.len()).unwrap()
        };
        let stats = pipeline.jitter.stats();
        Run {
            delay_first_second: mean(200, 1_200),
            delay_last_second: mean(3_000, 4_000),
            device: std::mem::take(&mut *device.lock().unwrap()),
            concealed: stats.concealed + stats.expanded
                - concealed_before_first_cut.unwrap_or(stats.concealed + stats.expanded),
        }
    }

    /// The same with the period the speaker is asked for.
    fn run(phase: Duration, spread: Duration) -> Run {
        run_with_period(phase, spread, SPEAKER_PERIOD)
    }

    #[test]
    fn whatever_the_phase_a_steady_stream_ends_with_at_most_a_frame_queued_ahead() {
        for phase in 0..20 {
            let run = run(Duration::from_millis(phase), Duration::ZERO);
            assert!(
                run.delay_last_second <= Duration::from_millis(20),
                "phase {phase} ms: {:?} queued ahead of each packet at the end (given up: {:?})",
                run.delay_last_second,
                run.device.skipped
            );
            assert_eq!(run.device.underruns, 0, "phase {phase} ms");
            assert_eq!(run.concealed, 0, "phase {phase} ms: a cut made a packet late");
        }
    }

    #[test]
    fn with_jitter_delay_is_only_ever_given_up_where_no_packet_misses_its_turn() {
        for phase in 0..20 {
            let run = run(Duration::from_millis(phase), Duration::from_millis(4));
            assert_eq!(run.device.underruns, 0, "phase {phase} ms");
            assert_eq!(run.concealed, 0, "phase {phase} ms: a cut made a packet late");
            assert!(run.delay_last_second <= run.delay_first_second, "phase {phase} ms");
        }
    }

    #[test]
    fn a_device_that_takes_a_longer_period_than_asked_is_never_cut_short() {
        // A sound system may grant its own period where 5 ms were asked (ALSA's
        // common 1,024 samples are 21 ms at 48 kHz): the delay kept must follow the
        // period the device reports, or cuts make packets late (seen failing at
        // 15 and 20 ms with the 5 ms assumed).
        let granted = Duration::from_millis(20);
        for phase in 0..20 {
            for spread in [Duration::ZERO, Duration::from_millis(4)] {
                let run = run_with_period(Duration::from_millis(phase), spread, granted);
                assert_eq!(run.device.underruns, 0, "phase {phase} ms, spread {spread:?}");
                assert_eq!(run.concealed, 0, "phase {phase} ms, spread {spread:?}: a packet late");
            }
        }
    }
}
