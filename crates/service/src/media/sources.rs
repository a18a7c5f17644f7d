//! The sounds the anchor makes itself, Opus-encoded once at start and shared by
//! every device that hears them: hold music, the ringing tone, and the voicemail
//! greeting with its tone.

use std::f32::consts::TAU;
use std::sync::Arc;

use opus::{Application, Bitrate, Channels, Encoder};

use crate::hold_music;

pub const SAMPLE_RATE: u32 = 48_000;
/// Samples in one 20 ms frame at 48 kHz.
pub const FRAME_SAMPLES: usize = 960;
const MAX_PACKET_BYTES: usize = 1_275;

/// The ringing tone callers hear: 425 Hz, one second on and four off (ETSI ES 201 970).
pub const RINGING_HZ: f32 = 425.0;
/// The beep after the voicemail greeting.
pub const VOICEMAIL_BEEP_HZ: f32 = 1_000.0;

/// A sound as Opus frames, ready to write to any track.
#[derive(Debug, Clone)]
pub struct EncodedSound {
    frames: Arc<[Arc<[u8]>]>,
}

impl EncodedSound {
    /// Encodes mono 48 kHz samples; a last partial frame is padded with silence.
    pub fn encode(samples: &[f32], application: Application) -> Result<Self, opus::Error> {
        let mut encoder = Encoder::new(SAMPLE_RATE, Channels::Mono, application)?;
        encoder.set_bitrate(Bitrate::Bits(32_000))?;
        let mut frames = Vec::with_capacity(samples.len().div_ceil(FRAME_SAMPLES));
        let mut frame = [0.0f32; FRAME_SAMPLES];
        for chunk in samples.chunks(FRAME_SAMPLES) {
            frame.fill(0.0);
            frame[..chunk.len()].copy_from_slice(chunk);
            let packet = encoder.encode_vec_float(&frame, MAX_PACKET_BYTES)?;
            frames.push(Arc::from(packet));
        }
        Ok(Self { frames: frames.into() })
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The frame at `position`, looping.
    pub fn looped(&self, position: u64) -> Option<&Arc<[u8]>> {
        let len = u64::try_from(self.frames.len()).ok().filter(|len| *len > 0)?;
        usize::try_from(position % len).ok().and_then(|index| self.frames.get(index))
    }

    /// The frame at `position`, or `None` once the sound is over.
    pub fn once(&self, position: u64) -> Option<&Arc<[u8]>> {
        usize::try_from(position).ok().and_then(|index| self.frames.get(index))
    }
}

/// Every sound the anchor plays.
#[derive(Debug, Clone)]
pub struct Sounds {
    pub hold_music: EncodedSound,
    pub ringing: EncodedSound,
    /// The greeting and beep played before recording a voicemail.
    pub voicemail_greeting: EncodedSound,
}

impl Sounds {
    pub fn render() -> Result<Self, opus::Error> {
        Ok(Self {
            hold_music: EncodedSound::encode(&hold_music::render(), Application::Audio)?,
            ringing: EncodedSound::encode(&ringing_cycle(), Application::Voip)?,
            voicemail_greeting: EncodedSound::encode(&greeting(), Application::Voip)?,
        })
    }
}

fn sine(frequency: f32, seconds: f32, level: f32) -> impl Iterator<Item = f32> {
    let count = (SAMPLE_RATE as f32 * seconds) as usize;
    (0..count).map(move |n| {
        let t = n as f32 / SAMPLE_RATE as f32;
        // 5 ms ramps, so tones start and stop without a click.
        let ramp = (t / 0.005).min((seconds - t) / 0.005).clamp(0.0, 1.0);
        level * ramp * (TAU * frequency * t).sin()
    })
}

fn silence(seconds: f32) -> impl Iterator<Item = f32> {
    std::iter::repeat_n(0.0, (SAMPLE_RATE as f32 * seconds) as usize)
}

/// One ringing cycle: one second of tone, four of silence.
fn ringing_cycle() -> Vec<f32> {
    sine(RINGING_HZ, 1.0, 0.3).chain(silence(4.0)).collect()
}

/// There is no recorded voice to ship, so the greeting is a short rising chime
/// (the owner's name is in the app), a pause, then the beep that means "speak now".
fn greeting() -> Vec<f32> {
    sine(523.25, 0.25, 0.25)
        .chain(sine(659.25, 0.25, 0.25))
        .chain(sine(783.99, 0.4, 0.25))
        .chain(silence(0.4))
        .chain(sine(VOICEMAIL_BEEP_HZ, 0.3, 0.3))
        .chain(silence(0.1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sounds_encode_to_whole_frames() {
        let sounds = Sounds::render().unwrap();
        assert_eq!(sounds.hold_music.len(), 400, "8 s of 20 ms frames");
        assert_eq!(sounds.ringing.len(), 250, "5 s of 20 ms frames");
        assert!(sounds.voicemail_greeting.len() >= 80);
        assert!(sounds.hold_music.looped(400).is_some());
        assert!(sounds.voicemail_greeting.once(10_000).is_none());
    }

    #[test]
    fn the_hold_music_decodes_with_its_signature() {
        let sounds = Sounds::render().unwrap();
        let mut decoder = opus::Decoder::new(SAMPLE_RATE, Channels::Mono).unwrap();
        let mut pcm = vec![0.0f32; FRAME_SAMPLES];
        let mut decoded = Vec::new();
        for position in 0..100 {
            let frame = sounds.hold_music.looped(position).unwrap();
            let n = decoder.decode_float(frame, &mut pcm, false).unwrap();
            decoded.extend_from_slice(&pcm[..n]);
        }
        // Skip the codec's start-up; every later 20 ms block carries the pedal.
        let blocks: Vec<f32> = decoded[FRAME_SAMPLES * 5..]
            .chunks(FRAME_SAMPLES)
            .map(|block| hold_music::share(block, hold_music::SIGNATURE_HZ))
            .collect();
        let carrying = blocks.iter().filter(|share| **share > 0.05).count();
        assert!(carrying * 10 >= blocks.len() * 9, "{carrying} of {} blocks", blocks.len());
    }
}
