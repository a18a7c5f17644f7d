//! The park service. For now: the exchange, the task that drives the switchboard
//! (`callpark-park`) with the real clock and delivers its notices as protocol events
//! (`callpark-wire`). The WebSocket and REST front, the store and the media anchor
//! build on it.

pub mod exchange;
pub mod translate;

pub use exchange::{ExchangeHandle, spawn};
