//! The session's outputs as the tab's driver reads them: JSON tagged by `type`.

use std::collections::BTreeMap;

use callpark_session::words::notification_for;
use callpark_session::{Notice, Output, RequestId};
use serde_json::{Value, json};

use crate::requests::{WebIntent, error_code, refusal};

/// One output as JSON; a reply is shaped by the intent it answers (forgotten here).
pub fn output_json(output: Output, asked: &mut BTreeMap<RequestId, WebIntent>) -> String {
    let value = match output {
        Output::Connect => json!({"type": "connect"}),
        Output::Send(text) => json!({"type": "send", "text": text}),
        Output::Close { reconnect } => json!({"type": "close", "reconnect": reconnect}),
        Output::ViewChanged => json!({"type": "view"}),
        Output::Reply { id, result } => {
            let intent = asked.remove(&id);
            let outcome =
                result.map_err(|error| (error_code(&error).to_owned(), error.to_string()));
            let outcome = match (outcome, intent) {
                (Ok(reply), Some(intent)) => intent.outcome(reply).map_err(|other| {
                    ("protocol".to_owned(), format!("the service answered with {other:?}"))
                }),
                (Ok(_), None) => Ok(Value::Null),
                (Err(error), _) => Err(error),
            };
            match outcome {
                Ok(value) => json!({"type": "reply", "id": id, "ok": value}),
                Err((code, message)) => return refusal(id as f64, &code, &message),
            }
        }
        Output::Notice(notice) => notice_json(notice),
    };
    value.to_string()
}

fn notice_json(notice: Notice) -> Value {
    match notice {
        Notice::Online => json!({"type": "online"}),
        Notice::Offline { reason } => json!({"type": "offline", "reason": reason}),
        Notice::SignedOut { reason } => json!({"type": "signed_out", "reason": reason}),
        Notice::CallLost { call } => json!({"type": "call_lost", "call": call}),
        Notice::Event(event) => {
            let notification =
                notification_for(&event).map(|(title, body)| json!({"title": title, "body": body}));
            json!({"type": "event", "event": event, "notification": notification})
        }
    }
}
