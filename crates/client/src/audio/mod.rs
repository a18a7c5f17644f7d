//! The client's audio pipeline. So far: the jitter buffer (sans-IO).

pub mod jitter;

pub use jitter::{JitterBuffer, JitterConfig, JitterStats, Playout};
