//! What a client asks, and the replies.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::{DeviceCall, EndedPark, UserRef};
use crate::{ErrorBody, MAX_FRAME_BYTES, ReplyResult, ServerMessage};

/// A request: an id chosen by the client, echoed in the one reply it gets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub id: u64,
    #[serde(flatten)]
    pub body: RequestBody,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
/// Unknown extra fields are ignored, so that newer clients can add optional ones.
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RequestBody {
    /// First request on a connection: the protocol the client speaks and a name
    /// for this device ("Alice's laptop"). Reply: `welcome`. After a dropped
    /// connection, `resume` is the token from the last `welcome`: within the grace
    /// period the device is the same one again, in every call it was in.
    Hello {
        protocol: u32,
        device_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<String>,
    },
    /// WebRTC offer for this device's audio. Reply: `media_answer`.
    MediaOffer {
        sdp: String,
    },
    /// Call a user by login name. Reply: `dialing`.
    Dial {
        to: String,
    },
    Answer {
        call: u64,
    },
    Decline {
        call: u64,
    },
    Hangup {
        call: u64,
    },
    /// Park the connected call. Reply: `parked` with the pickup code.
    Park {
        call: u64,
    },
    /// Pick up a parked call by its code, as the person typed it. Reply: `retrieved`.
    Retrieve {
        code: String,
    },
    /// I have seen how my park of `call` ended (a `park_ended` event, or one listed
    /// in `welcome`): the service forgets it and tells my other devices. Reply: `done`.
    AcknowledgeParkEnded {
        call: u64,
    },
    /// Start the live list of parked calls: a `parked_list` event, then changes.
    SubscribeParked,
    UnsubscribeParked,
    /// Start the live people list: a `people` event, then changes.
    SubscribePeople,
    Ping,
}

impl RequestBody {
    /// This request's type, as written in the `type` field.
    pub fn kind(&self) -> &'static str {
        match self {
            RequestBody::Hello { .. } => "hello",
            RequestBody::MediaOffer { .. } => "media_offer",
            RequestBody::Dial { .. } => "dial",
            RequestBody::Answer { .. } => "answer",
            RequestBody::Decline { .. } => "decline",
            RequestBody::Hangup { .. } => "hangup",
            RequestBody::Park { .. } => "park",
            RequestBody::Retrieve { .. } => "retrieve",
            RequestBody::AcknowledgeParkEnded { .. } => "acknowledge_park_ended",
            RequestBody::SubscribeParked => "subscribe_parked",
            RequestBody::UnsubscribeParked => "unsubscribe_parked",
            RequestBody::SubscribePeople => "subscribe_people",
            RequestBody::Ping => "ping",
        }
    }

    /// Every request type, as written in the `type` field.
    pub const TYPES: &'static [&'static str] = &[
        "hello",
        "media_offer",
        "dial",
        "answer",
        "decline",
        "hangup",
        "park",
        "retrieve",
        "acknowledge_park_ended",
        "subscribe_parked",
        "unsubscribe_parked",
        "subscribe_people",
        "ping",
    ];
}

/// What a successful request returns, tagged by `kind`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReplyBody {
    Done,
    /// The reply to `hello` (boxed: it is much larger than every other reply).
    Welcome(Box<Welcome>),
    MediaAnswer {
        sdp: String,
    },
    Dialing {
        call: u64,
    },
    Parked {
        call: u64,
        code: u16,
        ringback_at_ms: u64,
    },
    Retrieved {
        call: u64,
        code: u16,
        caller: UserRef,
        parked_by: UserRef,
    },
    Pong,
}

/// The reply to `hello`. `policy` is null when the user may not park or retrieve,
/// and `park_off` then says why (`park_not_allowed`, `not_enterprise_voice`).
///
/// `resume` is the token to say hello with after a dropped connection (the same one
/// for the device's life). `resumed` says the device came back within its grace period;
/// `calls` are the calls it takes part in or that ring on it (empty for a new
/// device).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    pub protocol: u32,
    pub user: UserRef,
    pub device: u64,
    pub policy: Option<String>,
    #[serde(default)]
    pub park_off: Option<ErrorBody>,
    #[serde(default)]
    pub resume: String,
    #[serde(default)]
    pub resumed: bool,
    #[serde(default)]
    pub calls: Vec<DeviceCall>,
    /// How my parks ended, by call id, for those no device of mine has
    /// acknowledged (the whole list: it replaces what the device showed).
    #[serde(default)]
    pub ended_parks: Vec<EndedPark>,
}

/// A request that could not be read: the reply to send (with the id if one could
/// be read, so the client can match it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    pub id: Option<u64>,
    pub error: ErrorBody,
}

pub type ParsedRequest = Result<Request, Rejected>;

/// Reads one text frame from a client. Anything wrong gets a precise refusal:
/// `frame_too_large`, `bad_json`, `bad_request` (no id, no type, a missing or
/// wrong field) or `unknown_type` (listing the known ones). Never panics.
pub fn parse_request(text: &str) -> ParsedRequest {
    if text.len() > MAX_FRAME_BYTES {
        return Err(rejected(
            None,
            "frame_too_large",
            format!("The message is {} bytes; at most {MAX_FRAME_BYTES} are allowed.", text.len()),
        ));
    }
    let value: Value = serde_json::from_str(text).map_err(|error| {
        rejected(None, "bad_json", format!("The message is not valid JSON: {error}."))
    })?;
    let id = value.get("id").and_then(Value::as_u64);
    let Some(object) = value.as_object() else {
        return Err(rejected(None, "bad_request", "A request must be a JSON object."));
    };
    if id.is_none() {
        return Err(rejected(
            None,
            "bad_request",
            "A request needs an \"id\": a whole number from 0 up, echoed in its reply.",
        ));
    }
    let Some(kind) = object.get("type").and_then(Value::as_str).map(str::to_owned) else {
        return Err(rejected(id, "bad_request", "A request needs a \"type\" (a string)."));
    };
    if !RequestBody::TYPES.contains(&kind.as_str()) {
        return Err(rejected(
            id,
            "unknown_type",
            format!(
                "Unknown request type {kind:?}. Known types: {}.",
                RequestBody::TYPES.join(", ")
            ),
        ));
    }
    serde_json::from_value(value).map_err(|error| {
        rejected(id, "bad_request", format!("The {kind:?} request is not valid: {error}."))
    })
}

fn rejected(id: Option<u64>, code: &str, message: impl Into<String>) -> Rejected {
    Rejected { id, error: ErrorBody::new(code, message) }
}

/// The reply to request `id` when it succeeded.
pub fn reply_ok(id: u64, body: ReplyBody) -> ServerMessage {
    ServerMessage::Reply { id: Some(id), result: ReplyResult::Ok(body) }
}

/// The reply to request `id` (if known) when it was refused.
pub fn reply_error(id: Option<u64>, error: ErrorBody) -> ServerMessage {
    ServerMessage::Reply { id, result: ReplyResult::Error(error) }
}

impl From<Rejected> for ServerMessage {
    fn from(rejected: Rejected) -> Self {
        reply_error(rejected.id, rejected.error)
    }
}
