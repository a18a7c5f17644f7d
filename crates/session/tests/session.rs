//! The session on its own: scripted frames from a pretend service, connection
//! changes and time jumps. No sockets, no clock.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::time::Duration;

use callpark_session::intent::{
    AcknowledgeParkEnded, Dial, HangUp, Park, Retrieve, UnwatchParked, WatchParked, WatchPeople,
};
use callpark_session::{
    CallPhase, ConnectFailure, Connection, HEARTBEAT, Intent, Notice, Output, Parked,
    REPLY_TIMEOUT, RequestError, SILENCE_LIMIT, Session, backoff, jittered,
};
use callpark_wire::{
    CLOSE_RESTARTING, CLOSE_SIGNED_OUT, CallRole, DeviceCall, EndedPark, ErrorBody, Event,
    ParkOutcome, ReplyBody, ReplyResult, ServerMessage, UserRef, Welcome,
};
use serde_json::Value;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn user(id: u64, name: &str) -> UserRef {
    UserRef { id, name: name.into() }
}

fn drain(session: &mut Session) -> Vec<Output> {
    std::iter::from_fn(|| session.poll_output()).collect()
}

/// The frames among `outputs`, as JSON.
fn sent(outputs: &[Output]) -> Vec<Value> {
    outputs
        .iter()
        .filter_map(|output| match output {
            Output::Send(frame) => Some(serde_json::from_str(frame).unwrap()),
            _ => None,
        })
        .collect()
}

fn kinds(frames: &[Value]) -> Vec<&str> {
    frames.iter().map(|frame| frame["type"].as_str().unwrap()).collect()
}

fn id_of(frame: &Value) -> u64 {
    frame["id"].as_u64().unwrap()
}

fn reply(id: u64, body: ReplyBody) -> String {
    ServerMessage::Reply { id: Some(id), result: ReplyResult::Ok(body) }.to_json()
}

fn refusal(id: u64, code: &str, message: &str) -> String {
    ServerMessage::Reply { id: Some(id), result: ReplyResult::Error(ErrorBody::new(code, message)) }
        .to_json()
}

fn event(event: Event) -> String {
    ServerMessage::Event { event }.to_json()
}

fn welcome() -> ReplyBody {
    ReplyBody::Welcome(Box::new(Welcome {
        protocol: callpark_wire::PROTOCOL_VERSION,
        user: user(2, "Bob"),
        device: 7,
        policy: Some("Tag:Front desk".into()),
        park_off: None,
        resume: "resume-token-1".into(),
        resumed: false,
        calls: Vec::new(),
        ended_parks: Vec::new(),
    }))
}

/// The reply to the request with `id` among `outputs`.
fn reply_to(outputs: &[Output], id: u64) -> Result<ReplyBody, RequestError> {
    outputs
        .iter()
        .find_map(|output| match output {
            Output::Reply { id: got, result } if *got == id => Some(result.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no reply to request {id} in {outputs:?}"))
}

/// Connects and greets a new session at `now`; the frames sent after the welcome.
fn greet(session: &mut Session, now: Duration) -> Vec<Value> {
    session.handle_connected(now);
    let hello = sent(&drain(session));
    assert_eq!(kinds(&hello), ["hello"]);
    session.handle_frame(&reply(id_of(&hello[0]), welcome()), now);
    let after = drain(session);
    assert!(after.contains(&Output::Notice(Notice::Online)), "{after:?}");
    assert_eq!(session.view().connection, Connection::Online);
    sent(&after)
}

fn online_session() -> Session {
    let mut session = Session::new("Bob's laptop");
    assert_eq!(drain(&mut session), [Output::Connect]);
    greet(&mut session, ms(0));
    session
}

#[test]
fn a_new_session_connects_says_hello_and_is_online_when_welcomed() {
    let mut session = Session::new("Bob's laptop");
    assert_eq!(session.view().connection, Connection::Connecting);
    assert_eq!(drain(&mut session), [Output::Connect]);
    assert_eq!(session.poll_timeout(), None, "connecting waits for the driver");
    session.handle_connected(ms(5));
    let hello = sent(&drain(&mut session));
    assert_eq!(hello[0]["type"], "hello");
    assert_eq!(hello[0]["device_name"], "Bob's laptop");
    assert_eq!(hello[0]["protocol"], callpark_wire::PROTOCOL_VERSION);
    assert_eq!(session.poll_timeout(), Some(ms(5) + REPLY_TIMEOUT), "hello has a deadline");
    session.handle_frame(&reply(id_of(&hello[0]), welcome()), ms(20));
    let outputs = drain(&mut session);
    assert_eq!(outputs, [Output::ViewChanged, Output::Notice(Notice::Online)]);
    let view = session.view();
    assert_eq!(view.user, Some(user(2, "Bob")));
    assert_eq!(view.policy_name(), Some("Front desk"));
    assert_eq!(session.poll_timeout(), Some(ms(20) + HEARTBEAT), "only the heartbeat is due");
}

#[test]
fn replies_are_matched_to_requests_by_id_and_typed() {
    let mut session = online_session();
    let dial = session.ask(Dial { to: "carol".into() }, ms(100));
    let park = session.ask(Park { call: 4 }, ms(100));
    let frames = sent(&drain(&mut session));
    assert_eq!(kinds(&frames), ["dial", "park"]);
    assert_eq!(frames[0]["to"], "carol");
    assert_eq!((id_of(&frames[0]), id_of(&frames[1])), (dial, park));
    // Out of order: the park is answered first.
    session.handle_frame(
        &reply(park, ReplyBody::Parked { call: 4, code: 42, ringback_at_ms: 9 }),
        ms(101),
    );
    session.handle_frame(&reply(dial, ReplyBody::Dialing { call: 5 }), ms(102));
    let outputs = drain(&mut session);
    let parked = Park::outcome(reply_to(&outputs, park).unwrap()).unwrap();
    assert_eq!(parked, Parked { call: 4, code: 42, ringback_at_ms: 9 });
    assert_eq!(Dial::outcome(reply_to(&outputs, dial).unwrap()), Ok(5));
}

#[test]
fn a_refusal_or_a_reply_of_the_wrong_kind_is_the_requests_error() {
    let mut session = online_session();
    let retrieve = session.ask(Retrieve { code: "77".into() }, ms(0));
    let park = session.ask(Park { call: 1 }, ms(0));
    drain(&mut session);
    session
        .handle_frame(&refusal(retrieve, "no_such_code", "No call is parked with code 77."), ms(1));
    session.handle_frame(&reply(park, ReplyBody::Done), ms(1));
    let outputs = drain(&mut session);
    assert_eq!(
        reply_to(&outputs, retrieve),
        Err(RequestError::Refused(ErrorBody::new(
            "no_such_code",
            "No call is parked with code 77."
        )))
    );
    assert!(
        matches!(reply_to(&outputs, park), Err(RequestError::Protocol(text)) if text.contains("Done")),
        "a park answered with done is not a park"
    );
}

#[test]
fn a_request_without_a_reply_times_out_and_its_late_reply_is_dropped() {
    let mut session = online_session();
    let hang_up = session.ask(HangUp { call: 3 }, ms(1_000));
    drain(&mut session);
    // The service keeps talking (its heartbeat is not what this is about).
    let keep_talking = |session: &mut Session, at| {
        session.handle_frame(&event(Event::PersonRemoved { id: 99 }), at);
    };
    keep_talking(&mut session, ms(4_000));
    keep_talking(&mut session, ms(8_000));
    drain(&mut session);
    assert_eq!(session.poll_timeout(), Some(ms(1_000) + REPLY_TIMEOUT));
    session.handle_timeout(ms(1_000) + REPLY_TIMEOUT - ms(1));
    assert_eq!(drain(&mut session), [], "not yet");
    session.handle_timeout(ms(1_000) + REPLY_TIMEOUT);
    let outputs = drain(&mut session);
    assert_eq!(reply_to(&outputs, hang_up), Err(RequestError::Timeout(REPLY_TIMEOUT)));
    assert_eq!(session.poll_timeout(), Some(ms(8_000) + HEARTBEAT), "only the heartbeat");
    session.handle_frame(&reply(hang_up, ReplyBody::Done), ms(12_000));
    assert_eq!(drain(&mut session), [], "a late reply answers nobody");
}

#[test]
fn requests_made_while_connecting_are_sent_once_welcomed_in_order() {
    let mut session = Session::new("Bob's laptop");
    drain(&mut session);
    let dial = session.ask(Dial { to: "carol".into() }, ms(0));
    let watch = session.ask(WatchParked, ms(0));
    assert_eq!(sent(&drain(&mut session)), Vec::<Value>::new(), "nothing before hello");
    let after_welcome = greet(&mut session, ms(10));
    // The parked list is not subscribed twice: the request itself does it.
    assert_eq!(kinds(&after_welcome), ["dial", "subscribe_parked"]);
    assert_eq!((id_of(&after_welcome[0]), id_of(&after_welcome[1])), (dial, watch));
}

#[test]
fn a_request_made_while_connecting_times_out_if_the_service_never_greets() {
    let mut session = Session::new("Bob's laptop");
    drain(&mut session);
    let dial = session.ask(Dial { to: "carol".into() }, ms(0));
    session.handle_timeout(REPLY_TIMEOUT);
    let outputs = drain(&mut session);
    assert_eq!(reply_to(&outputs, dial), Err(RequestError::Timeout(REPLY_TIMEOUT)));
    greet(&mut session, ms(10_500));
    assert_eq!(session.poll_output(), None, "the timed-out dial is not sent later");
}

#[test]
fn a_drop_fails_what_is_in_flight_then_reconnects_after_a_quick_backoff_and_resubscribes() {
    let mut session = online_session();
    session.ask(WatchParked, ms(0));
    session.ask(WatchPeople, ms(0));
    let subscribes = sent(&drain(&mut session));
    for frame in &subscribes {
        session.handle_frame(&reply(id_of(frame), ReplyBody::Done), ms(1));
    }
    drain(&mut session);
    session.handle_frame(&event(Event::Connected { call: 9, peer: user(3, "Carol") }), ms(2));
    let park = session.ask(Park { call: 9 }, ms(3));
    drain(&mut session);

    // Lost, then two failed attempts: 250 ms, 500 ms, 1 s.
    session.handle_closed(None, "connection reset", ms(1_000));
    let outputs = drain(&mut session);
    assert_eq!(reply_to(&outputs, park), Err(RequestError::Closed));
    assert!(outputs.contains(&Output::Close { reconnect: true }));
    assert!(
        outputs.contains(&Output::Notice(Notice::Offline { reason: "connection reset".into() }))
    );
    let view = session.view();
    assert!(matches!(
        &view.connection,
        Connection::Reconnecting { attempt: 1, retry_in_ms: 125..=250, reason }
            if reason == "connection reset"
    ));
    assert_eq!(view.calls.len(), 1, "the call stays on screen while reconnecting");
    let mut now = ms(1_000);
    for attempt in 1..=3 {
        let due = session.poll_timeout().unwrap();
        assert!(due >= now + ms(125) && due <= now + ms(250), "attempt {attempt}: {due:?}");
        session.handle_timeout(due - ms(1));
        assert!(!drain(&mut session).contains(&Output::Connect), "not before the backoff");
        now = due;
        session.handle_timeout(now);
        assert_eq!(drain(&mut session), [Output::Connect]);
        if attempt < 3 {
            session.handle_connect_failed(ConnectFailure::Failed("refused".into()), now);
            drain(&mut session);
            assert!(matches!(
                session.view().connection,
                Connection::Reconnecting { attempt: a, .. } if a == attempt + 1
            ));
        }
    }
    // Back: the lists are subscribed again, by the session itself.
    let again = greet(&mut session, now);
    assert_eq!(kinds(&again), ["subscribe_parked", "subscribe_people"]);
    for frame in &again {
        session.handle_frame(&reply(id_of(frame), ReplyBody::Done), now);
    }
    assert_eq!(drain(&mut session), [], "the session's own replies are not handed out");
    // Greeted: the next loss starts the backoff over.
    session.handle_closed(Some(1001), "", now);
    drain(&mut session);
    assert!(matches!(
        session.view().connection,
        Connection::Reconnecting { attempt: 1, retry_in_ms: 125..=250, ref reason }
            if reason == "the service closed the connection"
    ));
}

#[test]
fn reconnects_are_quick_for_two_seconds_then_back_off_to_four_with_jitter() {
    let nominal: Vec<u128> = (0..14).map(|attempt| backoff(attempt).as_millis()).collect();
    assert_eq!(
        nominal,
        [250, 250, 250, 250, 250, 250, 250, 250, 500, 1000, 2000, 4000, 4000, 4000]
    );
    let mut session = online_session();
    session.handle_closed(None, "gone", ms(0));
    let mut now = ms(0);
    for attempt in 0..14 {
        drain(&mut session);
        let due = session.poll_timeout().unwrap();
        let longest = backoff(attempt);
        assert!(due - now >= longest / 2 && due - now <= longest, "attempt {attempt}");
        now = due;
        session.handle_timeout(now);
        session.handle_connect_failed(ConnectFailure::Failed("gone".into()), now);
    }
}

#[test]
fn devices_seeded_differently_spread_their_reconnects() {
    let waits: Vec<Duration> = (1..=200u64)
        .map(|seed| {
            let mut session = Session::with_seed("laptop", seed * 7_919);
            drain(&mut session);
            session.handle_connected(ms(0));
            session.handle_closed(None, "the service restarted", ms(0));
            session.poll_timeout().unwrap()
        })
        .collect();
    let distinct: std::collections::BTreeSet<_> = waits.iter().collect();
    assert!(distinct.len() > 150, "only {} distinct waits of 200", distinct.len());
    let spread = waits.iter().max().unwrap().saturating_sub(*waits.iter().min().unwrap());
    assert!(spread > ms(100), "waits within {spread:?} of each other");
    assert!(waits.iter().all(|wait| *wait >= ms(125) && *wait <= ms(250)));
    assert_eq!(jittered(ms(1_000), 0), ms(500));
    assert!(jittered(ms(1_000), u64::MAX) <= ms(1_000));
}

#[test]
fn while_waiting_to_reconnect_requests_fail_at_once_but_a_list_asked_for_is_watched_later() {
    let mut session = online_session();
    session.handle_closed(None, "gone", ms(0));
    drain(&mut session);
    let dial = session.ask(Dial { to: "carol".into() }, ms(10));
    let watch = session.ask(WatchPeople, ms(10));
    let outputs = drain(&mut session);
    assert_eq!(reply_to(&outputs, dial), Err(RequestError::Closed));
    assert_eq!(reply_to(&outputs, watch), Err(RequestError::Closed));
    assert_eq!(sent(&outputs), Vec::<Value>::new());
    session.handle_timeout(ms(250));
    drain(&mut session);
    assert_eq!(kinds(&greet(&mut session, ms(300))), ["subscribe_people"]);
}

#[test]
fn hello_without_an_answer_is_a_lost_connection() {
    let mut session = Session::new("Bob's laptop");
    drain(&mut session);
    session.handle_connected(ms(0));
    drain(&mut session);
    session.handle_timeout(REPLY_TIMEOUT);
    let outputs = drain(&mut session);
    assert!(outputs.contains(&Output::Close { reconnect: true }));
    assert!(matches!(
        &session.view().connection,
        Connection::Reconnecting { attempt: 1, reason, .. } if reason == "no reply to hello"
    ));
}

#[test]
fn events_before_the_welcome_are_applied_and_the_welcome_says_which_calls_remain() {
    let mut session = Session::new("Bob's laptop");
    drain(&mut session);
    session.handle_connected(ms(0));
    let hello = sent(&drain(&mut session));
    let ringing = Event::IncomingCall { call: 5, from: user(4, "Dave"), forwarded_by: None };
    session.handle_frame(&event(ringing.clone()), ms(1));
    let outputs = drain(&mut session);
    assert_eq!(outputs, [Output::ViewChanged, Output::Notice(Notice::Event(ringing))]);
    session.handle_frame(&reply(id_of(&hello[0]), welcome_listing(5)), ms(2));
    assert_eq!(session.view().calls[&5].phase, CallPhase::Incoming);
    assert_eq!(session.view().calls[&5].peer, Some(user(4, "Dave")));

    // Dropped; the call stays on screen; back with a welcome that no longer lists it.
    session.handle_closed(None, "connection reset", ms(10));
    assert!(session.view().calls.contains_key(&5), "shown while reconnecting");
    drain(&mut session);
    session.handle_timeout(ms(10) + backoff(0));
    assert_eq!(drain(&mut session), [Output::Connect]);
    drain(&mut session);
    session.handle_connected(ms(300));
    let hello = sent(&drain(&mut session));
    assert_eq!(hello[0]["resume"], "resume-token-1", "hello says the token of the last welcome");
    session.handle_frame(&reply(id_of(&hello[0]), welcome()), ms(301));
    assert!(session.view().calls.is_empty(), "the call ended while the device was away");
    assert!(drain(&mut session).contains(&Output::Notice(Notice::CallLost { call: 5 })));
}

/// A welcome that lists call `call` ringing here from Dave.
fn welcome_listing(call: u64) -> ReplyBody {
    let ReplyBody::Welcome(mut welcome) = welcome() else { unreachable!() };
    welcome.resumed = true;
    welcome.calls = vec![DeviceCall {
        call,
        role: CallRole::Incoming,
        peer: Some(user(4, "Dave")),
        code: None,
        peer_reconnecting: false,
    }];
    ReplyBody::Welcome(welcome)
}

#[test]
fn a_quiet_service_is_pinged_and_a_silent_one_is_left_for_a_new_connection() {
    let mut session = online_session();
    // Heard from at 0 s: a ping goes out after 5 s of quiet, not before.
    session.handle_timeout(HEARTBEAT - ms(1));
    assert!(sent(&drain(&mut session)).is_empty());
    session.handle_timeout(HEARTBEAT);
    let ping = sent(&drain(&mut session));
    assert_eq!(kinds(&ping), ["ping"]);
    // Its pong counts as hearing from the service: the next ping is 5 s after it.
    session.handle_frame(&reply(id_of(&ping[0]), ReplyBody::Pong), ms(5_100));
    assert_eq!(session.poll_timeout(), Some(ms(5_100) + HEARTBEAT));
    session.handle_timeout(ms(10_100));
    assert_eq!(kinds(&sent(&drain(&mut session))), ["ping"]);
    // No answer: 15 s after the last word, the connection is given up (closed as
    // "reconnecting", so the service keeps the calls) and a new one made.
    assert_eq!(session.poll_timeout(), Some(ms(5_100) + SILENCE_LIMIT));
    session.handle_timeout(ms(5_100) + SILENCE_LIMIT);
    let outputs = drain(&mut session);
    assert!(outputs.contains(&Output::Close { reconnect: true }), "{outputs:?}");
    assert!(matches!(
        &session.view().connection,
        Connection::Reconnecting { reason, .. } if reason == "no word from the service for 15 s"
    ));
}

#[test]
fn a_signed_out_close_ends_the_session_without_reconnecting() {
    let mut session = online_session();
    let dial = session.ask(Dial { to: "carol".into() }, ms(0));
    drain(&mut session);
    session.handle_closed(Some(CLOSE_SIGNED_OUT), "An admin ended this sign-in.", ms(5));
    let outputs = drain(&mut session);
    assert_eq!(reply_to(&outputs, dial), Err(RequestError::Closed));
    assert!(outputs.contains(&Output::Notice(Notice::SignedOut {
        reason: "An admin ended this sign-in.".into()
    })));
    assert_eq!(
        session.view().connection,
        Connection::SignedOut { reason: "An admin ended this sign-in.".into() }
    );
    assert_eq!(session.poll_timeout(), None, "no retry");
    session.handle_timeout(ms(60_000));
    assert!(!drain(&mut session).contains(&Output::Connect));
    let later = session.ask(Dial { to: "carol".into() }, ms(60_000));
    assert_eq!(reply_to(&drain(&mut session), later), Err(RequestError::Closed));
    session.stop();
    assert!(session.is_stopped());
    assert!(
        matches!(session.view().connection, Connection::SignedOut { .. }),
        "stopping keeps the reason"
    );
}

#[test]
fn a_restarting_close_says_so_and_reconnects_with_the_resume_token() {
    let mut session = online_session();
    session.handle_closed(Some(CLOSE_RESTARTING), "The service is restarting.", ms(5));
    let outputs = drain(&mut session);
    assert!(outputs.contains(&Output::Close { reconnect: true }), "{outputs:?}");
    let Connection::Reconnecting { reason, .. } = session.view().connection.clone() else {
        panic!("{:?}", session.view().connection)
    };
    assert_eq!(reason, "the service is restarting");
    let retry_at = session.poll_timeout().expect("a retry is due");
    assert!(retry_at <= ms(5 + 250), "the first retry comes within 250 ms: {retry_at:?}");
    session.handle_timeout(retry_at);
    assert!(drain(&mut session).contains(&Output::Connect));
    session.handle_connected(ms(400));
    let hello = sent(&drain(&mut session)).remove(0);
    assert_eq!(hello["type"], "hello");
    assert!(hello["resume"].is_string(), "the device asks to be itself again: {hello}");
}

#[test]
fn an_unknown_token_or_a_refused_hello_signs_out() {
    let mut session = Session::new("Bob's laptop");
    drain(&mut session);
    session.handle_connect_failed(ConnectFailure::Unauthorized, ms(0));
    drain(&mut session);
    assert_eq!(
        session.view().connection,
        Connection::SignedOut { reason: "the token is unknown or has expired".into() }
    );

    let mut session = Session::new("Bob's laptop");
    drain(&mut session);
    session.handle_connected(ms(0));
    let hello = sent(&drain(&mut session));
    session.handle_frame(
        &refusal(id_of(&hello[0]), "protocol_unsupported", "This service speaks protocol 2."),
        ms(1),
    );
    drain(&mut session);
    assert_eq!(
        session.view().connection,
        Connection::SignedOut { reason: "This service speaks protocol 2.".into() }
    );
}

#[test]
fn stopping_closes_fails_what_is_pending_and_refuses_what_comes_after() {
    let mut session = online_session();
    let dial = session.ask(Dial { to: "carol".into() }, ms(0));
    drain(&mut session);
    session.stop();
    let outputs = drain(&mut session);
    assert_eq!(reply_to(&outputs, dial), Err(RequestError::Closed));
    assert!(outputs.contains(&Output::Close { reconnect: false }));
    assert!(session.is_stopped());
    assert_eq!(session.view().connection, Connection::Stopped);
    session.handle_closed(None, "closed", ms(1));
    session.handle_timeout(ms(100_000));
    assert!(!drain(&mut session).iter().any(|o| matches!(o, Output::Connect | Output::Notice(_))));
}

#[test]
fn frames_from_a_closed_connection_or_unreadable_ones_change_nothing() {
    let mut session = online_session();
    session.handle_frame("{not json", ms(1));
    session.handle_frame(
        r#"{"type":"reply","id":null,"error":{"code":"bad_request","message":"?"}}"#,
        ms(1),
    );
    assert_eq!(drain(&mut session), []);
    session.handle_closed(None, "gone", ms(2));
    drain(&mut session);
    session.handle_frame(&event(Event::Connected { call: 1, peer: user(3, "Carol") }), ms(3));
    assert_eq!(drain(&mut session), [], "a frame after the loss is not applied");
    assert!(session.view().calls.is_empty());
}

#[test]
fn once_the_service_confirms_an_unwatch_the_parked_list_is_gone_from_the_view() {
    let mut session = online_session();
    let watch = session.ask(WatchParked, ms(0));
    drain(&mut session);
    session.handle_frame(&reply(watch, ReplyBody::Done), ms(1));
    let list = Event::ParkedList { policy: None, park_off: None, calls: vec![] };
    session.handle_frame(&event(list), ms(1));
    assert_eq!(session.view().parked, Some(Default::default()));
    let unwatch = session.ask(UnwatchParked, ms(2));
    drain(&mut session);
    assert!(session.view().parked.is_some(), "changes still come until the service confirms");
    session.handle_frame(&reply(unwatch, ReplyBody::Done), ms(3));
    assert_eq!(drain(&mut session)[0], Output::ViewChanged);
    assert_eq!(session.view().parked, None, "a list no longer kept current is not shown");
}

fn lost_park(call: u64) -> EndedPark {
    EndedPark {
        call,
        code: 12,
        outcome: ParkOutcome::Lost,
        by: None,
        caller: user(4, "Dave"),
        ended_at_ms: 1_000,
    }
}

fn welcome_with_ended(ended: Vec<EndedPark>) -> ReplyBody {
    let ReplyBody::Welcome(mut welcome) = welcome() else { unreachable!() };
    welcome.ended_parks = ended;
    ReplyBody::Welcome(welcome)
}

fn told_ended(outputs: &[Output]) -> Vec<u64> {
    outputs
        .iter()
        .filter_map(|output| match output {
            Output::Notice(Notice::Event(Event::ParkEnded(ended))) => Some(ended.call),
            _ => None,
        })
        .collect()
}

#[test]
fn park_outcomes_from_the_welcome_are_shown_told_once_and_kept_until_acknowledged() {
    let mut session = Session::new("Bob's laptop");
    drain(&mut session);
    session.handle_connected(ms(0));
    let hello = sent(&drain(&mut session));
    session.handle_frame(&reply(id_of(&hello[0]), welcome_with_ended(vec![lost_park(5)])), ms(1));
    assert_eq!(told_ended(&drain(&mut session)), [5], "a new outcome is told to the shell");
    assert_eq!(session.view().ended_parks[&5], lost_park(5));

    // The connection drops; the service lists it again with another one: only the
    // new one is told, and an outcome acknowledged elsewhere meanwhile is gone.
    session.handle_closed(None, "gone", ms(2));
    drain(&mut session);
    session.handle_timeout(ms(2_000));
    drain(&mut session);
    session.handle_connected(ms(2_001));
    let hello = sent(&drain(&mut session));
    let again = welcome_with_ended(vec![lost_park(5), lost_park(6)]);
    session.handle_frame(&reply(id_of(&hello[0]), again), ms(2_002));
    assert_eq!(told_ended(&drain(&mut session)), [6], "a repeat is not told twice");
    session.handle_closed(None, "gone", ms(2_003));
    drain(&mut session);
    session.handle_timeout(ms(4_000));
    drain(&mut session);
    session.handle_connected(ms(4_001));
    let hello = sent(&drain(&mut session));
    session
        .handle_frame(&reply(id_of(&hello[0]), welcome_with_ended(vec![lost_park(6)])), ms(4_002));
    assert!(told_ended(&drain(&mut session)).is_empty());
    assert_eq!(session.view().ended_parks.keys().copied().collect::<Vec<_>>(), [6]);

    // Acknowledging it here: the request goes out, and the service's event clears it.
    let id = session.ask(AcknowledgeParkEnded { call: 6 }, ms(4_010));
    let asked = sent(&drain(&mut session));
    assert_eq!(asked[0]["type"], "acknowledge_park_ended");
    assert_eq!(asked[0]["call"], 6);
    session.handle_frame(&reply(id, ReplyBody::Done), ms(4_011));
    session.handle_frame(&event(Event::ParkEndedAcknowledged { call: 6 }), ms(4_011));
    assert_eq!(reply_to(&drain(&mut session), id), Ok(ReplyBody::Done));
    assert!(session.view().ended_parks.is_empty());
}
