//! Reading voicemail messages: Ogg Opus files (RFC 7845) decoded to 48 kHz mono.

use std::io::Cursor;

use super::io::{FRAME_SAMPLES, Frame, SAMPLE_RATE};

#[derive(Debug, thiserror::Error)]
pub enum OggOpusError {
    #[error("not an Ogg file: {0}")]
    Ogg(#[from] ogg::OggReadError),
    #[error("not Ogg Opus: {0}")]
    Format(&'static str),
    #[error("cannot decode the Opus audio: {0}")]
    Opus(#[from] opus::Error),
}

/// The whole file's audio, after the encoder's pre-skip.
pub fn decode_ogg_opus(file: &[u8]) -> Result<Vec<f32>, OggOpusError> {
    let mut reader = ogg::PacketReader::new(Cursor::new(file));
    let head = reader.read_packet()?.ok_or(OggOpusError::Format("the file is empty"))?;
    if !head.data.starts_with(b"OpusHead") || head.data.len() < 19 {
        return Err(OggOpusError::Format("the first packet is not an OpusHead"));
    }
    let channels = match head.data[9] {
        1 => opus::Channels::Mono,
        2 => opus::Channels::Stereo,
        _ => return Err(OggOpusError::Format("only mono and stereo are supported")),
    };
    let pre_skip = usize::from(u16::from_le_bytes([head.data[10], head.data[11]]));
    let tags = reader.read_packet()?.ok_or(OggOpusError::Format("no OpusTags packet"))?;
    if !tags.data.starts_with(b"OpusTags") {
        return Err(OggOpusError::Format("the second packet is not OpusTags"));
    }
    let stereo = channels == opus::Channels::Stereo;
    let mut decoder = opus::Decoder::new(SAMPLE_RATE, channels)?;
    // 120 ms, the longest Opus packet, per channel.
    let mut decoded = vec![0.0f32; 5_760 * 2];
    let mut samples = Vec::new();
    while let Some(packet) = reader.read_packet()? {
        let count = decoder.decode_float(&packet.data, &mut decoded, false)?;
        if stereo {
            samples
                .extend(decoded[..count * 2].chunks_exact(2).map(|pair| (pair[0] + pair[1]) / 2.0));
        } else {
            samples.extend_from_slice(&decoded[..count]);
        }
    }
    Ok(samples.split_off(pre_skip.min(samples.len())))
}

/// Decoded audio as a source of 20 ms frames; `false` once it has all been read.
#[derive(Debug)]
pub struct SamplesSource {
    samples: Vec<f32>,
    position: usize,
}

impl SamplesSource {
    pub fn new(samples: Vec<f32>) -> Self {
        Self { samples, position: 0 }
    }

    pub fn next_frame(&mut self, frame: &mut Frame) -> bool {
        if self.position >= self.samples.len() {
            return false;
        }
        let end = (self.position + FRAME_SAMPLES).min(self.samples.len());
        let taken = end - self.position;
        frame[..taken].copy_from_slice(&self.samples[self.position..end]);
        frame[taken..].fill(0.0);
        self.position = end;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_as_not_ogg() {
        let error = decode_ogg_opus(b"RIFF....WAVEfmt ").unwrap_err();
        assert!(error.to_string().starts_with("not an Ogg file"), "{error}");
    }

    #[test]
    fn a_source_gives_whole_frames_then_stops() {
        let mut source = SamplesSource::new(vec![0.5; FRAME_SAMPLES + 10]);
        let mut frame = [0.0; FRAME_SAMPLES];
        assert!(source.next_frame(&mut frame));
        assert!(frame.iter().all(|s| *s == 0.5));
        assert!(source.next_frame(&mut frame));
        assert_eq!((frame[9], frame[10]), (0.5, 0.0));
        assert!(!source.next_frame(&mut frame));
    }
}
