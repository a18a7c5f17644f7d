//! Test tones and their detection: a sine source for the headless softphone
//! (`--tone HZ`) and the settings' test tone, and a Goertzel detector that tells
//! whether a block of audio is mostly one frequency.

use std::f32::consts::TAU;

/// A continuous sine wave, generated block by block without phase jumps.
#[derive(Clone, Debug)]
pub struct ToneSource {
    step: f32,
    phase: f32,
    amplitude: f32,
}

impl ToneSource {
    /// `amplitude` is relative to full scale (0–1).
    pub fn new(frequency_hz: f32, sample_rate: u32, amplitude: f32) -> Self {
        Self { step: TAU * frequency_hz / sample_rate as f32, phase: 0.0, amplitude }
    }

    pub fn fill(&mut self, samples: &mut [f32]) {
        for sample in samples {
            *sample = self.amplitude * self.phase.sin();
            self.phase = (self.phase + self.step) % TAU;
        }
    }
}

/// The share of a block's energy at `frequency_hz` (0–1), by the Goertzel
/// algorithm: near 1 for a clean tone at that frequency, near 0 for other tones,
/// noise or silence.
pub fn tone_share(samples: &[f32], frequency_hz: f32, sample_rate: u32) -> f32 {
    let total: f32 = samples.iter().map(|s| s * s).sum();
    if samples.is_empty() || total <= f32::EPSILON {
        return 0.0;
    }
    let coefficient = 2.0 * (TAU * frequency_hz / sample_rate as f32).cos();
    let (mut previous, mut before) = (0.0f32, 0.0f32);
    for &sample in samples {
        let current = sample + coefficient * previous - before;
        before = previous;
        previous = current;
    }
    let power = previous * previous + before * before - coefficient * previous * before;
    // A pure tone of n samples has power n² A² / 4 and energy n A² / 2.
    (2.0 * power / (samples.len() as f32 * total)).min(1.0)
}

/// A block "holds" a tone when this share of its energy is at that frequency.
const BLOCK_SHARE: f32 = 0.7;

/// Whether `share` of the blocks of `block` samples hold `frequency_hz` (each block
/// with at least 70 % of its energy there). Judging block by block catches a tone that
/// is only there some of the time, which one figure over the whole capture hides.
pub fn tone_present(
    samples: &[f32],
    frequency_hz: f32,
    sample_rate: u32,
    block: usize,
    share: f32,
) -> bool {
    let blocks: Vec<&[f32]> = samples.chunks_exact(block.max(1)).collect();
    if blocks.is_empty() {
        return false;
    }
    let holding =
        blocks.iter().filter(|b| tone_share(b, frequency_hz, sample_rate) >= BLOCK_SHARE).count();
    holding as f32 >= share * blocks.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: u32 = 48_000;
    const FRAME: usize = 960;

    fn tone(frequency: f32, samples: usize) -> Vec<f32> {
        let mut block = vec![0.0; samples];
        ToneSource::new(frequency, RATE, 0.5).fill(&mut block);
        block
    }

    #[test]
    fn a_tone_is_found_at_its_frequency_and_not_at_others() {
        let block = tone(1000.0, FRAME);
        assert!(tone_share(&block, 1000.0, RATE) > 0.9);
        assert!(tone_share(&block, 1200.0, RATE) < 0.05);
        assert!(tone_share(&block, 440.0, RATE) < 0.05);
        assert_eq!(tone_share(&[0.0; FRAME], 1000.0, RATE), 0.0);
    }

    #[test]
    fn the_source_has_no_phase_jump_between_blocks() {
        let mut source = ToneSource::new(440.0, RATE, 0.5);
        let mut first = vec![0.0; 100];
        let mut second = vec![0.0; 100];
        source.fill(&mut first);
        source.fill(&mut second);
        let joined: Vec<f32> = first.into_iter().chain(second).collect();
        assert_eq!(joined, tone(440.0, 200));
    }

    #[test]
    fn presence_is_judged_block_by_block() {
        let mut mostly = tone(700.0, FRAME * 20);
        mostly[..FRAME * 3].fill(0.0);
        assert!(tone_present(&mostly, 700.0, RATE, FRAME, 0.8));
        assert!(!tone_present(&mostly, 700.0, RATE, FRAME, 0.9));
        let mixed: Vec<f32> = tone(700.0, FRAME * 10)
            .iter()
            .zip(tone(1300.0, FRAME * 10))
            .map(|(a, b)| a + b)
            .collect();
        assert!(!tone_present(&mixed, 700.0, RATE, FRAME, 0.9), "half the energy is elsewhere");
        assert!(!tone_present(&[], 700.0, RATE, FRAME, 0.9));
    }
}
