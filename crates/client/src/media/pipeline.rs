//! One call's audio processing, between the sound I/O and the network: encode what
//! the source gives every 20 ms, and play what the jitter buffer releases.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::ClientError;
use crate::audio::io::{FRAME_SAMPLES, Frame};
use crate::audio::{JitterBuffer, JitterConfig, VoiceDecoder, VoiceEncoder, level_dbfs};

use super::CallAudio;

const STATS_EVERY: Duration = Duration::from_millis(100);
const FRAME: Duration = Duration::from_millis(20);
/// RTP ticks per 20 ms frame at 48 kHz.
const FRAME_TICKS: u64 = 960;
/// A device sink gets another frame once less than this is queued: one poll period
/// (5 ms) and one device period (5 ms) with a little to spare.
const PLAYOUT_LOW_WATER: Duration = Duration::from_millis(12);
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
}

/// When the most recent packets arrived or left, for latency measurements.
#[derive(Clone, Debug, Default)]
pub struct PacketTimes {
    times: Arc<Mutex<VecDeque<Instant>>>,
}

const TIMES_KEPT: usize = 512;

impl PacketTimes {
    fn record(&self, at: Instant) {
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

/// Arrival and departure times of one device's packets.
#[derive(Clone, Debug, Default)]
pub struct PacketLog {
    pub arrivals: PacketTimes,
    pub departures: PacketTimes,
}

pub struct Pipeline {
    log: PacketLog,
    encoder: VoiceEncoder,
    decoder: VoiceDecoder,
    jitter: JitterBuffer,
    origin: Instant,
    input: Box<Frame>,
    output: Box<Frame>,
    next_rtp_time: u64,
    play_clock: FrameClock,
    send_clock: FrameClock,
    muted: bool,
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
            origin: now,
            input: Box::new([0.0; FRAME_SAMPLES]),
            output: Box::new([0.0; FRAME_SAMPLES]),
            next_rtp_time: 0,
            play_clock: FrameClock::default(),
            send_clock: FrameClock::default(),
            muted,
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
                    self.play_one(audio);
                    queued += FRAME;
                }
            }
            None => {
                if self.play_clock.due(now) {
                    self.play_one(audio);
                }
            }
        }
    }

    fn play_one(&mut self, audio: &mut CallAudio) {
        let playout = self.jitter.poll_playout();
        self.decoder.play(&playout, &mut self.output);
        self.output_dbfs = level_dbfs(&self.output[..]);
        audio.sink.write_frame(&self.output);
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
