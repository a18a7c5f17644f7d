//! Outgoing RTP time for one device's track. The track's source changes (a peer,
//! hold music, a tone, another peer after a retrieve) but the receiver must see one
//! continuous stream: its jitter buffer would otherwise take a jump in timestamps
//! for a long loss or a reset. Gaps a source really has (lost packets, silence
//! suppression) are kept; a change of source continues one frame after the last.

use callpark_park::DeviceId;

/// RTP ticks of one 20 ms Opus frame at 48 kHz.
pub const FRAME_TICKS: u64 = 960;
/// A gap longer than this within one source is taken as a restart of that source
/// and closed to one frame.
const LONGEST_GAP_TICKS: u64 = 48_000 * 5;

/// Where a frame written to a track came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Relayed from this device, with its RTP time.
    Peer(DeviceId, u64),
    /// Made by the anchor (music, tones), one frame after another.
    Generated,
}

#[derive(Debug, Default)]
pub struct Timeline {
    last: Option<Last>,
}

#[derive(Debug, Clone, Copy)]
struct Last {
    out: u64,
    origin: Origin,
}

impl Timeline {
    /// The outgoing RTP time for the next frame.
    pub fn stamp(&mut self, origin: Origin) -> u64 {
        let out = match self.last {
            None => 0,
            Some(last) => last.out + step(last.origin, origin),
        };
        self.last = Some(Last { out, origin });
        out
    }
}

fn step(previous: Origin, next: Origin) -> u64 {
    match (previous, next) {
        (Origin::Peer(before, then), Origin::Peer(now_from, now)) if before == now_from => {
            match now.checked_sub(then) {
                Some(gap) if gap > 0 && gap <= LONGEST_GAP_TICKS => gap,
                _ => FRAME_TICKS,
            }
        }
        _ => FRAME_TICKS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: DeviceId = DeviceId(1);
    const B: DeviceId = DeviceId(2);

    #[test]
    fn relayed_frames_keep_their_spacing_and_gaps() {
        let mut timeline = Timeline::default();
        assert_eq!(timeline.stamp(Origin::Peer(A, 50_000)), 0);
        assert_eq!(timeline.stamp(Origin::Peer(A, 50_960)), 960);
        // One packet lost on the way in: the gap stays visible to the receiver.
        assert_eq!(timeline.stamp(Origin::Peer(A, 52_880)), 2_880);
    }

    #[test]
    fn a_change_of_source_continues_one_frame_later() {
        let mut timeline = Timeline::default();
        for _ in 0..3 {
            timeline.stamp(Origin::Generated);
        }
        // Hold music ended at 1,920; the retriever's stream starts anywhere.
        assert_eq!(timeline.stamp(Origin::Peer(B, 7_000_000)), 2_880);
        assert_eq!(timeline.stamp(Origin::Peer(B, 7_000_960)), 3_840);
        assert_eq!(timeline.stamp(Origin::Peer(A, 10)), 4_800);
    }

    #[test]
    fn repeated_reordered_or_restarted_source_time_still_moves_forward() {
        let mut timeline = Timeline::default();
        timeline.stamp(Origin::Peer(A, 96_000));
        assert_eq!(timeline.stamp(Origin::Peer(A, 96_000)), 960);
        assert_eq!(timeline.stamp(Origin::Peer(A, 1_000)), 1_920);
        assert_eq!(timeline.stamp(Origin::Peer(A, 100_000_000)), 2_880);
    }
}
