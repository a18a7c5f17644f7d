//! What the tab asks for, as it arrives in JSON, and its outcome as it goes back.

use callpark_session::intent::{
    AcknowledgeParkEnded, Answer, Decline, Dial, HangUp, Intent, MediaOffer, Park, Ping, Retrieve,
    UnwatchParked, WatchParked, WatchPeople,
};
use callpark_session::{Fits, RequestError};
use callpark_wire::{ReplyBody, RequestBody};
use serde::Deserialize;
use serde_json::{Value, json};

/// An intent of the tab's, tagged by `kind` (the same names as the desktop's
/// commands).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum WebIntent {
    Dial { to: String },
    Answer { call: u64 },
    Decline { call: u64 },
    HangUp { call: u64 },
    Park { call: u64 },
    Retrieve { code: String },
    AcknowledgeParkEnded { call: u64 },
    WatchParked,
    UnwatchParked,
    WatchPeople,
    MediaOffer { sdp: String },
    Ping,
}

/// The request and the replies that answer it, for one intent type.
fn typed<I: Intent>(intent: I) -> (RequestBody, Fits) {
    (intent.request(), I::fits)
}

/// The outcome in a reply, as JSON, for one intent type.
fn outcome_of<I: Intent>(reply: ReplyBody) -> Result<Value, ReplyBody>
where
    I::Outcome: serde::Serialize,
{
    let outcome = I::outcome(reply)?;
    Ok(serde_json::to_value(outcome).unwrap_or(Value::Null))
}

impl WebIntent {
    pub fn request(&self) -> (RequestBody, Fits) {
        match self.clone() {
            WebIntent::Dial { to } => typed(Dial { to: to.trim().to_owned() }),
            WebIntent::Answer { call } => typed(Answer { call }),
            WebIntent::Decline { call } => typed(Decline { call }),
            WebIntent::HangUp { call } => typed(HangUp { call }),
            WebIntent::Park { call } => typed(Park { call }),
            WebIntent::Retrieve { code } => typed(Retrieve { code }),
            WebIntent::AcknowledgeParkEnded { call } => typed(AcknowledgeParkEnded { call }),
            WebIntent::WatchParked => typed(WatchParked),
            WebIntent::UnwatchParked => typed(UnwatchParked),
            WebIntent::WatchPeople => typed(WatchPeople),
            WebIntent::MediaOffer { sdp } => typed(MediaOffer { sdp }),
            WebIntent::Ping => typed(Ping),
        }
    }

    /// The outcome a successful reply carries: the new call's id for a dial, the
    /// park's code, the picked-up call, the SDP answer, or `null`.
    pub fn outcome(&self, reply: ReplyBody) -> Result<Value, ReplyBody> {
        match self {
            WebIntent::Dial { .. } => outcome_of::<Dial>(reply),
            WebIntent::Park { .. } => outcome_of::<Park>(reply),
            WebIntent::Retrieve { .. } => outcome_of::<Retrieve>(reply),
            WebIntent::MediaOffer { .. } => outcome_of::<MediaOffer>(reply),
            WebIntent::Answer { .. } => outcome_of::<Answer>(reply),
            WebIntent::Decline { .. } => outcome_of::<Decline>(reply),
            WebIntent::HangUp { .. } => outcome_of::<HangUp>(reply),
            WebIntent::AcknowledgeParkEnded { .. } => outcome_of::<AcknowledgeParkEnded>(reply),
            WebIntent::WatchParked => outcome_of::<WatchParked>(reply),
            WebIntent::UnwatchParked => outcome_of::<UnwatchParked>(reply),
            WebIntent::WatchPeople => outcome_of::<WatchPeople>(reply),
            WebIntent::Ping => outcome_of::<Ping>(reply),
        }
    }
}

/// A refusal's stable code, as the desktop app gives it: the service's own for
/// its refusals.
pub fn error_code(error: &RequestError) -> &str {
    match error {
        RequestError::Refused(body) => &body.code,
        RequestError::Closed => "closed",
        RequestError::Timeout(_) => "timeout",
        RequestError::Protocol(_) => "protocol",
    }
}

/// A `reply` output that refuses request `id`.
pub fn refusal(id: f64, code: &str, message: &str) -> String {
    json!({"type": "reply", "id": id, "error": {"code": code, "message": message}}).to_string()
}
