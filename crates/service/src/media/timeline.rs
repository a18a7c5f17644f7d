//! Outgoing RTP sequence numbers and times for one device's track. The track's
//! source changes (a peer, hold music, a tone, another peer after a retrieve) but the
//! receiver must see one continuous stream: its jitter buffer would otherwise take a
//! jump in sequence or time for a long loss or a reset. Gaps a source really has
//! (lost packets, silence suppression) are kept; a change of source continues one
//! packet and one frame after the last.

use callpark_park::DeviceId;

/// RTP ticks of one 20 ms Opus frame at 48 kHz.
pub const FRAME_TICKS: u64 = 960;
/// A gap (or step back) longer than this within one source is taken as a restart of
/// that source and closed to one frame.
const LONGEST_GAP_TICKS: u64 = 48_000 * 5;
/// The same for sequence numbers: five seconds of 20 ms packets.
const LONGEST_GAP_PACKETS: u64 = 250;

/// Where a frame written to a track came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Relayed from this device, with its (extended) sequence number and RTP time.
    Peer { from: DeviceId, sequence: u64, time: u64 },
    /// Made by the anchor (music, tones), one frame after another.
    Generated,
}

#[derive(Debug, Default)]
pub struct Timeline {
    last: Option<Last>,
}

/// What the next outgoing packet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Extended sequence number (the low 16 bits go in the header).
    pub sequence: u64,
    /// RTP time at 48 kHz (the low 32 bits go in the header).
    pub time: u64,
}

#[derive(Debug, Clone, Copy)]
struct Last {
    out: Stamp,
    origin: Origin,
}

impl Timeline {
    /// The outgoing sequence number and RTP time for the next packet.
    pub fn stamp(&mut self, origin: Origin) -> Stamp {
        let (out, newest) = match self.last {
            None => (Stamp { sequence: 0, time: 0 }, true),
            Some(last) => match offset_within_source(last.origin, origin) {
                Some((sequence, time)) => {
                    let out = Stamp {
                        sequence: last.out.sequence.saturating_add_signed(sequence),
                        time: last.out.time.saturating_add_signed(time),
                    };
                    // A late packet keeps its place; the stream goes on from the newest.
                    (out, sequence > 0)
                }
                None => (
                    Stamp { sequence: last.out.sequence + 1, time: last.out.time + FRAME_TICKS },
                    true,
                ),
            },
        };
        if newest {
            self.last = Some(Last { out, origin });
        }
        out
    }
}

/// How far `next` is from `previous` in sequence and time when both come from the
/// same peer and it did not restart: a gap (loss, silence) or a step back (a late
/// packet) the receiver should see as such. `None` for a change of source, a repeat
/// or a jump too far to be the same stream.
fn offset_within_source(previous: Origin, next: Origin) -> Option<(i64, i64)> {
    let (
        Origin::Peer { from: before, sequence: then_sequence, time: then },
        Origin::Peer { from: now_from, sequence: now_sequence, time: now },
    ) = (previous, next)
    else {
        return None;
    };
    let sequence = now_sequence.wrapping_sub(then_sequence) as i64;
    let time = now.wrapping_sub(then) as i64;
    let same_stream = before == now_from
        && sequence != 0
        && sequence.unsigned_abs() <= LONGEST_GAP_PACKETS
        && time.unsigned_abs() <= LONGEST_GAP_TICKS;
    same_stream.then_some((sequence, time))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: DeviceId = DeviceId(1);
    const B: DeviceId = DeviceId(2);

    fn from(device: DeviceId, sequence: u64, time: u64) -> Origin {
        Origin::Peer { from: device, sequence, time }
    }

    fn stamp(sequence: u64, time: u64) -> Stamp {
        Stamp { sequence, time }
    }

    #[test]
    fn relayed_packets_keep_their_spacing_and_gaps() {
        let mut timeline = Timeline::default();
        assert_eq!(timeline.stamp(from(A, 700, 50_000)), stamp(0, 0));
        assert_eq!(timeline.stamp(from(A, 701, 50_960)), stamp(1, 960));
        // One packet lost on the way in: the gap stays visible to the receiver.
        assert_eq!(timeline.stamp(from(A, 703, 52_880)), stamp(3, 2_880));
    }

    #[test]
    fn a_change_of_source_continues_one_packet_and_one_frame_later() {
        let mut timeline = Timeline::default();
        for _ in 0..3 {
            timeline.stamp(Origin::Generated);
        }
        // Hold music ended at 2 / 1,920; the retriever's stream starts anywhere.
        assert_eq!(timeline.stamp(from(B, 40_000, 7_000_000)), stamp(3, 2_880));
        assert_eq!(timeline.stamp(from(B, 40_001, 7_000_960)), stamp(4, 3_840));
        assert_eq!(timeline.stamp(from(A, 5, 10)), stamp(5, 4_800));
    }

    #[test]
    fn a_late_packet_keeps_its_place_and_the_stream_goes_on_from_the_newest() {
        let mut timeline = Timeline::default();
        assert_eq!(timeline.stamp(from(A, 700, 50_000)), stamp(0, 0));
        assert_eq!(timeline.stamp(from(A, 702, 51_920)), stamp(2, 1_920));
        assert_eq!(timeline.stamp(from(A, 701, 50_960)), stamp(1, 960));
        assert_eq!(timeline.stamp(from(A, 703, 52_880)), stamp(3, 2_880));
    }

    #[test]
    fn a_repeated_or_restarted_source_moves_on_one_packet_and_one_frame() {
        let mut timeline = Timeline::default();
        timeline.stamp(from(A, 9_000, 96_000));
        assert_eq!(timeline.stamp(from(A, 9_000, 96_000)), stamp(1, 960));
        assert_eq!(timeline.stamp(from(A, 8_000, 1_000)), stamp(2, 1_920));
        assert_eq!(timeline.stamp(from(A, 100_000, 100_000_000)), stamp(3, 2_880));
    }
}
