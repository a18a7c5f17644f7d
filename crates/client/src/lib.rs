//! The Callpark client engine, shared by the desktop app, the `callpark` CLI and the
//! tests: the admin REST client ([`AdminClient`]) and the signaling engine
//! ([`Engine`]): one WebSocket to the service with request/reply correlation,
//! automatic reconnect with backoff and re-subscription, and a stream of view-model
//! snapshots.

mod address;
mod admin;
pub mod audio;
mod engine;
mod error;
pub mod media;
mod pickup_link;
mod softphone;
mod view;

pub use address::{ServiceAddress, Trust};
pub use admin::{AdminClient, login};
pub use engine::{Engine, EngineEvent};
pub use error::ClientError;
pub use pickup_link::{code_in_pickup_link, pickup_link};
pub use softphone::{Parked, Retrieved, SIGN_IN_WAIT, Softphone};
pub use view::{CallPhase, CallView, Connection, MyPark, ViewModel};
