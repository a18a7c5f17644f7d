//! Sample-rate and channel conversion between a sound device's format and the
//! pipeline's 48 kHz mono. Streams of any chunk size go in; whatever whole
//! resampler chunks they complete comes out.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

/// Why a converter could not be made or run.
#[derive(Debug, thiserror::Error)]
pub enum ResampleError {
    #[error("cannot resample from {from_hz} Hz to {to_hz} Hz: {reason}")]
    Unsupported { from_hz: u32, to_hz: u32, reason: String },
    #[error("resampling failed: {0}")]
    Failed(String),
}

/// Converts a mono stream from one sample rate to another (a copy when they match).
pub struct RateConverter {
    resampler: Option<Fft<f32>>,
    pending: Vec<f32>,
    chunk_out: Vec<f32>,
}

impl std::fmt::Debug for RateConverter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateConverter")
            .field("resampling", &self.resampler.is_some())
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl RateConverter {
    pub fn new(from_hz: u32, to_hz: u32) -> Result<Self, ResampleError> {
        if from_hz == to_hz {
            return Ok(Self { resampler: None, pending: Vec::new(), chunk_out: Vec::new() });
        }
        let unsupported = |reason: String| ResampleError::Unsupported { from_hz, to_hz, reason };
        let rate = |hz: u32| usize::try_from(hz).map_err(|error| unsupported(error.to_string()));
        // 10 ms chunks: small enough to add little delay, large enough for the FFT.
        let chunk = rate(from_hz)? / 100;
        if chunk == 0 {
            return Err(unsupported("the input rate is below 100 Hz".into()));
        }
        let resampler = Fft::<f32>::new(rate(from_hz)?, rate(to_hz)?, chunk, 1, FixedSync::Input)
            .map_err(|error| unsupported(error.to_string()))?;
        let chunk_out = vec![0.0; resampler.output_frames_max()];
        Ok(Self { resampler: Some(resampler), pending: Vec::with_capacity(chunk * 2), chunk_out })
    }

    /// Feeds `input` and appends the converted samples it completes to `output`.
    pub fn process(&mut self, input: &[f32], output: &mut Vec<f32>) -> Result<(), ResampleError> {
        let Some(resampler) = self.resampler.as_mut() else {
            output.extend_from_slice(input);
            return Ok(());
        };
        self.pending.extend_from_slice(input);
        let mut consumed = 0;
        loop {
            let needed = resampler.input_frames_next();
            if self.pending.len() - consumed < needed {
                break;
            }
            let chunk = &self.pending[consumed..consumed + needed];
            let failed = |error: String| ResampleError::Failed(error);
            let input =
                InterleavedSlice::new(chunk, 1, needed).map_err(|e| failed(e.to_string()))?;
            let frames_out = self.chunk_out.len();
            let mut out = InterleavedSlice::new_mut(&mut self.chunk_out, 1, frames_out)
                .map_err(|e| failed(e.to_string()))?;
            let (read, written) = resampler
                .process_into_buffer(&input, &mut out, None)
                .map_err(|e| failed(e.to_string()))?;
            consumed += read;
            output.extend_from_slice(&self.chunk_out[..written]);
        }
        self.pending.drain(..consumed);
        Ok(())
    }

    /// Samples the converter holds back (input waiting for a whole chunk plus the
    /// filter's delay), in output samples.
    pub fn delay_samples(&self) -> usize {
        self.resampler.as_ref().map_or(0, |resampler| {
            let ratio = resampler.resample_ratio();
            let pending = (self.pending.len() as f64 * ratio).round();
            // Saturating float-to-int cast: `pending` is a small non-negative count.
            resampler.output_delay() + pending as usize
        })
    }
}

/// Averages interleaved frames of `channels` channels into mono, appending to `mono`.
pub fn downmix(interleaved: &[f32], channels: usize, mono: &mut Vec<f32>) {
    if channels <= 1 {
        mono.extend_from_slice(interleaved);
        return;
    }
    let scale = 1.0 / channels as f32;
    mono.extend(interleaved.chunks_exact(channels).map(|frame| frame.iter().sum::<f32>() * scale));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::{ToneSource, tone_share};

    fn sine(hz: f32, rate: u32, samples: usize) -> Vec<f32> {
        (0..samples)
            .map(|n| (std::f32::consts::TAU * hz * n as f32 / rate as f32).sin() * 0.5)
            .collect()
    }

    #[test]
    fn equal_rates_pass_samples_through_unchanged() {
        let mut converter = RateConverter::new(48_000, 48_000).expect("converter");
        let input = sine(440.0, 48_000, 1000);
        let mut output = Vec::new();
        converter.process(&input, &mut output).expect("process");
        assert_eq!(output, input);
        assert_eq!(converter.delay_samples(), 0);
    }

    #[test]
    fn a_44k1_tone_arrives_at_48k_with_its_pitch_and_length() {
        let mut converter = RateConverter::new(44_100, 48_000).expect("converter");
        let input = sine(1000.0, 44_100, 44_100);
        let mut output = Vec::new();
        // Odd chunk sizes, as a device delivers them.
        for chunk in input.chunks(333) {
            converter.process(chunk, &mut output).expect("process");
        }
        let expected = 48_000.0_f64;
        let got = (output.len() + converter.delay_samples()) as f64;
        assert!((got - expected).abs() < 480.0, "{got} samples for one second");
        let settled = &output[4_800..4_800 + 960];
        assert!(tone_share(settled, 1000.0, 48_000) > 0.9, "the 1 kHz tone is kept");
        assert!(tone_share(settled, 1088.0, 48_000) < 0.1, "and not shifted in pitch");
    }

    #[test]
    fn a_48k_frame_becomes_a_16k_device_stream_and_back() {
        let mut down = RateConverter::new(48_000, 16_000).expect("down");
        let mut up = RateConverter::new(16_000, 48_000).expect("up");
        let mut tone = ToneSource::new(600.0, 48_000, 0.3);
        let mut frame = [0.0; 960];
        let (mut low, mut back) = (Vec::new(), Vec::new());
        for _ in 0..50 {
            tone.fill(&mut frame);
            down.process(&frame, &mut low).expect("down");
        }
        up.process(&low, &mut back).expect("up");
        assert!(low.len() > 15_000 && low.len() <= 16_000, "{} samples at 16 kHz", low.len());
        assert!(tone_share(&back[back.len() - 1920..back.len() - 960], 600.0, 48_000) > 0.9);
    }

    #[test]
    fn channels_mix_down_by_average() {
        let mut mono = Vec::new();
        downmix(&[1.0, 0.0, 0.5, 0.5, -1.0, 1.0], 2, &mut mono);
        assert_eq!(mono, [0.5, 0.5, 0.0]);
    }

    #[test]
    fn a_rate_of_zero_is_refused_with_both_rates_named() {
        let error = RateConverter::new(0, 48_000).expect_err("zero rate");
        let message = error.to_string();
        assert!(message.contains("0 Hz") && message.contains("48000 Hz"), "{message}");
    }
}
