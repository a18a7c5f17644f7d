//! The browser's interface to the session, driven as the TypeScript driver drives
//! it: JSON in, JSON out, the time in milliseconds.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use callpark_wire::{ErrorBody, Event, ReplyBody, ReplyResult, ServerMessage, UserRef, Welcome};
use serde_json::{Value, json};

use super::WebSession;

fn drain(session: &mut WebSession) -> Vec<Value> {
    std::iter::from_fn(|| session.poll_output())
        .map(|text| serde_json::from_str(&text).unwrap())
        .collect()
}

fn sent(outputs: &[Value]) -> Vec<Value> {
    outputs
        .iter()
        .filter(|output| output["type"] == "send")
        .map(|output| serde_json::from_str(output["text"].as_str().unwrap()).unwrap())
        .collect()
}

fn reply(id: &Value, result: ReplyResult) -> String {
    ServerMessage::Reply { id: Some(id.as_u64().unwrap()), result }.to_json()
}

fn welcome() -> ReplyBody {
    ReplyBody::Welcome(Box::new(Welcome {
        protocol: callpark_wire::PROTOCOL_VERSION,
        user: UserRef { id: 2, name: "Bob".into() },
        device: 7,
        policy: Some("Tag:Front desk".into()),
        park_off: None,
        resume: "resume-token-1".into(),
        resumed: false,
        calls: Vec::new(),
        ended_parks: Vec::new(),
    }))
}

/// A session greeted by a pretend service at `now_ms`.
fn online(now_ms: f64) -> WebSession {
    let mut session = WebSession::new("Web", 1, 2, "");
    assert_eq!(drain(&mut session), [json!({"type": "connect"})]);
    session.connected(now_ms);
    let hello = sent(&drain(&mut session));
    assert_eq!(hello[0]["type"], "hello");
    session.frame(&reply(&hello[0]["id"], ReplyResult::Ok(welcome())), now_ms);
    let outputs = drain(&mut session);
    assert!(outputs.contains(&json!({"type": "online"})), "{outputs:?}");
    session
}

#[test]
fn a_park_from_the_tab_goes_out_as_a_request_and_its_code_comes_back_shaped_for_the_ui() {
    let mut session = online(1000.0);
    let id = session.ask(r#"{"kind":"park","call":9}"#, 1500.0);
    let frames = sent(&drain(&mut session));
    assert_eq!(frames[0]["type"], "park");
    assert_eq!(frames[0]["call"], 9);
    assert_eq!(frames[0]["id"].as_f64(), Some(id));
    let parked = ReplyBody::Parked { call: 9, code: 42, ringback_at_ms: 300_000 };
    session.frame(&reply(&frames[0]["id"], ReplyResult::Ok(parked)), 1600.0);
    let outputs = drain(&mut session);
    assert_eq!(
        outputs,
        [
            json!({"type": "reply", "id": id as u64, "ok": {"call": 9, "code": 42, "ringback_at_ms": 300_000}})
        ]
    );
}

#[test]
fn a_refusal_keeps_the_services_code_and_words() {
    let mut session = online(0.0);
    let id = session.ask(r#"{"kind":"retrieve","code":"77"}"#, 10.0);
    let frames = sent(&drain(&mut session));
    let refused = ErrorBody::new("no_such_code", "No call is parked under 77.");
    session.frame(&reply(&frames[0]["id"], ReplyResult::Error(refused)), 20.0);
    assert_eq!(
        drain(&mut session),
        [
            json!({"type": "reply", "id": id, "error": {"code": "no_such_code", "message": "No call is parked under 77."}})
        ]
    );
}

#[test]
fn an_intent_the_session_cannot_read_is_refused_in_words_and_nothing_is_sent() {
    let mut session = online(0.0);
    let id = session.ask(r#"{"kind":"park"}"#, 10.0);
    let outputs = drain(&mut session);
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    assert_eq!(outputs[0]["id"].as_f64(), Some(id));
    assert_eq!(outputs[0]["error"]["code"], "invalid");
    assert!(outputs[0]["error"]["message"].as_str().unwrap().contains("call"), "{outputs:?}");
}

#[test]
fn events_change_the_view_and_those_that_need_the_user_come_with_a_notification() {
    let mut session = online(0.0);
    let ringback =
        Event::Ringback { call: 4, code: 12, caller: UserRef { id: 4, name: "Dave".into() } };
    session.frame(&ServerMessage::Event { event: ringback }.to_json(), 50.0);
    let outputs = drain(&mut session);
    assert!(outputs.contains(&json!({"type": "view"})), "{outputs:?}");
    let event = outputs.iter().find(|output| output["type"] == "event").unwrap();
    assert_eq!(event["notification"]["title"], "Dave is still waiting");
    let view: Value = serde_json::from_str(&session.view()).unwrap();
    assert_eq!(view["view"]["calls"]["4"]["phase"], "ringback");
    assert_eq!(view["park_group"], "Front desk");
    // A ringback rings here; the microphone opens only once it is answered.
    assert_eq!(view["in_call"], false);
    let on_hold = ServerMessage::Event { event: Event::OnHold { call: 5 } }.to_json();
    session.frame(&on_hold, 60.0);
    let outputs = drain(&mut session);
    assert!(outputs.iter().find(|o| o["type"] == "event").unwrap()["notification"].is_null());
    let view: Value = serde_json::from_str(&session.view()).unwrap();
    assert_eq!(view["in_call"], true);
}

#[test]
fn a_dropped_socket_is_retried_after_the_sessions_backoff_in_the_drivers_milliseconds() {
    let mut session = online(0.0);
    session.closed(None, "network changed", 1000.0);
    let outputs = drain(&mut session);
    assert!(
        outputs.contains(&json!({"type": "offline", "reason": "network changed"})),
        "{outputs:?}"
    );
    let due = session.next_timeout_ms().unwrap();
    assert!((1125.0..=1250.0).contains(&due), "retry due at {due} ms");
    session.timeout(due);
    assert_eq!(drain(&mut session), [json!({"type": "connect"})]);
    // A refused ticket (HTTP 401) means the sign-in is over: no more retries.
    session.connect_failed(true, "401", due + 5.0);
    let outputs = drain(&mut session);
    assert!(outputs.iter().any(|o| o["type"] == "signed_out"), "{outputs:?}");
    assert_eq!(session.next_timeout_ms(), None);
}

#[test]
fn a_reloaded_tab_says_the_resume_token_it_kept_in_its_first_hello() {
    let session = online(0.0);
    assert_eq!(session.resume_token().as_deref(), Some("resume-token-1"));
    let mut reloaded = WebSession::new("Web", 3, 4, "resume-token-1");
    assert_eq!(drain(&mut reloaded), [json!({"type": "connect"})]);
    reloaded.connected(0.0);
    let hello = sent(&drain(&mut reloaded));
    assert_eq!(hello[0]["type"], "hello");
    assert_eq!(hello[0]["resume"], "resume-token-1");
    let mut fresh = WebSession::new("Web", 3, 4, "");
    drain(&mut fresh);
    fresh.connected(0.0);
    assert!(sent(&drain(&mut fresh))[0]["resume"].is_null());
}
