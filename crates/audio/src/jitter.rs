//! An adaptive jitter buffer for one incoming Opus stream, written sans-IO: packets
//! and the playout clock come in with the time passed in, and each 20 ms tick says
//! what to decode. Reordering, duplicates, late packets, loss (Opus PLC, or in-band
//! FEC from the packet after a gap) and a target delay that follows the measured
//! jitter are all decided here; decoding is the caller's.

use std::collections::BTreeMap;
use std::time::Duration;

/// Samples per second of the RTP clock for Opus.
const RTP_CLOCK_HZ: u64 = 48_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JitterConfig {
    /// Audio per packet.
    pub frame: Duration,
    /// The target delay never goes below this.
    pub min_delay: Duration,
    /// …nor above this; packets beyond it are dropped, oldest first.
    pub max_delay: Duration,
    /// After this much consecutive concealment with nothing buffered, the stream is
    /// taken as stopped and buffering starts over with the next packet.
    pub give_up_after: Duration,
}

impl Default for JitterConfig {
    fn default() -> Self {
        Self {
            frame: Duration::from_millis(20),
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(300),
            give_up_after: Duration::from_millis(200),
        }
    }
}

/// What to do for one frame period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Playout {
    /// Decode this packet.
    Decode(Vec<u8>),
    /// The packet for this period is missing but the next one is here: decode its
    /// in-band FEC (`decode(next, out, fec = true)`); the next packet itself is
    /// decoded normally at the next tick.
    DecodeFec(Vec<u8>),
    /// Nothing to decode: Opus packet-loss concealment (`decode(&[], out, false)`).
    Conceal,
    /// Not playing (nothing received yet, or the stream stopped): output silence.
    Silence,
}

/// Counters and the current state, for call statistics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JitterStats {
    pub received: u64,
    pub played: u64,
    pub recovered_by_fec: u64,
    /// Frames concealed because their packet was lost (later ones had arrived).
    pub concealed: u64,
    /// Frames concealed because nothing had arrived yet; each adds a frame of delay.
    pub expanded: u64,
    pub late: u64,
    pub duplicates: u64,
    /// Dropped to keep the delay near its target or under the maximum.
    pub dropped_for_delay: u64,
    /// RFC 3550 interarrival jitter, in milliseconds.
    pub jitter_ms: f64,
    pub target_delay_ms: u64,
    /// Audio waiting in the buffer, in milliseconds.
    pub buffered_ms: u64,
}

impl JitterStats {
    /// Frames that were due but never arrived in time, as a fraction of those due.
    pub fn loss(&self) -> f64 {
        let due = self.played + self.recovered_by_fec + self.concealed;
        if due == 0 { 0.0 } else { (self.recovered_by_fec + self.concealed) as f64 / due as f64 }
    }
}

#[derive(Debug)]
pub struct JitterBuffer {
    config: JitterConfig,
    /// Packets by extended (unwrapped) sequence number.
    packets: BTreeMap<u64, Vec<u8>>,
    /// The extended sequence number played next; `None` while buffering.
    next: Option<u64>,
    /// The highest extended sequence number seen, to unwrap the next 16-bit one.
    highest: Option<u64>,
    /// Arrival time and RTP timestamp of the previous packet, for the jitter.
    previous: Option<(Duration, u32)>,
    jitter_rtp: f64,
    concealed_in_a_row: u32,
    /// Ticks in a row on which more than the target delay was buffered.
    too_deep_for: u32,
    stats: JitterStats,
}

impl JitterBuffer {
    pub fn new(config: JitterConfig) -> Self {
        let stats =
            JitterStats { target_delay_ms: millis(config.min_delay), ..JitterStats::default() };
        Self {
            config,
            packets: BTreeMap::new(),
            next: None,
            highest: None,
            previous: None,
            jitter_rtp: 0.0,
            concealed_in_a_row: 0,
            too_deep_for: 0,
            stats,
        }
    }

    /// A packet arrived at `now` (any monotonic origin, the same as for ticks).
    pub fn handle_packet(
        &mut self,
        now: Duration,
        sequence: u16,
        timestamp: u32,
        payload: Vec<u8>,
    ) {
        self.stats.received += 1;
        self.measure_jitter(now, timestamp);
        let extended = self.extend(sequence);
        if self.next.is_some_and(|next| extended < next) {
            self.stats.late += 1;
            return;
        }
        if self.packets.contains_key(&extended) {
            self.stats.duplicates += 1;
            return;
        }
        self.packets.insert(extended, payload);
        let most = self.frames_in(self.config.max_delay).max(1);
        while self.packets.len() > most {
            self.packets.pop_first();
            self.stats.dropped_for_delay += 1;
        }
        self.update_stats();
    }

    /// One frame period has passed: what to play for it.
    pub fn poll_playout(&mut self) -> Playout {
        let Some(next) = self.next else {
            // Buffering: start once the target delay's worth of audio is here.
            if self.buffered() < self.target_delay().max(self.config.frame) {
                return Playout::Silence;
            }
            let Some((&first, _)) = self.packets.first_key_value() else {
                return Playout::Silence;
            };
            self.next = Some(first);
            return self.poll_playout();
        };
        self.adapt_depth();
        let next = self.next.unwrap_or(next);
        self.next = Some(next + 1);
        if let Some(payload) = self.packets.remove(&next) {
            self.concealed_in_a_row = 0;
            self.stats.played += 1;
            self.update_stats();
            return Playout::Decode(payload);
        }
        if let Some(following) = self.packets.get(&(next + 1)) {
            self.concealed_in_a_row = 0;
            self.stats.recovered_by_fec += 1;
            let recovered = Playout::DecodeFec(following.clone());
            self.update_stats();
            return recovered;
        }
        self.concealed_in_a_row += 1;
        if self.packets.is_empty() {
            if self.frame_time(u64::from(self.concealed_in_a_row)) >= self.config.give_up_after {
                // The stream stopped (hold, hang-up, a long outage): buffer afresh.
                self.next = None;
                self.concealed_in_a_row = 0;
                self.update_stats();
                return Playout::Silence;
            }
            // Underrun: the packet may only be late. Conceal without moving on, which
            // stretches the delay by a frame; this is how the delay grows.
            self.next = Some(next);
            self.stats.expanded += 1;
            self.update_stats();
            return Playout::Conceal;
        }
        if let Some((&first, _)) = self.packets.first_key_value() {
            // Later packets are here, so this one is lost. A burst longer than the
            // target delay is skipped rather than concealed frame by frame.
            let gap = first - next - 1;
            if self.frame_time(gap) > self.target_delay() {
                self.next = Some(first);
            }
        }
        self.stats.concealed += 1;
        self.update_stats();
        Playout::Conceal
    }

    pub fn stats(&self) -> JitterStats {
        self.stats.clone()
    }

    /// Drops one frame when more than the target has been buffered at every tick
    /// for half a second, so a delay that grew during a jitter spike shrinks again.
    fn adapt_depth(&mut self) {
        const PATIENCE_TICKS: u32 = 25;
        if self.buffered() > self.target_delay() {
            self.too_deep_for += 1;
        } else {
            self.too_deep_for = 0;
        }
        if self.too_deep_for >= PATIENCE_TICKS
            && let (Some(next), Some((&first, _))) = (self.next, self.packets.first_key_value())
        {
            let dropped = first.max(next);
            self.packets.remove(&dropped);
            self.next = Some(dropped + 1);
            self.stats.dropped_for_delay += 1;
            self.too_deep_for = 0;
        }
    }

    /// The measured interarrival jitter.
    pub fn jitter(&self) -> Duration {
        Duration::from_secs_f64(self.jitter_rtp / RTP_CLOCK_HZ as f64)
    }

    /// RFC 3550 section 6.4.1, in RTP clock units.
    fn measure_jitter(&mut self, now: Duration, timestamp: u32) {
        if let Some((then, previous_timestamp)) = self.previous {
            let arrival = (now.as_secs_f64() - then.as_secs_f64()) * RTP_CLOCK_HZ as f64;
            let sent = f64::from(timestamp.wrapping_sub(previous_timestamp) as i32);
            let difference = (arrival - sent).abs();
            self.jitter_rtp += (difference - self.jitter_rtp) / 16.0;
        }
        self.previous = Some((now, timestamp));
    }

    /// Enough delay to absorb about three times the measured jitter, in whole frames.
    fn target_delay(&self) -> Duration {
        let frames = (3 * self.jitter()).as_micros().div_ceil(self.config.frame.as_micros().max(1));
        let wanted = self.config.frame * u32::try_from(frames).unwrap_or(u32::MAX);
        wanted.clamp(self.config.min_delay, self.config.max_delay)
    }

    fn extend(&mut self, sequence: u16) -> u64 {
        let extended = match self.highest {
            None => u64::from(sequence) + (1 << 16),
            Some(highest) => {
                let base = highest & !0xFFFF;
                let candidates = [base.saturating_sub(1 << 16), base, base + (1 << 16)];
                let near = |candidate: &u64| (candidate + u64::from(sequence)).abs_diff(highest);
                candidates.into_iter().min_by_key(near).unwrap_or(base) + u64::from(sequence)
            }
        };
        self.highest = Some(self.highest.map_or(extended, |highest| highest.max(extended)));
        extended
    }

    /// Audio waiting to be played.
    pub fn buffered(&self) -> Duration {
        self.frame_time(self.packets.len() as u64)
    }

    fn frame_time(&self, frames: u64) -> Duration {
        self.config.frame * u32::try_from(frames).unwrap_or(u32::MAX)
    }

    fn frames_in(&self, span: Duration) -> usize {
        usize::try_from(span.as_micros() / self.config.frame.as_micros().max(1))
            .unwrap_or(usize::MAX)
    }

    fn update_stats(&mut self) {
        self.stats.jitter_ms = self.jitter_rtp / RTP_CLOCK_HZ as f64 * 1000.0;
        self.stats.target_delay_ms = millis(self.target_delay());
        self.stats.buffered_ms = millis(self.buffered());
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: Duration = Duration::from_millis(20);

    /// Packet `n` carries its own number as payload.
    fn payload(n: u64) -> Vec<u8> {
        n.to_be_bytes().to_vec()
    }

    fn number(bytes: &[u8]) -> u64 {
        u64::from_be_bytes(bytes.try_into().unwrap())
    }

    /// Sends `count` packets every 20 ms from t = 0 (sequence numbers from `first`),
    /// delivering packet n at `arrival(n)` (or never, for `None`), and ticks the
    /// playout every 20 ms from t = 0 for `ticks` ticks. Events at the same instant:
    /// packets first. Returns what each tick played, with packet numbers.
    fn simulate(
        buffer: &mut JitterBuffer,
        count: u64,
        first: u16,
        ticks: u64,
        arrival: impl Fn(u64) -> Option<Duration>,
    ) -> Vec<String> {
        let mut packets: Vec<(Duration, u64)> =
            (0..count).filter_map(|n| arrival(n).map(|at| (at, n))).collect();
        packets.sort();
        let mut packets = packets.into_iter().peekable();
        let mut played = Vec::new();
        for tick in 0..ticks {
            let now = FRAME * u32::try_from(tick).unwrap();
            while let Some((at, n)) = packets.next_if(|(at, _)| *at <= now) {
                let sequence = first.wrapping_add(u16::try_from(n % 65_536).unwrap());
                let timestamp = u32::try_from(n * 960).unwrap();
                buffer.handle_packet(at, sequence, timestamp, payload(n));
            }
            played.push(match buffer.poll_playout() {
                Playout::Decode(bytes) => format!("{}", number(&bytes)),
                Playout::DecodeFec(bytes) => format!("fec{}", number(&bytes)),
                Playout::Conceal => "plc".into(),
                Playout::Silence => "-".into(),
            });
        }
        played
    }

    fn sent(n: u64) -> Duration {
        FRAME * u32::try_from(n).unwrap()
    }

    /// The packet numbers decoded, in order.
    fn decoded(played: &[String]) -> Vec<u64> {
        played.iter().filter_map(|p| p.parse().ok()).collect()
    }

    #[test]
    fn a_steady_stream_plays_in_order_after_one_frame_of_delay() {
        let mut buffer = JitterBuffer::new(JitterConfig::default());
        let played =
            simulate(&mut buffer, 50, 1000, 51, |n| Some(sent(n) + Duration::from_millis(2)));
        assert_eq!(played[0], "-", "nothing has arrived at t = 0: {played:?}");
        assert_eq!(decoded(&played), (0..50).collect::<Vec<_>>());
        let stats = buffer.stats();
        assert_eq!((stats.played, stats.concealed, stats.expanded, stats.late), (50, 0, 0, 0));
        assert_eq!(stats.target_delay_ms, 20);
        assert!(stats.jitter_ms < 0.1, "{stats:?}");
    }

    #[test]
    fn reordered_and_duplicated_packets_play_once_in_order() {
        let mut buffer = JitterBuffer::new(JitterConfig {
            min_delay: Duration::from_millis(40),
            ..JitterConfig::default()
        });
        // Pairs swap: 1 before 0, 3 before 2, …; every fifth packet arrives twice.
        let mut played = Vec::new();
        for n in 0..40u64 {
            let swapped = if n % 2 == 0 { n + 1 } else { n - 1 };
            let at = sent(n) + Duration::from_millis(5);
            let sequence = u16::try_from(swapped).unwrap();
            buffer.handle_packet(
                at,
                sequence,
                u32::try_from(swapped * 960).unwrap(),
                payload(swapped),
            );
            if swapped % 5 == 0 {
                buffer.handle_packet(
                    at,
                    sequence,
                    u32::try_from(swapped * 960).unwrap(),
                    payload(swapped),
                );
            }
            if let Playout::Decode(bytes) = buffer.poll_playout() {
                played.push(number(&bytes));
            }
        }
        assert_eq!(played, (0..played.len() as u64).collect::<Vec<_>>());
        assert!(played.len() >= 36, "{played:?}");
        assert_eq!(buffer.stats().duplicates, 8);
        assert_eq!(buffer.stats().concealed, 0);
    }

    #[test]
    fn a_single_loss_is_recovered_from_the_next_packets_fec() {
        // FEC needs the next packet by the lost one's turn: two frames of delay.
        let config =
            JitterConfig { min_delay: Duration::from_millis(40), ..JitterConfig::default() };
        let mut buffer = JitterBuffer::new(config);
        let played = simulate(&mut buffer, 30, 7, 32, |n| {
            (n != 10).then(|| sent(n) + Duration::from_millis(2))
        });
        let at = played.iter().position(|p| p == "fec11").unwrap();
        assert_eq!(played[at - 1], "9");
        assert_eq!(played[at + 1], "11", "the packet that carried the FEC still plays");
        let stats = buffer.stats();
        assert_eq!((stats.recovered_by_fec, stats.concealed, stats.expanded), (1, 0, 0));
        assert!((stats.loss() - 1.0 / 30.0).abs() < 1e-9, "{}", stats.loss());
    }

    #[test]
    fn a_burst_loss_is_concealed_then_recovered() {
        let config =
            JitterConfig { min_delay: Duration::from_millis(40), ..JitterConfig::default() };
        let mut buffer = JitterBuffer::new(config);
        let played = simulate(&mut buffer, 40, 0, 40, |n| {
            (!(10..13).contains(&n)).then(|| sent(n) + Duration::from_millis(2))
        });
        let start = played.iter().position(|p| p == "9").unwrap();
        let recovered = played.iter().position(|p| p == "fec13").unwrap();
        assert!(played[start + 1..recovered].iter().all(|p| p == "plc"), "{played:?}");
        assert_eq!(played[recovered + 1], "13");
        let stats = buffer.stats();
        assert_eq!(
            (stats.concealed, stats.recovered_by_fec),
            (2, 1),
            "10 and 11 concealed, 12 from FEC"
        );
        assert_eq!(
            decoded(&played),
            [(0..10).collect::<Vec<_>>(), (13..decoded(&played).len() as u64 + 3).collect()]
                .concat()
        );
    }

    #[test]
    fn a_packet_later_than_its_turn_is_dropped_not_played_out_of_order() {
        let mut buffer = JitterBuffer::new(JitterConfig::default());
        let played = simulate(&mut buffer, 20, 0, 22, |n| {
            let extra = if n == 8 { Duration::from_millis(70) } else { Duration::from_millis(2) };
            Some(sent(n) + extra)
        });
        let decoded = decoded(&played);
        assert!(decoded.windows(2).all(|pair| pair[0] < pair[1]), "{played:?}");
        assert!(!decoded.contains(&8));
        assert_eq!(buffer.stats().late, 1);
    }

    #[test]
    fn the_target_delay_follows_jitter_up_and_back_down() {
        let mut buffer = JitterBuffer::new(JitterConfig::default());
        // 40 ms of jitter (deterministic: a fixed pattern of delays) for 10 s…
        let jittery = [0u64, 35, 10, 40, 5, 25, 0, 30];
        let played = simulate(&mut buffer, 500, 0, 500, |n| {
            Some(sent(n) + Duration::from_millis(jittery[(n % 8) as usize]))
        });
        let stats = buffer.stats();
        assert!(stats.target_delay_ms >= 40, "grew with jitter: {stats:?}");
        let concealed_late = played[250..].iter().filter(|p| *p == "plc").count();
        assert_eq!(concealed_late, 0, "once adapted, no more concealment: {played:?}");
        assert_eq!(stats.late, 0, "{stats:?}");

        // …then a steady network: the delay comes back down by dropping frames.
        let mut settled = JitterBuffer::new(JitterConfig::default());
        simulate(&mut settled, 1000, 0, 900, |n| {
            let delay = if n < 300 { jittery[(n % 8) as usize] } else { 2 };
            Some(sent(n) + Duration::from_millis(delay))
        });
        let after = settled.stats();
        assert_eq!(after.target_delay_ms, 20, "{after:?}");
        assert_eq!(after.buffered_ms, 0, "played as soon as it is due again: {after:?}");
        assert!(after.dropped_for_delay >= 1, "{after:?}");
    }

    #[test]
    fn sequence_numbers_wrap_without_a_hiccup() {
        let mut buffer = JitterBuffer::new(JitterConfig::default());
        let played =
            simulate(&mut buffer, 40, 65_520, 41, |n| Some(sent(n) + Duration::from_millis(2)));
        assert_eq!(decoded(&played), (0..40).collect::<Vec<_>>());
        assert_eq!(buffer.stats().concealed, 0);
    }

    #[test]
    fn a_stopped_stream_goes_silent_and_a_new_one_buffers_afresh() {
        let mut buffer = JitterBuffer::new(JitterConfig::default());
        // 20 packets, then nothing for a second, then the stream carries on.
        let played = simulate(&mut buffer, 100, 0, 102, |n| match n {
            0..20 => Some(sent(n) + Duration::from_millis(2)),
            20..70 => None,
            _ => Some(sent(n) + Duration::from_millis(2)),
        });
        let silent_at = played.iter().skip(25).position(|p| p == "-").unwrap() + 25;
        assert!(silent_at <= 21 + 10 + 1, "gave up within 200 ms: {played:?}");
        assert_eq!(decoded(&played).last(), Some(&99));
        assert!(decoded(&played).contains(&70));
    }

    /// A fixed-seed pseudo-random network: 0–60 ms of delay, 5 % loss, 3 % sent twice.
    #[test]
    fn under_loss_jitter_and_duplication_playout_stays_ordered_and_loss_is_counted() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut buffer = JitterBuffer::new(JitterConfig::default());
        let mut arrivals = Vec::new();
        let mut lost = 0;
        for n in 0..3000u64 {
            if random() % 100 < 5 {
                lost += 1;
                continue;
            }
            let copies = if random() % 100 < 3 { 2 } else { 1 };
            for _ in 0..copies {
                arrivals.push((sent(n) + Duration::from_millis(random() % 61), n));
            }
        }
        arrivals.sort();
        let mut arrivals = arrivals.into_iter().peekable();
        let mut decoded = Vec::new();
        for tick in 0..3100u32 {
            let now = FRAME * tick;
            while let Some((at, n)) = arrivals.next_if(|(at, _)| *at <= now) {
                let sequence = u16::try_from(n % 65_536).unwrap();
                buffer.handle_packet(at, sequence, u32::try_from(n * 960).unwrap(), payload(n));
            }
            if let Playout::Decode(bytes) = buffer.poll_playout() {
                decoded.push(number(&bytes));
            }
        }
        assert!(decoded.windows(2).all(|pair| pair[0] < pair[1]), "in order, never twice");
        let stats = buffer.stats();
        assert!(stats.duplicates > 50, "{stats:?}");
        let missing = 3000 - decoded.len() as u64;
        assert_eq!(
            missing,
            stats.recovered_by_fec + stats.concealed + stats.dropped_for_delay + stats.late,
            "{stats:?}"
        );
        assert!(
            missing < lost + 3000 / 50,
            "few lost to late arrival after adapting: {missing} vs {lost} lost; {stats:?}"
        );
        assert!(stats.target_delay_ms >= 60, "{stats:?}");
    }
}
