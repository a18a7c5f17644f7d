//! The Callpark client session: everything a client knows and decides about its
//! signaling connection, as pure state: no sockets, no tasks, no clock. The desktop
//! app and the CLI drive it from tokio (`callpark-client`'s engine); the web app
//! drives the same code compiled to WebAssembly.
//!
//! - [`Session`]: hello, request ids and their replies, request timeouts,
//!   re-subscription after a reconnect and the reconnect backoff, fed with frames,
//!   connection changes and the time, and asking for frames to send and connections
//!   to open in return.
//! - [`ViewModel`]: what a client shows, rebuilt from the service's events.
//! - [`intent`]: what a person asks for, each with the type of its outcome.
//! - [`words`]: events in plain words, for shells that print or notify.

pub mod intent;
mod session;
mod view;
pub mod words;

pub use intent::{Intent, Parked, Retrieved};
pub use session::{
    ConnectFailure, Fits, HEARTBEAT, Notice, Output, REPLY_TIMEOUT, RequestError, RequestId,
    SILENCE_LIMIT, Session, backoff, jittered,
};
pub use view::{CallPhase, CallView, Connection, MyPark, ViewModel};
