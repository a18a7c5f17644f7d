//! The client's audio pipeline. So far: the jitter buffer (sans-IO) and test tones
//! with their detection.

pub mod jitter;
pub mod tone;

pub use jitter::{JitterBuffer, JitterConfig, JitterStats, Playout};
pub use tone::{ToneSource, tone_present, tone_share};
