//! The wire format, pinned: each message type against the exact JSON it must be.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use callpark_wire::*;
use serde_json::{Value, json};

fn alice() -> UserRef {
    UserRef { id: 1, name: "Alice".into() }
}

fn dave() -> UserRef {
    UserRef { id: 4, name: "Dave".into() }
}

/// Serialises to exactly `expected`, and reads back to the same message.
fn pin_server(message: ServerMessage, expected: Value) {
    let text = message.to_json();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected, "{text}");
    assert_eq!(ServerMessage::from_json(&text).unwrap(), message);
}

fn pin_request(text: Value, expected: Request) {
    assert_eq!(parse_request(&text.to_string()), Ok(expected.clone()));
    assert_eq!(serde_json::to_value(&expected).unwrap(), text);
}

#[test]
fn requests() {
    let cases = [
        (
            json!({"id": 1, "type": "hello", "protocol": 1, "device_name": "Desk"}),
            RequestBody::Hello { protocol: 1, device_name: "Desk".into(), resume: None },
        ),
        (
            json!({"id": 1, "type": "hello", "protocol": 1, "device_name": "Desk",
                "resume": "5f3a"}),
            RequestBody::Hello {
                protocol: 1,
                device_name: "Desk".into(),
                resume: Some("5f3a".into()),
            },
        ),
        (
            json!({"id": 1, "type": "media_offer", "sdp": "v=0"}),
            RequestBody::MediaOffer { sdp: "v=0".into() },
        ),
        (json!({"id": 1, "type": "dial", "to": "alice"}), RequestBody::Dial { to: "alice".into() }),
        (json!({"id": 1, "type": "answer", "call": 7}), RequestBody::Answer { call: 7 }),
        (json!({"id": 1, "type": "decline", "call": 7}), RequestBody::Decline { call: 7 }),
        (json!({"id": 1, "type": "hangup", "call": 7}), RequestBody::Hangup { call: 7 }),
        (json!({"id": 1, "type": "park", "call": 7}), RequestBody::Park { call: 7 }),
        (
            json!({"id": 1, "type": "retrieve", "code": "12"}),
            RequestBody::Retrieve { code: "12".into() },
        ),
        (
            json!({"id": 1, "type": "acknowledge_park_ended", "call": 7}),
            RequestBody::AcknowledgeParkEnded { call: 7 },
        ),
        (json!({"id": 1, "type": "subscribe_parked"}), RequestBody::SubscribeParked),
        (json!({"id": 1, "type": "unsubscribe_parked"}), RequestBody::UnsubscribeParked),
        (json!({"id": 1, "type": "subscribe_people"}), RequestBody::SubscribePeople),
        (json!({"id": 1, "type": "ping"}), RequestBody::Ping),
    ];
    assert_eq!(cases.len(), RequestBody::TYPES.len() + 1, "every request type is pinned");
    for (text, body) in cases {
        assert_eq!(text["type"], body.kind(), "kind() names the type on the wire");
        pin_request(text, Request { id: 1, body });
    }
}

#[test]
fn replies() {
    pin_server(
        reply_ok(3, ReplyBody::Done),
        json!({"type": "reply", "id": 3, "ok": {"kind": "done"}}),
    );
    pin_server(
        reply_ok(
            1,
            ReplyBody::Welcome(Box::new(Welcome {
                protocol: 1,
                user: alice(),
                device: 9,
                policy: Some("Tag:Sales".into()),
                park_off: None,
                resume: "5f3a".into(),
                resumed: true,
                calls: vec![DeviceCall {
                    call: 7,
                    role: CallRole::Connected,
                    peer: Some(dave()),
                    code: None,
                    peer_reconnecting: true,
                }],
                ended_parks: vec![EndedPark {
                    call: 5,
                    code: 11,
                    outcome: ParkOutcome::Lost,
                    by: None,
                    caller: dave(),
                    ended_at_ms: 1_700_000_000_000,
                }],
            })),
        ),
        json!({"type": "reply", "id": 1, "ok": {"kind": "welcome", "protocol": 1,
            "user": {"id": 1, "name": "Alice"}, "device": 9, "policy": "Tag:Sales",
            "park_off": null, "resume": "5f3a", "resumed": true,
            "calls": [{"call": 7, "role": "connected", "peer": {"id": 4, "name": "Dave"},
                "code": null, "peer_reconnecting": true}],
            "ended_parks": [{"call": 5, "code": 11, "outcome": "lost", "by": null,
                "caller": {"id": 4, "name": "Dave"}, "ended_at_ms": 1_700_000_000_000_u64}]}}),
    );
    pin_server(
        reply_ok(
            1,
            ReplyBody::Welcome(Box::new(Welcome {
                protocol: 1,
                user: alice(),
                device: 9,
                policy: None,
                park_off: Some(ErrorBody::new("not_enterprise_voice", "Needs enterprise voice.")),
                resume: "5f3b".into(),
                resumed: false,
                calls: vec![],
                ended_parks: vec![],
            })),
        ),
        json!({"type": "reply", "id": 1, "ok": {"kind": "welcome", "protocol": 1,
            "user": {"id": 1, "name": "Alice"}, "device": 9, "policy": null,
            "park_off": {"code": "not_enterprise_voice", "message": "Needs enterprise voice."},
            "resume": "5f3b", "resumed": false, "calls": [], "ended_parks": []}}),
    );
    pin_server(
        reply_ok(5, ReplyBody::Parked { call: 7, code: 12, ringback_at_ms: 1_700_000_300_000 }),
        json!({"type": "reply", "id": 5, "ok": {"kind": "parked", "call": 7, "code": 12,
            "ringback_at_ms": 1_700_000_300_000u64}}),
    );
    pin_server(
        reply_ok(6, ReplyBody::Retrieved { call: 7, code: 12, caller: dave(), parked_by: alice() }),
        json!({"type": "reply", "id": 6, "ok": {"kind": "retrieved", "call": 7, "code": 12,
            "caller": {"id": 4, "name": "Dave"}, "parked_by": {"id": 1, "name": "Alice"}}}),
    );
    pin_server(
        reply_ok(2, ReplyBody::Dialing { call: 7 }),
        json!({"type": "reply", "id": 2, "ok": {"kind": "dialing", "call": 7}}),
    );
    pin_server(
        reply_ok(2, ReplyBody::MediaAnswer { sdp: "v=0".into() }),
        json!({"type": "reply", "id": 2, "ok": {"kind": "media_answer", "sdp": "v=0"}}),
    );
    pin_server(
        reply_ok(2, ReplyBody::Pong),
        json!({"type": "reply", "id": 2, "ok": {"kind": "pong"}}),
    );
    pin_server(
        reply_error(Some(6), ErrorBody::new("already_retrieved", "Picked up by Carol 4 s ago.")),
        json!({"type": "reply", "id": 6, "error": {"code": "already_retrieved",
            "message": "Picked up by Carol 4 s ago."}}),
    );
    pin_server(
        reply_error(None, ErrorBody::new("bad_json", "x")),
        json!({"type": "reply", "id": null, "error": {"code": "bad_json", "message": "x"}}),
    );
}

#[test]
fn events() {
    let parked = ParkedCall {
        call: 7,
        code: 12,
        caller: dave(),
        parked_by: alice(),
        parked_at_ms: 1000,
        ringback_at_ms: 301_000,
        ringing_back: false,
    };
    let parked_json = json!({"call": 7, "code": 12, "caller": {"id": 4, "name": "Dave"},
        "parked_by": {"id": 1, "name": "Alice"}, "parked_at_ms": 1000, "ringback_at_ms": 301_000,
        "ringing_back": false});
    let cases = [
        (
            Event::IncomingCall { call: 7, from: dave(), forwarded_by: None },
            json!({"event": "incoming_call", "call": 7, "from": {"id": 4, "name": "Dave"}, "forwarded_by": null}),
        ),
        (
            Event::RingingStopped {
                call: 7,
                reason: RingingStopReason::Retrieved,
                by: Some(alice()),
            },
            json!({"event": "ringing_stopped", "call": 7, "reason": "retrieved", "by": {"id": 1, "name": "Alice"}}),
        ),
        (
            Event::Ringing { call: 7, callee: alice() },
            json!({"event": "ringing", "call": 7, "callee": {"id": 1, "name": "Alice"}}),
        ),
        (
            Event::Connected { call: 7, peer: alice() },
            json!({"event": "connected", "call": 7, "peer": {"id": 1, "name": "Alice"}}),
        ),
        (
            Event::CallEnded { call: 7, reason: CallEndReason::PeerLost },
            json!({"event": "call_ended", "call": 7, "reason": "peer_lost"}),
        ),
        (
            Event::PeerReconnecting { call: 7, peer: dave() },
            json!({"event": "peer_reconnecting", "call": 7, "peer": {"id": 4, "name": "Dave"}}),
        ),
        (
            Event::PeerReconnected { call: 7, peer: dave() },
            json!({"event": "peer_reconnected", "call": 7, "peer": {"id": 4, "name": "Dave"}}),
        ),
        (Event::OnHold { call: 7 }, json!({"event": "on_hold", "call": 7})),
        (
            Event::CallParked { call: 7, code: 12, caller: dave(), ringback_at_ms: 301_000 },
            json!({"event": "call_parked", "call": 7, "code": 12, "caller": {"id": 4, "name": "Dave"},
                "ringback_at_ms": 301_000}),
        ),
        (
            Event::Ringback { call: 7, code: 12, caller: dave() },
            json!({"event": "ringback", "call": 7, "code": 12, "caller": {"id": 4, "name": "Dave"}}),
        ),
        (
            Event::ParkEnded(EndedPark {
                call: 7,
                code: 12,
                outcome: ParkOutcome::Retrieved,
                by: Some(alice()),
                caller: dave(),
                ended_at_ms: 301_000,
            }),
            json!({"event": "park_ended", "call": 7, "code": 12, "outcome": "retrieved",
                "by": {"id": 1, "name": "Alice"}, "caller": {"id": 4, "name": "Dave"},
                "ended_at_ms": 301_000}),
        ),
        (
            Event::ParkEndedAcknowledged { call: 7 },
            json!({"event": "park_ended_acknowledged", "call": 7}),
        ),
        (
            Event::VoicemailStarted { call: 7, owner: alice() },
            json!({"event": "voicemail_started", "call": 7, "owner": {"id": 1, "name": "Alice"}}),
        ),
        (
            Event::ParkedList {
                policy: Some("Tag:Sales".into()),
                park_off: None,
                calls: vec![parked.clone()],
            },
            json!({"event": "parked_list", "policy": "Tag:Sales", "park_off": null,
                "calls": [parked_json.clone()]}),
        ),
        (
            Event::ParkedList {
                policy: None,
                park_off: Some(ErrorBody::new("park_not_allowed", "Park is off.")),
                calls: vec![],
            },
            json!({"event": "parked_list", "policy": null,
                "park_off": {"code": "park_not_allowed", "message": "Park is off."}, "calls": []}),
        ),
        (
            Event::ParkedCallAdded { parked: parked.clone() },
            json!({"event": "parked_call_added", "parked": parked_json.clone()}),
        ),
        (
            Event::ParkedCallUpdated { parked },
            json!({"event": "parked_call_updated", "parked": parked_json}),
        ),
        (
            Event::ParkedCallRemoved { call: 7, code: 12 },
            json!({"event": "parked_call_removed", "call": 7, "code": 12}),
        ),
        (
            Event::People {
                people: vec![Person {
                    id: 4,
                    login: "dave".into(),
                    name: "Dave".into(),
                    presence: Presence::InCall,
                }],
            },
            json!({"event": "people", "people": [
                {"id": 4, "login": "dave", "name": "Dave", "presence": "in_call"}
            ]}),
        ),
        (
            Event::PersonChanged {
                person: Person {
                    id: 1,
                    login: "alice".into(),
                    name: "Alice".into(),
                    presence: Presence::Available,
                },
            },
            json!({"event": "person_changed", "person":
                {"id": 1, "login": "alice", "name": "Alice", "presence": "available"}}),
        ),
        (Event::PersonRemoved { id: 4 }, json!({"event": "person_removed", "id": 4})),
    ];
    for (event, mut expected) in cases {
        expected.as_object_mut().unwrap().insert("type".into(), json!("event"));
        pin_server(ServerMessage::Event { event }, expected);
    }
}

#[test]
fn bad_input_gets_a_precise_refusal_with_the_id_when_it_can_be_read() {
    let refusal = |text: &str| parse_request(text).unwrap_err();

    let r = refusal("{not json");
    assert_eq!((r.id, r.error.code.as_str()), (None, "bad_json"));

    let r = refusal(r#"[1, 2]"#);
    assert_eq!((r.id, r.error.code.as_str()), (None, "bad_request"));

    let r = refusal(r#"{"type": "ping"}"#);
    assert_eq!((r.id, r.error.code.as_str()), (None, "bad_request"));
    assert!(r.error.message.contains("\"id\""));

    let r = refusal(r#"{"id": 4}"#);
    assert_eq!((r.id, r.error.code.as_str()), (Some(4), "bad_request"));
    assert!(r.error.message.contains("\"type\""));

    let r = refusal(r#"{"id": 5, "type": "teleport"}"#);
    assert_eq!((r.id, r.error.code.as_str()), (Some(5), "unknown_type"));
    assert!(r.error.message.contains("\"teleport\"") && r.error.message.contains("retrieve"));

    let r = refusal(r#"{"id": 6, "type": "park"}"#);
    assert_eq!((r.id, r.error.code.as_str()), (Some(6), "bad_request"));
    assert!(r.error.message.contains("call"), "{}", r.error.message);

    let r = refusal(r#"{"id": 7, "type": "park", "call": "seven"}"#);
    assert_eq!((r.id, r.error.code.as_str()), (Some(7), "bad_request"));

    // Unknown extra fields are ignored (forward compatibility), not refused.
    let ok = parse_request(r#"{"id": 8, "type": "ping", "extra": true}"#);
    assert_eq!(ok, Ok(Request { id: 8, body: RequestBody::Ping }));

    let big = format!(r#"{{"id": 9, "type": "dial", "to": "{}"}}"#, "x".repeat(MAX_FRAME_BYTES));
    let r = refusal(&big);
    assert_eq!((r.id, r.error.code.as_str()), (None, "frame_too_large"));

    // The refusal turns into the reply the service sends.
    let reply: ServerMessage = refusal(r#"{"id": 5, "type": "teleport"}"#).into();
    let value: Value = serde_json::from_str(&reply.to_json()).unwrap();
    assert_eq!(value["type"], "reply");
    assert_eq!(value["id"], 5);
    assert_eq!(value["error"]["code"], "unknown_type");
}
