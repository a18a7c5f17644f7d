//! The media anchor: every device's audio goes through the service, which relays
//! Opus between bridged devices, plays hold music and tones, and records voicemail.

mod anchor;
pub mod recorder;
pub mod routes;
mod sdp;
pub mod sources;
pub mod timeline;

pub use anchor::{MediaCounters, MediaError, MediaHandle, Request as MediaRequest, spawn_anchor};
