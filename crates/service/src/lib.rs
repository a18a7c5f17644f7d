//! The park service: the exchange (the task that drives the switchboard of
//! `callpark-park` with the real clock), the SQLite store, the signaling WebSocket and
//! the admin REST API, and start-up (configuration, first run, demo tenant).

pub mod accounts;
pub mod admin;
pub mod clock;
pub mod config;
pub mod demo;
pub mod exchange;
mod extract;
pub mod hold_music;
pub mod media;
pub mod private_files;
pub mod refusal;
pub mod routing;
pub mod server;
mod signin;
pub mod startup;
pub mod state;
pub mod store;
pub mod tenant;
pub mod throttle;
pub mod tickets;
pub mod tls;
pub mod translate;
pub mod voicemail;
pub mod web_app;

pub use exchange::{ExchangeHandle, spawn};
pub use server::{router, run};
pub use state::AppState;
