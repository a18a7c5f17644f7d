//! WAV files as call audio, for the headless softphone: `--play FILE` says a
//! file's audio (any rate or channel count, converted to 48 kHz mono), `--record
//! FILE` keeps what is heard as 48 kHz mono 16-bit PCM.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::io::{AudioSink, AudioSource, FRAME_SAMPLES, Frame, SAMPLE_RATE};
use super::resample::{RateConverter, ResampleError, downmix};

#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: hound::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: hound::Error },
    #[error("{path} has no audio")]
    Empty { path: PathBuf },
    #[error(transparent)]
    Resample(#[from] ResampleError),
}

/// A file's audio, said once; silence after it ends.
#[derive(Debug)]
pub struct WavSource {
    samples: Vec<f32>,
    position: usize,
}

impl WavSource {
    pub fn open(path: &Path) -> Result<Self, WavError> {
        let read_error = |source| WavError::Read { path: path.to_owned(), source };
        let mut reader = hound::WavReader::open(path).map_err(read_error)?;
        let spec = reader.spec();
        let interleaved: Vec<f32> = match spec.sample_format {
            hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>(),
            hound::SampleFormat::Int => {
                let full_scale = 2f32.powi(i32::from(spec.bits_per_sample.max(1)) - 1);
                reader
                    .samples::<i32>()
                    .map(|sample| sample.map(|value| value as f32 / full_scale))
                    .collect::<Result<_, _>>()
            }
        }
        .map_err(read_error)?;
        if interleaved.is_empty() {
            return Err(WavError::Empty { path: path.to_owned() });
        }
        let mut mono = Vec::with_capacity(interleaved.len() / usize::from(spec.channels.max(1)));
        downmix(&interleaved, usize::from(spec.channels), &mut mono);
        let mut samples = Vec::with_capacity(mono.len());
        let mut converter = RateConverter::new(spec.sample_rate, SAMPLE_RATE)?;
        converter.process(&mono, &mut samples)?;
        // Flush what the converter holds back so the file's end is said too.
        let tail = converter.delay_samples();
        converter.process(&vec![0.0; tail + FRAME_SAMPLES], &mut samples)?;
        Ok(Self { samples, position: 0 })
    }

    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / f64::from(SAMPLE_RATE)
    }

    pub fn finished(&self) -> bool {
        self.position >= self.samples.len()
    }
}

impl AudioSource for WavSource {
    fn read_frame(&mut self, frame: &mut Frame) -> bool {
        let rest = &self.samples[self.position.min(self.samples.len())..];
        let count = rest.len().min(FRAME_SAMPLES);
        frame[..count].copy_from_slice(&rest[..count]);
        frame[count..].fill(0.0);
        self.position += count;
        true
    }
}

/// Writes what the call plays into a WAV file; the file is complete once the sink
/// is dropped or `finish` is called.
pub struct WavSink {
    path: PathBuf,
    writer: Option<hound::WavWriter<BufWriter<File>>>,
}

impl std::fmt::Debug for WavSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavSink").field("path", &self.path).finish_non_exhaustive()
    }
}

impl WavSink {
    pub fn create(path: &Path) -> Result<Self, WavError> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(path, spec)
            .map_err(|source| WavError::Write { path: path.to_owned(), source })?;
        Ok(Self { path: path.to_owned(), writer: Some(writer) })
    }

    /// Completes the file's header.
    pub fn finish(&mut self) -> Result<(), WavError> {
        match self.writer.take() {
            Some(writer) => writer
                .finalize()
                .map_err(|source| WavError::Write { path: self.path.clone(), source }),
            None => Ok(()),
        }
    }
}

impl AudioSink for WavSink {
    fn write_frame(&mut self, frame: &Frame) {
        let Some(writer) = self.writer.as_mut() else { return };
        for sample in frame {
            // Saturating float-to-int cast after the clamp: no wrap on loud audio.
            let value = (sample.clamp(-1.0, 1.0) * f32::from(i16::MAX)) as i16;
            if let Err(source) = writer.write_sample(value) {
                tracing::warn!(path = %self.path.display(), error = %source, "recording stopped");
                self.writer = None;
                return;
            }
        }
    }
}

impl Drop for WavSink {
    fn drop(&mut self) {
        if let Err(error) = self.finish() {
            tracing::warn!(%error, "the recording is incomplete");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::{ToneSource, tone_present};

    fn write_tone(path: &Path, rate: u32, channels: u16, seconds: f32) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(path, spec).expect("create");
        let mut tone = ToneSource::new(700.0, rate, 0.4);
        let mut samples = vec![0.0; (rate as f32 * seconds) as usize];
        tone.fill(&mut samples);
        for sample in samples {
            for _ in 0..channels {
                writer.write_sample((sample * 32767.0) as i16).expect("sample");
            }
        }
        writer.finalize().expect("finalize");
    }

    #[test]
    fn a_44k1_stereo_file_is_said_as_48k_mono_then_silence() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("tone.wav");
        write_tone(&path, 44_100, 2, 1.0);
        let mut source = WavSource::open(&path).expect("open");
        assert!((source.duration_secs() - 1.0).abs() < 0.05, "{} s", source.duration_secs());
        let mut said = Vec::new();
        let mut frame = [0.0; FRAME_SAMPLES];
        for _ in 0..50 {
            assert!(source.read_frame(&mut frame));
            said.extend_from_slice(&frame);
        }
        assert!(tone_present(&said[4_800..40_000], 700.0, SAMPLE_RATE, 960, 0.95));
        while !source.finished() {
            source.read_frame(&mut frame);
        }
        source.read_frame(&mut frame);
        assert!(frame.iter().all(|sample| *sample == 0.0), "silence after the end");
    }

    #[test]
    fn what_is_heard_is_recorded_as_48k_mono() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("heard.wav");
        let mut sink = WavSink::create(&path).expect("create");
        let mut tone = ToneSource::new(500.0, SAMPLE_RATE, 0.3);
        let mut frame = [0.0; FRAME_SAMPLES];
        for _ in 0..25 {
            tone.fill(&mut frame);
            sink.write_frame(&frame);
        }
        drop(sink);
        let mut reader = hound::WavReader::open(&path).expect("open");
        assert_eq!(reader.spec().sample_rate, SAMPLE_RATE);
        assert_eq!(reader.spec().channels, 1);
        let samples: Vec<f32> =
            reader.samples::<i16>().map(|s| f32::from(s.expect("sample")) / 32767.0).collect();
        assert_eq!(samples.len(), 25 * FRAME_SAMPLES);
        assert!(tone_present(&samples, 500.0, SAMPLE_RATE, 960, 0.95));
    }

    #[test]
    fn a_missing_file_is_named_in_the_error() {
        let error = WavSource::open(Path::new("/nonexistent/x.wav")).expect_err("missing");
        assert!(error.to_string().contains("/nonexistent/x.wav"), "{error}");
    }
}
