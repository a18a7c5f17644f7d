//! Hold music the project owns: synthesised here from sine tones (no samples, no
//! third-party recordings), so it is ours to ship under the project's licence. An
//! eight-second loop: a I–vi–IV–V pad in C major under a plucked pentatonic melody,
//! over a quiet C pedal that every bar shares, which tests use as its signature.

use std::f32::consts::TAU;

pub const SAMPLE_RATE: u32 = 48_000;
/// The pedal note, close to C3, sounding through the whole loop. A whole number of
/// cycles per loop (1,048), so the loop joins without a click.
pub const SIGNATURE_HZ: f32 = 131.0;
const LOOP_SECONDS: usize = 8;
const CHORD_SECONDS: f32 = 2.0;
const NOTE_SECONDS: f32 = 0.5;

/// C–Am–F–G, as the frequencies of each triad.
const CHORDS: [[f32; 3]; 4] = [
    [261.63, 329.63, 392.00],
    [220.00, 261.63, 329.63],
    [174.61, 220.00, 261.63],
    [196.00, 246.94, 293.66],
];

/// Sixteen eighth-bar notes of C major pentatonic.
const MELODY: [f32; 16] = [
    523.25, 659.25, 783.99, 659.25, 587.33, 523.25, 440.00, 523.25, 440.00, 523.25, 587.33, 659.25,
    587.33, 783.99, 659.25, 587.33,
];

/// One loop of mono samples at [`SAMPLE_RATE`], peak below 0.6 of full scale; the
/// end joins the start without a click.
pub fn render() -> Vec<f32> {
    let rate = SAMPLE_RATE as f32;
    (0..SAMPLE_RATE as usize * LOOP_SECONDS)
        .map(|n| {
            let t = n as f32 / rate;
            let chord = CHORDS[(t / CHORD_SECONDS) as usize % CHORDS.len()];
            let in_chord = t % CHORD_SECONDS;
            // Pads swell in and out within their bar, so bar changes do not click.
            let pad_level = 0.07 * (std::f32::consts::PI * in_chord / CHORD_SECONDS).sin();
            let pad: f32 = chord.iter().map(|f| (TAU * f * t).sin()).sum::<f32>() * pad_level;
            let note = MELODY[(t / NOTE_SECONDS) as usize % MELODY.len()];
            let in_note = t % NOTE_SECONDS;
            let attack = (in_note / 0.01).min(1.0);
            let release = ((NOTE_SECONDS - in_note) / 0.02).min(1.0);
            let envelope = attack * release * (-in_note * 6.0).exp();
            let pluck = 0.2 * envelope * (TAU * note * t).sin();
            let pedal = 0.15 * (TAU * SIGNATURE_HZ * t).sin();
            pad + pluck + pedal
        })
        .collect()
}

/// The share of a block's energy at `frequency`: its projection onto a sine and a
/// cosine there (one DFT bin). Tests use it to find the signature.
#[cfg(test)]
pub(crate) fn share(samples: &[f32], frequency: f32) -> f32 {
    let step = TAU * frequency / SAMPLE_RATE as f32;
    let (sine, cosine) = samples.iter().enumerate().fold((0.0f32, 0.0f32), |(s, c), (n, x)| {
        let angle = step * n as f32;
        (s + x * angle.sin(), c + x * angle.cos())
    });
    let energy: f32 = samples.iter().map(|x| x * x).sum();
    if energy == 0.0 {
        return 0.0;
    }
    2.0 * (sine * sine + cosine * cosine) / (samples.len() as f32 * energy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loop_is_eight_seconds_within_full_scale_and_joins_without_a_click() {
        let music = render();
        assert_eq!(music.len(), 8 * 48_000);
        let peak = music.iter().fold(0.0f32, |peak, s| peak.max(s.abs()));
        assert!((0.2..0.6).contains(&peak), "peak {peak}");
        let largest_step =
            music.windows(2).map(|pair| (pair[1] - pair[0]).abs()).fold(0.0f32, f32::max);
        let seam = (music[0] - music[music.len() - 1]).abs();
        assert!(seam <= largest_step, "the seam {seam} is no bigger than any step {largest_step}");
    }

    #[test]
    fn every_20_ms_block_carries_the_signature() {
        let music = render();
        let weakest = music
            .chunks_exact(960)
            .map(|block| share(block, SIGNATURE_HZ))
            .fold(f32::MAX, f32::min);
        assert!(weakest > 0.2, "weakest signature share {weakest}");
        let silence_or_speech_band =
            music.chunks_exact(960).map(|b| share(b, 1000.0)).fold(0.0, f32::max);
        assert!(silence_or_speech_band < 0.05, "{silence_or_speech_band}");
    }
}
