//! Delay that serves no purpose at the speaker, and when to give it up. Packets
//! arrive at the sender's pace and frames are played at the speaker's; the two
//! clocks settle at some phase, and a packet then waits anything from nothing to
//! almost a frame for its turn. That wait is fixed for the call and useless: if
//! even the latest packet of the last second waited 15 ms, playout can move earlier
//! by most of that and no packet will miss its turn. The meter watches the waits;
//! the pipeline gives up what it offers by playing a quiet frame short. Sans-IO:
//! the waits are passed in.

use std::time::Duration;

/// Playouts watched before deciding.
const WINDOW: u32 = 50;
/// Kept on top of twice the measured jitter, so that a packet slightly later than
/// the latest of the window is still in time.
const MARGIN: Duration = Duration::from_millis(3);
/// Given up at most at once: well under a frame.
const MOST_AT_ONCE: Duration = Duration::from_millis(15);
/// Less than this is not worth a cut.
const LEAST: Duration = Duration::from_millis(2);

#[derive(Debug)]
pub struct SlackMeter {
    /// The device takes audio this much at a time, so playout can move that much
    /// further than the audio given up: it is kept too.
    step: Duration,
    /// The shortest wait seen in this window, while every playout had its packet.
    shortest: Option<Duration>,
    seen: u32,
    /// Delay to give up at the next quiet frame.
    due: Duration,
}

impl SlackMeter {
    /// A meter for a device that takes its audio `step` at a time.
    pub fn new(step: Duration) -> Self {
        Self { step, shortest: None, seen: 0, due: Duration::ZERO }
    }

    /// The device turned out to take its audio `step` at a time.
    pub fn set_step(&mut self, step: Duration) {
        self.step = step;
    }

    /// A frame was played. `waited` is how long the newest packet waits from its
    /// arrival until it is played; `None` for concealment, FEC or silence, after
    /// which nothing is given up until a whole window has gone well again.
    pub fn played(&mut self, waited: Option<Duration>, jitter: Duration) {
        let Some(waited) = waited else {
            *self = Self::new(self.step);
            return;
        };
        self.shortest = Some(self.shortest.map_or(waited, |shortest| shortest.min(waited)));
        self.seen += 1;
        if self.seen < WINDOW {
            return;
        }
        let kept = MARGIN + 2 * jitter + self.step;
        let spare = self.shortest.unwrap_or_default().saturating_sub(kept);
        self.due = if spare >= LEAST { spare.min(MOST_AT_ONCE) } else { Duration::ZERO };
        self.shortest = None;
        self.seen = 0;
    }

    /// Delay that can be given up now. Once taken it is not offered again, and the
    /// next window measures afresh.
    pub fn take(&mut self) -> Duration {
        let due = std::mem::take(&mut self.due);
        if !due.is_zero() {
            self.shortest = None;
            self.seen = 0;
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    /// A meter for a 5 ms device period, as the speaker's.
    fn meter() -> SlackMeter {
        SlackMeter::new(ms(5))
    }

    fn play_window(meter: &mut SlackMeter, waits: impl Fn(u32) -> u64) {
        for i in 0..WINDOW {
            meter.played(Some(ms(waits(i))), Duration::ZERO);
        }
    }

    #[test]
    fn a_steady_wait_is_given_up_but_for_the_margin_and_one_device_period() {
        let mut meter = meter();
        play_window(&mut meter, |_| 19);
        assert_eq!(meter.take(), ms(11), "19 - 3 - 5");
        assert_eq!(meter.take(), Duration::ZERO, "offered once");
    }

    #[test]
    fn nothing_is_offered_before_a_whole_window() {
        let mut meter = meter();
        for _ in 1..WINDOW {
            meter.played(Some(ms(19)), Duration::ZERO);
        }
        assert_eq!(meter.take(), Duration::ZERO);
    }

    #[test]
    fn the_latest_packet_of_the_window_decides() {
        let mut meter = meter();
        play_window(&mut meter, |i| if i == 30 { 12 } else { 19 });
        assert_eq!(meter.take(), ms(4));
    }

    #[test]
    fn jitter_keeps_more() {
        let mut meter = meter();
        for _ in 0..WINDOW {
            meter.played(Some(ms(19)), ms(4));
        }
        assert_eq!(meter.take(), ms(3), "19 - 3 - 5 - 2 x 4");
    }

    #[test]
    fn a_small_spare_delay_is_left_alone() {
        let mut meter = meter();
        play_window(&mut meter, |_| 9);
        assert_eq!(meter.take(), Duration::ZERO);
    }

    #[test]
    fn a_cut_is_at_most_fifteen_milliseconds() {
        let mut meter = meter();
        play_window(&mut meter, |_| 60);
        assert_eq!(meter.take(), MOST_AT_ONCE);
    }

    #[test]
    fn a_longer_device_period_keeps_more() {
        let mut meter = SlackMeter::new(ms(10));
        play_window(&mut meter, |_| 19);
        assert_eq!(meter.take(), ms(6));
    }

    #[test]
    fn a_concealed_frame_starts_the_window_again_and_withdraws_the_offer() {
        let mut meter = meter();
        play_window(&mut meter, |_| 19);
        meter.played(None, Duration::ZERO);
        assert_eq!(meter.take(), Duration::ZERO);
        for _ in 1..WINDOW {
            meter.played(Some(ms(19)), Duration::ZERO);
        }
        assert_eq!(meter.take(), Duration::ZERO, "one short of a window since the loss");
        meter.played(Some(ms(19)), Duration::ZERO);
        assert_eq!(meter.take(), ms(11));
    }

    #[test]
    fn after_a_cut_the_next_window_measures_the_new_waits() {
        let mut meter = meter();
        play_window(&mut meter, |_| 19);
        assert_eq!(meter.take(), ms(11));
        play_window(&mut meter, |_| 8);
        assert_eq!(meter.take(), Duration::ZERO, "8 ms left: the margin and a period");
    }
}
