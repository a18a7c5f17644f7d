//! The signaling protocol between a client device and the park service: JSON text
//! frames over one WebSocket.
//!
//! - The client sends [`Request`]s: an `id` it chooses and a `type`. Every request
//!   gets exactly one [`ServerMessage::Reply`] with the same id: `ok` with a
//!   [`ReplyBody`], or `error` with a stable `code` and a plain-words `message`.
//! - The service also sends [`ServerMessage::Event`]s at any time.
//! - The first request must be `hello` with the [`PROTOCOL_VERSION`] the client
//!   speaks; a service that does not speak it refuses with `protocol_unsupported`.
//!
//! `docs/protocol.md` describes every message; the tests in `tests/literal_json.rs`
//! pin the format so it cannot drift unnoticed.

pub mod admin;
mod event;
mod request;
pub mod rtp;

pub use event::{
    CallEndReason, CallRole, DeviceCall, EndedPark, Event, ParkOutcome, ParkedCall, Person,
    Presence, RingingStopReason, UserRef,
};
pub use request::{
    ParsedRequest, Rejected, ReplyBody, Request, RequestBody, Welcome, parse_request, reply_error,
    reply_ok,
};

use serde::{Deserialize, Serialize};

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// How many unacknowledged park outcomes the service keeps per user (and lists in
/// `welcome`); a newer one pushes out the one with the lowest call id.
pub const ENDED_PARKS_KEPT: usize = 100;

/// Longest text frame either side accepts, in bytes.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// The close code of a signaling connection whose sign-in ended (logout, an admin's
/// revocation, the account removed); the close reason says why in plain words. The
/// client must sign in again rather than reconnect.
pub const CLOSE_SIGNED_OUT: u16 = 4401;

/// The close code a client uses when it closes a connection to open a new one
/// (it stopped hearing the service): the service keeps its calls for the grace
/// period, as after any drop. Only a normal close (1000) signs a device off at once.
pub const CLOSE_RECONNECTING: u16 = 4000;

/// The close code the service sends every device when it stops to restart (SIGTERM,
/// an upgrade): the standard "service restart" code. Calls and parks are kept; the
/// client reconnects with its resume token after its jittered backoff.
pub const CLOSE_RESTARTING: u16 = 1012;

/// How often the service pings a signaling connection (a WebSocket ping).
pub const HEARTBEAT_SECONDS: u64 = 5;

/// A connection that has been silent this long (no frame, no pong) is gone.
pub const SILENCE_LIMIT_SECONDS: u64 = 15;

/// A refusal: a stable machine code and a message in plain words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code: code.into(), message: message.into() }
    }
}

/// Everything the service sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The one answer to the request with this `id` (`null` when the request was so
    /// malformed that its id could not be read).
    Reply {
        id: Option<u64>,
        #[serde(flatten)]
        result: ReplyResult,
    },
    Event {
        #[serde(flatten)]
        event: Event,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyResult {
    Ok(ReplyBody),
    Error(ErrorBody),
}

impl ServerMessage {
    pub fn to_json(&self) -> String {
        // Serialising these types cannot fail: no maps with non-string keys, no
        // user-defined Serialize impls.
        serde_json::to_string(self).unwrap_or_else(|error| {
            format!(
                r#"{{"type":"reply","id":null,"error":{{"code":"internal","message":"{error}"}}}}"#
            )
        })
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}
