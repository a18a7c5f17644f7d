//! The Callpark client, shared by the desktop app, the `callpark` CLI and the tests:
//! [`Softphone`], the one typed API for what a person does; the signaling engine
//! ([`Engine`]), the tokio driver of the pure [`callpark_session::Session`] (one
//! WebSocket, kept up; view-model snapshots); the device's audio link; and the
//! admin REST client ([`AdminClient`]).

mod address;
mod admin;
mod engine;
mod error;
pub mod media;
mod pickup_link;
mod softphone;

pub use address::{ServiceAddress, Trust};
pub use admin::{AdminClient, login};
/// The audio crate, for the shells' convenience (it knows nothing of signaling).
pub use callpark_audio as audio;
pub use callpark_session::{
    CallPhase, CallView, Connection, MyPark, Notice, Parked, Retrieved, ViewModel, intent, words,
};
pub use engine::Engine;
pub use error::ClientError;
pub use pickup_link::{code_in_pickup_link, pickup_link};
pub use softphone::{SIGN_IN_WAIT, Softphone};
