//! Voicemail recordings as they are made: the caller's Opus frames, kept in order
//! with their RTP times, until the caller hangs up or the maximum length is reached.
//! Finished recordings go out on a channel; writing files is not the anchor's job.

use std::collections::HashMap;
use std::time::Duration;

use callpark_park::{CallId, DeviceId, UserId};
use tokio::sync::mpsc;

use super::timeline::FRAME_TICKS;

/// Why a recording ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finished {
    HungUp,
    TooLong,
}

/// One finished voicemail, not yet stored.
#[derive(Debug)]
pub struct Recording {
    pub owner: UserId,
    pub call: CallId,
    pub caller: UserId,
    /// Opus packets, one per 20 ms; gaps from loss are filled with empty packets
    /// (a decoder conceals them).
    pub packets: Vec<Vec<u8>>,
    pub finished: Finished,
}

impl Recording {
    pub fn duration(&self) -> Duration {
        Duration::from_millis(20 * self.packets.len() as u64)
    }
}

#[derive(Debug)]
struct InProgress {
    recording: Recording,
    last_time: Option<u64>,
}

/// Longest gap filled with concealment; a longer one is closed up.
const LONGEST_FILLED_GAP_FRAMES: u64 = 50;

#[derive(Debug)]
pub struct Recorder {
    recordings: HashMap<DeviceId, InProgress>,
    max_frames: usize,
    finished: mpsc::UnboundedSender<Recording>,
}

impl Recorder {
    pub fn new(max_length: Duration, finished: mpsc::UnboundedSender<Recording>) -> Self {
        let max_frames = usize::try_from(max_length.as_millis() / 20).unwrap_or(usize::MAX).max(1);
        Self { recordings: HashMap::new(), max_frames, finished }
    }

    pub fn start(&mut self, device: DeviceId, owner: UserId, call: CallId, caller: UserId) {
        let recording =
            Recording { owner, call, caller, packets: Vec::new(), finished: Finished::HungUp };
        self.recordings.insert(device, InProgress { recording, last_time: None });
        tracing::info!(device = device.0, owner = owner.0, call = call.0, "voicemail recording");
    }

    /// A frame from the caller, with its RTP time.
    pub fn frame(&mut self, device: DeviceId, rtp_time: u64, packet: &[u8]) {
        let Some(progress) = self.recordings.get_mut(&device) else {
            return;
        };
        if progress.recording.packets.len() >= self.max_frames {
            return;
        }
        if let Some(last) = progress.last_time {
            if rtp_time <= last {
                return;
            }
            let missing = (rtp_time - last) / FRAME_TICKS - 1;
            if missing <= LONGEST_FILLED_GAP_FRAMES {
                let concealment = packet.first().map(|toc| vec![toc & 0xFC]).unwrap_or_default();
                for _ in 0..missing {
                    progress.recording.packets.push(concealment.clone());
                }
            }
        }
        progress.last_time = Some(rtp_time);
        progress.recording.packets.push(packet.to_vec());
        progress.recording.packets.truncate(self.max_frames);
    }

    /// Recordings that reached the maximum length.
    pub fn over_length(&self) -> Vec<DeviceId> {
        self.recordings
            .iter()
            .filter(|(_, progress)| progress.recording.packets.len() >= self.max_frames)
            .map(|(device, _)| *device)
            .collect()
    }

    pub fn stop(&mut self, device: DeviceId, finished: Finished) {
        let Some(mut progress) = self.recordings.remove(&device) else {
            return;
        };
        progress.recording.finished = finished;
        tracing::info!(
            device = device.0,
            call = progress.recording.call.0,
            seconds = progress.recording.duration().as_secs_f32(),
            ?finished,
            "voicemail recorded"
        );
        if self.finished.send(progress.recording).is_err() {
            tracing::warn!(device = device.0, "voicemail lost: nobody stores recordings");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALLER: DeviceId = DeviceId(7);

    fn recorder(max: Duration) -> (Recorder, mpsc::UnboundedReceiver<Recording>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (Recorder::new(max, sender), receiver)
    }

    #[test]
    fn frames_are_kept_in_order_and_lost_ones_concealed() {
        let (mut recorder, mut finished) = recorder(Duration::from_secs(60));
        recorder.start(CALLER, UserId(1), CallId(9), UserId(2));
        recorder.frame(CALLER, 1_000, &[0x78, 1]);
        recorder.frame(CALLER, 1_960, &[0x78, 2]);
        recorder.frame(CALLER, 1_960, &[0x78, 2]);
        recorder.frame(CALLER, 4_840, &[0x78, 5]);
        recorder.stop(CALLER, Finished::HungUp);
        let recording = finished.try_recv().unwrap();
        assert_eq!(
            recording.packets,
            vec![vec![0x78, 1], vec![0x78, 2], vec![0x78], vec![0x78], vec![0x78, 5]]
        );
        assert_eq!(recording.duration(), Duration::from_millis(100));
        assert_eq!(recording.owner, UserId(1));
    }

    #[test]
    fn recording_stops_at_the_maximum_length() {
        let (mut recorder, mut finished) = recorder(Duration::from_millis(60));
        recorder.start(CALLER, UserId(1), CallId(9), UserId(2));
        for n in 0..5u64 {
            recorder.frame(CALLER, n * 960, &[0x78]);
        }
        assert_eq!(recorder.over_length(), vec![CALLER]);
        recorder.stop(CALLER, Finished::TooLong);
        let recording = finished.try_recv().unwrap();
        assert_eq!(recording.packets.len(), 3);
        assert_eq!(recording.finished, Finished::TooLong);
        assert!(recorder.over_length().is_empty());
    }
}
