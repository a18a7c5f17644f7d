//! The park service. For now: the exchange, the task that drives the switchboard
//! (`callpark-park`) with the real clock and delivers its notices as protocol events
//! (`callpark-wire`). The WebSocket and REST front, the store and the media anchor
//! build on it.

pub mod accounts;
pub mod demo;
pub mod exchange;
pub mod server;
pub mod translate;

pub use accounts::Accounts;
pub use exchange::{ExchangeHandle, spawn};
pub use server::{AppState, router, run};
