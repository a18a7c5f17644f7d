//! The client's audio pipeline: audio in and out as 20 ms frames (sound devices or
//! headless sources and sinks), Opus, the sans-IO jitter buffer, test tones and
//! their detection.

pub mod io;
pub mod jitter;
pub mod tone;
pub mod voice;

pub use io::{AnalysingSink, AudioSink, AudioSource, DiscardSink, Heard, SilentSource};
pub use jitter::{JitterBuffer, JitterConfig, JitterStats, Playout};
pub use tone::{ToneSource, tone_present, tone_share};
pub use voice::{VoiceDecoder, VoiceEncoder, level_dbfs};
