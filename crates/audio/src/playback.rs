//! Playing a finished piece of audio (a voicemail message, a test tone) on a
//! speaker, outside any call, on its own thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::io::{AudioSink, FRAME_SAMPLES, SAMPLE_RATE};
use super::ogg_opus::SamplesSource;
use super::{DeviceChoice, DeviceError, Speaker};

/// Frames are written while less than this is queued: enough to ride out a late
/// wake-up, less than the speaker's pile-up limit.
const KEEP_QUEUED: Duration = Duration::from_millis(30);
const POLL: Duration = Duration::from_millis(5);
/// Time after the last frame for the device to play it out.
const DRAIN: Duration = Duration::from_millis(150);

/// A playback in progress; it stops when `stop` is called, when it is dropped, or
/// at the end of the audio.
#[derive(Debug)]
pub struct Playback {
    stop: Arc<AtomicBool>,
    finished: Arc<AtomicBool>,
    length: Duration,
}

impl Playback {
    /// Opens the speaker (so a bad device is an error now) and starts playing
    /// `samples` (48 kHz mono).
    pub fn start(speaker: &DeviceChoice, samples: Vec<f32>) -> Result<Playback, DeviceError> {
        let mut device = Speaker::open(speaker)?;
        let stop = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicBool::new(false));
        let length = Duration::from_secs_f64(samples.len() as f64 / f64::from(SAMPLE_RATE));
        let (stopped, done) = (stop.clone(), finished.clone());
        let thread =
            std::thread::Builder::new().name("callpark-playback".into()).spawn(move || {
                let mut source = SamplesSource::new(samples);
                let mut frame = [0.0; FRAME_SAMPLES];
                let mut ended_at = None;
                while !stopped.load(Ordering::Relaxed) {
                    match ended_at {
                        Some(at) if Instant::now().duration_since(at) >= DRAIN => break,
                        Some(_) => {}
                        None => {
                            while device.queued().unwrap_or_default() < KEEP_QUEUED {
                                if !source.next_frame(&mut frame) {
                                    ended_at = Some(Instant::now() + device.delay());
                                    break;
                                }
                                device.write_frame(&frame);
                            }
                        }
                    }
                    std::thread::sleep(POLL);
                }
                done.store(true, Ordering::Relaxed);
            });
        if let Err(error) = thread {
            return Err(DeviceError::Open {
                direction: super::device::Direction::Speaker,
                name: "playback".into(),
                reason: error.to_string(),
            });
        }
        Ok(Playback { stop, finished, length })
    }

    pub fn length(&self) -> Duration {
        self.length
    }

    pub fn finished(&self) -> bool {
        self.finished.load(Ordering::Relaxed)
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Drop for Playback {
    fn drop(&mut self) {
        self.stop();
    }
}
