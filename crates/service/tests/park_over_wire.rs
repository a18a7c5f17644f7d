//! Park rules end to end over real sockets and a real SQLite store: a race of 100
//! retrievers, disconnects at each state, the audit log, and a restart with calls
//! parked.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::time::Duration;

use callpark_wire::*;
use common::{Client, Server, TestServer};
use futures_util::future::join_all;
use serde_json::{Value, json};

async fn park(parker: &mut Client, call: u64) -> u16 {
    let mut events = Vec::new();
    match parker.ask(RequestBody::Park { call }, &mut events).await {
        ReplyResult::Ok(ReplyBody::Parked { code, .. }) => code,
        other => panic!("park failed: {other:?}"),
    }
}

async fn retrieve(client: &mut Client, code: u16) -> ReplyResult {
    client.ask(RequestBody::Retrieve { code: code.to_string() }, &mut Vec::new()).await
}

/// Waits for the first event that matches, skipping others.
async fn event_where(client: &mut Client, wanted: impl Fn(&Event) -> bool) -> Event {
    for _ in 0..50 {
        let event = client.event().await;
        if wanted(&event) {
            return event;
        }
    }
    panic!("the expected event did not come")
}

async fn admin_get(server: &Server, path: &str) -> Value {
    let token = server.token("alice").await;
    reqwest::Client::new()
        .get(server.0.http(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_100_concurrent_retrievers_exactly_one_gets_the_call() {
    let server = Server::start().await;
    let token = server.token("alice").await;
    let http = reqwest::Client::new();
    // Ten more users with park on, ten devices each: 100 retrievers.
    let logins: Vec<String> = (0..10).map(|n| format!("picker{n}")).collect();
    for login in &logins {
        let created = http
            .post(server.0.http("/api/v1/users"))
            .bearer_auth(&token)
            .json(
                &json!({"login": login, "display_name": login, "password": common::password(login),
                "enterprise_voice": true}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let granted = http
            .post(server.0.http("/api/v1/grants"))
            .bearer_auth(&token)
            .json(&json!({"policy": "Sales", "user": login}))
            .send()
            .await
            .unwrap();
        assert_eq!(granted.status(), 200);
    }
    let mut retrievers = Vec::new();
    for login in &logins {
        for _ in 0..10 {
            retrievers.push(server.connect(login).await);
        }
    }
    let mut alice = server.connect("alice").await;
    let mut dave = server.connect("dave").await;
    let call = dave.call_answered_by(&mut alice, "alice").await;
    let code = park(&mut alice, call).await;

    let outcomes = join_all(retrievers.iter_mut().map(|client| retrieve(client, code))).await;
    let won: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o, ReplyResult::Ok(ReplyBody::Retrieved { .. })))
        .collect();
    assert_eq!(won.len(), 1, "exactly one retriever gets the call");
    let lost: Vec<&ErrorBody> = outcomes
        .iter()
        .filter_map(|o| match o {
            ReplyResult::Error(error) => Some(error),
            ReplyResult::Ok(_) => None,
        })
        .collect();
    assert_eq!(lost.len(), 99);
    for error in lost {
        assert_eq!(error.code, "already_retrieved", "{error:?}");
        assert!(error.message.starts_with("Picked up by picker"), "{}", error.message);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnects_while_parked_lose_nothing_and_leave_no_stale_code() {
    let server = Server::start().await;
    let mut carol = server.connect("carol").await;
    let subscribed = carol.ask(RequestBody::SubscribeParked, &mut Vec::new()).await;
    assert_eq!(subscribed, ReplyResult::Ok(ReplyBody::Done));
    assert!(matches!(carol.event().await, Event::ParkedList { calls, .. } if calls.is_empty()));

    // The parker leaves after parking: the call waits, and carol picks it up.
    let mut alice = server.connect("alice").await;
    let mut dave = server.connect("dave").await;
    let call = dave.call_answered_by(&mut alice, "alice").await;
    let code = park(&mut alice, call).await;
    alice.close().await;
    event_where(&mut carol, |e| matches!(e, Event::ParkedCallAdded { .. })).await;
    let got = retrieve(&mut carol, code).await;
    assert!(matches!(got, ReplyResult::Ok(ReplyBody::Retrieved { .. })), "{got:?}");
    event_where(&mut dave, |e| matches!(e, Event::Connected { peer, .. } if peer.name == "Carol"))
        .await;
    let hangup = carol.ask(RequestBody::Hangup { call }, &mut Vec::new()).await;
    assert_eq!(hangup, ReplyResult::Ok(ReplyBody::Done));

    // The parked caller leaves: the code is gone from the list and refused with why.
    let mut alice = server.connect("alice").await;
    let call = dave.call_answered_by(&mut alice, "alice").await;
    let code = park(&mut alice, call).await;
    dave.close().await;
    event_where(&mut alice, |e| {
        matches!(e, Event::ParkEnded(EndedPark { outcome: ParkOutcome::CallerLeft, .. }))
    })
    .await;
    event_where(
        &mut carol,
        |e| matches!(e, Event::ParkedCallRemoved { code: c, .. } if *c == code),
    )
    .await;
    let stale = retrieve(&mut carol, code).await;
    assert!(
        matches!(&stale, ReplyResult::Error(e) if e.code == "code_expired" && e.message.contains("hung up")),
        "{stale:?}"
    );

    // A retriever who drops right after asking: the call is theirs or still parked,
    // never both, never neither.
    let mut dave = server.connect("dave").await;
    let call = dave.call_answered_by(&mut alice, "alice").await;
    let code = park(&mut alice, call).await;
    let mut hasty = server.connect("carol").await;
    hasty
        .send_text(
            serde_json::to_string(&Request {
                id: 1,
                body: RequestBody::Retrieve { code: code.to_string() },
            })
            .unwrap(),
        )
        .await;
    hasty.close().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = retrieve(&mut carol, code).await;
    match &second {
        ReplyResult::Ok(ReplyBody::Retrieved { .. }) => {}
        ReplyResult::Error(e) if e.code == "already_retrieved" => {
            // The hasty device got it and left: the caller is told, not left hanging.
            event_where(&mut dave, |e| {
                matches!(e, Event::CallEnded { reason: CallEndReason::PeerLost, .. })
            })
            .await;
        }
        other => panic!("unexpected: {other:?}"),
    }
    let list = admin_get(&server, "/api/v1/audit?kind=retrieved").await;
    assert!(list.as_array().unwrap().len() >= 2, "{list}");
    // The policy is named as anywhere else: bare, any case, or with its prefix.
    let by_identity = admin_get(&server, "/api/v1/audit?policy=Tag:Sales").await;
    assert!(!by_identity.as_array().unwrap().is_empty(), "{by_identity}");
    for name in ["Sales", "sALES", "tag:sales"] {
        let by_name = admin_get(&server, &format!("/api/v1/audit?policy={name}")).await;
        assert_eq!(by_name, by_identity, "policy={name}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_query_right_after_a_park_finds_it() {
    let server = Server::start().await;
    let token = server.token("alice").await;
    let http = reqwest::Client::new();
    let mut alice = server.connect("alice").await;
    let mut dave = server.connect("dave").await;
    let call = dave.call_answered_by(&mut alice, "alice").await;
    for round in 0..10 {
        let code = park(&mut alice, call).await;
        // Asked the moment the park is answered: the line is already kept.
        let newest: Value = http
            .get(server.0.http("/api/v1/audit?kind=parked&limit=1"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(newest[0]["code"], code, "round {round}: {newest}");
        assert!(matches!(retrieve(&mut alice, code).await, ReplyResult::Ok(_)));
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parker_who_drops_during_ringback_sends_the_call_to_their_fallback() {
    let data = common::tenant_data_dir().await;
    let mut config = common::config_for(&data);
    config.test_clock_speedup = 1000; // 300 s park timeout → 0.3 s
    let server = Server(TestServer::start_with(data, config).await);
    let mut alice = server.connect("alice").await;
    let mut dave = server.connect("dave").await;
    let call = dave.call_answered_by(&mut alice, "alice").await;
    park(&mut alice, call).await;
    event_where(&mut alice, |e| matches!(e, Event::Ringback { .. })).await;
    alice.close().await;
    let owner = event_where(&mut dave, |e| matches!(e, Event::VoicemailStarted { .. })).await;
    assert!(matches!(owner, Event::VoicemailStarted { owner, .. } if owner.name == "Alice"));
    let audit = admin_get(&server, "/api/v1/audit").await;
    let kinds: Vec<&str> =
        audit.as_array().unwrap().iter().map(|line| line["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["fell_back", "rang_back", "parked"], "newest first");
    assert_eq!(audit[0]["detail"], "voicemail");
    assert_eq!(audit[2]["user"], "alice");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_parks_that_cannot_be_kept_are_reported_lost_and_their_codes_held() {
    let server = Server::start().await;
    let mut alice = server.connect("alice").await;
    let mut dave = server.connect("dave").await;
    let call = dave.call_answered_by(&mut alice, "alice").await;
    let code = park(&mut alice, call).await;
    let data = server.stop().await;
    // A record without its caller's device (as an older version kept them): the
    // caller cannot come back to it, so it cannot be kept.
    let database = data.path().join(callpark_service::store::DATABASE_FILE);
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&database);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::query("UPDATE parked_calls SET caller_device = NULL, resume_digest = NULL")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let server = Server(TestServer::start_in(data).await);
    // Carol signs in first: not her park, nothing to hear.
    let (_carol, carol_events) = server.connect_with_events("carol").await;
    assert!(carol_events.is_empty(), "{carol_events:?}");
    let (mut alice, welcome) = server.connect_welcomed("alice").await;
    let lost = EndedPark {
        call,
        code,
        outcome: ParkOutcome::Lost,
        by: None,
        caller: welcome.ended_parks[0].caller.clone(),
        ended_at_ms: welcome.ended_parks[0].ended_at_ms,
    };
    assert_eq!(
        welcome.ended_parks,
        std::slice::from_ref(&lost),
        "the parker's welcome lists the lost park"
    );
    assert_eq!(lost.caller.name, "Dave");
    // Whoever has the code is told, in plain words, that the call was lost.
    let (mut carol, _) = server.connect_with_events("carol").await;
    let gone = retrieve(&mut carol, code).await;
    assert!(
        matches!(&gone, ReplyResult::Error(e) if e.code == "code_lost"
            && e.message.contains("was lost when the service restarted")
            && e.message.contains(&format!("code {code}"))),
        "{gone:?}"
    );
    // New calls never reuse the lost call's id, and new parks not its code.
    let mut dave = server.connect("dave").await;
    let new_call = dave.call_answered_by(&mut alice, "alice").await;
    assert!(new_call > call, "{new_call} after {call}");
    assert_ne!(park(&mut alice, new_call).await, code, "the lost code is held");
    let audit = admin_get(&server, "/api/v1/audit?kind=lost").await;
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
    assert_eq!(audit[0]["code"], code);
    let data = server.stop().await;

    // Kept until acknowledged: after another restart every device of Alice's still
    // hears of it; one acknowledges, the other is told, and it is gone for good.
    let server = Server(TestServer::start_in(data).await);
    let (mut phone, welcome) = server.connect_welcomed("alice").await;
    assert_eq!(welcome.ended_parks, std::slice::from_ref(&lost));
    let (mut desk, welcome) = server.connect_welcomed("alice").await;
    assert_eq!(
        welcome.ended_parks,
        std::slice::from_ref(&lost),
        "every device, not the first only"
    );
    let (mut carol, _) = server.connect_with_events("carol").await;
    let theirs = carol.ask(RequestBody::AcknowledgeParkEnded { call }, &mut Vec::new()).await;
    assert!(
        matches!(&theirs, ReplyResult::Error(e) if e.code == "park_outcome_not_found"),
        "not Carol's to acknowledge: {theirs:?}"
    );
    let done = phone.ask(RequestBody::AcknowledgeParkEnded { call }, &mut Vec::new()).await;
    assert_eq!(done, ReplyResult::Ok(ReplyBody::Done));
    let told = event_where(&mut desk, |e| matches!(e, Event::ParkEndedAcknowledged { .. })).await;
    assert_eq!(told, Event::ParkEndedAcknowledged { call });
    let again = phone.ask(RequestBody::AcknowledgeParkEnded { call }, &mut Vec::new()).await;
    assert!(matches!(&again, ReplyResult::Error(e) if e.code == "park_outcome_not_found"));
    let data = server.stop().await;
    let server = Server(TestServer::start_in(data).await);
    let (_alice, welcome) = server.connect_welcomed("alice").await;
    assert!(welcome.ended_parks.is_empty(), "{:?}", welcome.ended_parks);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parker_offline_when_the_park_ends_learns_the_outcome_on_the_next_device_to_connect() {
    let server = Server::start().await;
    let mut alice = server.connect("alice").await;
    let mut dave = server.connect("dave").await;
    let call = dave.call_answered_by(&mut alice, "alice").await;
    let code = park(&mut alice, call).await;
    alice.close().await;
    let mut carol = server.connect("carol").await;
    assert!(matches!(retrieve(&mut carol, code).await, ReplyResult::Ok(_)));
    let (_laptop, welcome) = server.connect_welcomed("alice").await;
    let [ended] = welcome.ended_parks.as_slice() else {
        panic!("one outcome: {:?}", welcome.ended_parks)
    };
    assert_eq!((ended.call, ended.code, ended.outcome), (call, code, ParkOutcome::Retrieved));
    assert_eq!(ended.by.as_ref().map(|by| by.name.as_str()), Some("Carol"));
    assert_eq!(ended.caller.name, "Dave");
    server.stop().await;
}
