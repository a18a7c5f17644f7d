//! The exchange end to end over its channels, with tokio's clock paused so that a
//! five-minute park timeout passes in an instant.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::time::Duration;

use callpark_park::{DeviceId, UserId};
use callpark_service::clock::Clock;
use callpark_service::exchange::{Departure, DeviceEvents, RestartedParks};
use callpark_service::media::MediaHandle;
use callpark_service::routing::{Route, route};
use callpark_service::store::{Ack, StoreWriter, Write};
use callpark_service::{ExchangeHandle, spawn};
use callpark_wire::*;
use tokio::sync::mpsc::UnboundedReceiver;

mod common;

use common::{ALICE, CAROL, DAVE};

struct Device {
    id: DeviceId,
    events: DeviceEvents,
    exchange: ExchangeHandle,
    next_id: u64,
}

impl Device {
    async fn sign_in(exchange: &ExchangeHandle, user: UserId, id: u64) -> Device {
        let id = DeviceId(id);
        let events = exchange.attach(user, id).await.unwrap();
        Device { id, events, exchange: exchange.clone(), next_id: 1 }
    }

    async fn ask(&mut self, body: RequestBody) -> Result<ReplyBody, ErrorBody> {
        let id = self.next_id;
        self.next_id += 1;
        let Route::Exchange { request, kind } = route(body) else {
            panic!("media offers go to the media anchor, not the exchange");
        };
        match self.exchange.request(self.id, id, kind, request).await {
            ServerMessage::Reply { id: Some(got), result } => {
                assert_eq!(got, id, "the reply carries the request's id");
                match result {
                    ReplyResult::Ok(body) => Ok(body),
                    ReplyResult::Error(error) => Err(error),
                }
            }
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    async fn next_event(&mut self) -> Event {
        match tokio::time::timeout(Duration::from_secs(3600), self.events.recv()).await {
            Ok(Some(event)) => *event,
            other => panic!("expected an event, got {other:?}"),
        }
    }
}

/// The exchange over the test tenant, its store played by the test: every write
/// arrives on the receiver, and a confirmed one waits until the test answers it. What
/// it asks of the media anchor is dropped.
fn exchange_with_store() -> (ExchangeHandle, UnboundedReceiver<(Write, Option<Ack>)>) {
    let (writer, writes) = StoreWriter::channel();
    let (media, routes) = MediaHandle::channel();
    drop(routes);
    (spawn(common::tenant(), writer, RestartedParks::default(), media, Clock::start()), writes)
}

/// The exchange over a pretend store that commits every write at once; what it
/// stores arrives on the receiver.
fn exchange() -> (ExchangeHandle, UnboundedReceiver<Write>) {
    let (exchange, mut store) = exchange_with_store();
    let (kept, writes) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some((write, ack)) = store.recv().await {
            if let Some(ack) = ack {
                let _ = ack.send(Ok(()));
            }
            let _ = kept.send(write);
        }
    });
    (exchange, writes)
}

/// The writes the exchange made so far.
fn writes_so_far(writes: &mut UnboundedReceiver<Write>) -> Vec<Write> {
    std::iter::from_fn(|| writes.try_recv().ok()).collect()
}

/// Plays the store committing one step of the exchange: takes writes up to the
/// step's confirmed barrier, answers it, and returns them.
async fn commit_a_step(store: &mut UnboundedReceiver<(Write, Option<Ack>)>) -> Vec<Write> {
    let mut step = Vec::new();
    loop {
        let next = tokio::time::timeout(Duration::from_secs(30), store.recv()).await;
        let (write, ack) = next
            .expect("the exchange asks the store to confirm each step that wrote")
            .expect("the exchange writes");
        step.push(write);
        if let Some(ack) = ack {
            let _ = ack.send(Ok(()));
            return step;
        }
    }
}

fn name(user: &UserRef) -> &str {
    &user.name
}

#[tokio::test(start_paused = true)]
async fn park_retrieve_and_ringback_through_the_exchange() {
    let (exchange, mut writes) = exchange();
    let mut alice = Device::sign_in(&exchange, ALICE, 11).await;
    let mut carol = Device::sign_in(&exchange, CAROL, 31).await;
    let mut dave = Device::sign_in(&exchange, DAVE, 41).await;

    let welcome = alice
        .ask(RequestBody::Hello {
            protocol: PROTOCOL_VERSION,
            device_name: "Desk".into(),
            resume: None,
        })
        .await;
    assert!(
        matches!(&welcome, Ok(ReplyBody::Welcome(w)) if matches!(&**w, Welcome { user, policy: Some(policy), park_off: None, .. }
        if user.name == "Alice" && policy == "Tag:Sales")),
        "{welcome:?}"
    );
    let welcome = dave
        .ask(RequestBody::Hello {
            protocol: PROTOCOL_VERSION,
            device_name: "Desk".into(),
            resume: None,
        })
        .await;
    assert!(
        matches!(&welcome, Ok(ReplyBody::Welcome(w)) if matches!(&**w, Welcome { policy: None, park_off: Some(why), .. }
        if why.code == "park_not_allowed")),
        "{welcome:?}"
    );
    let refused = dave
        .ask(RequestBody::Hello { protocol: 99, device_name: "Old".into(), resume: None })
        .await;
    assert_eq!(refused.unwrap_err().code, "protocol_unsupported");

    // Dave calls Alice; Alice answers.
    let Ok(ReplyBody::Dialing { call }) = dave.ask(RequestBody::Dial { to: "Alice".into() }).await
    else {
        panic!("dial failed")
    };
    assert!(
        matches!(alice.next_event().await, Event::IncomingCall { from, .. } if name(&from) == "Dave")
    );
    assert!(
        matches!(dave.next_event().await, Event::Ringing { callee, .. } if name(&callee) == "Alice")
    );
    alice.ask(RequestBody::Answer { call }).await.unwrap();
    assert!(
        matches!(alice.next_event().await, Event::Connected { peer, .. } if name(&peer) == "Dave")
    );
    assert!(matches!(dave.next_event().await, Event::Connected { .. }));

    // Alice parks: she gets the code; Dave is on hold.
    let parked = alice.ask(RequestBody::Park { call }).await.unwrap();
    let ReplyBody::Parked { code, ringback_at_ms, .. } = parked else { panic!("{parked:?}") };
    assert_eq!(code, 10);
    assert_eq!(alice.next_event().await, Event::CallEnded { call, reason: CallEndReason::Parked });
    assert!(
        matches!(alice.next_event().await, Event::CallParked { code: 10, ringback_at_ms: at, .. } if at == ringback_at_ms)
    );
    assert_eq!(dave.next_event().await, Event::OnHold { call });

    // Wrong codes get their own messages; Carol picks the call up.
    assert_eq!(
        carol.ask(RequestBody::Retrieve { code: "1x".into() }).await.unwrap_err().code,
        "code_invalid"
    );
    assert_eq!(
        carol.ask(RequestBody::Retrieve { code: "55".into() }).await.unwrap_err().code,
        "code_not_found"
    );
    let got = carol.ask(RequestBody::Retrieve { code: " 10 ".into() }).await.unwrap();
    assert!(
        matches!(&got, ReplyBody::Retrieved { caller, parked_by, .. }
        if caller.name == "Dave" && parked_by.name == "Alice"),
        "{got:?}"
    );
    assert!(
        matches!(carol.next_event().await, Event::Connected { peer, .. } if name(&peer) == "Dave")
    );
    assert!(
        matches!(dave.next_event().await, Event::Connected { peer, .. } if name(&peer) == "Carol")
    );
    assert!(matches!(alice.next_event().await,
        Event::ParkEnded(EndedPark { outcome: ParkOutcome::Retrieved, by: Some(by), .. })
            if by.name == "Carol"));
    let late = alice.ask(RequestBody::Retrieve { code: "10".into() }).await.unwrap_err();
    assert_eq!(
        (late.code.as_str(), late.message.as_str()),
        ("already_retrieved", "Picked up by Carol 0 s ago.")
    );

    // The registry saw the park come and go; the audit log saw every attempt.
    let stored = writes_so_far(&mut writes);
    let saved: Vec<_> = stored
        .iter()
        .filter_map(|write| match write {
            Write::SaveParked(row) => Some((row.call.0, row.code, row.policy.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(saved, vec![(call, 10, "Tag:Sales")]);
    assert!(stored.iter().any(|write| matches!(write,
        Write::ParkEnded(ended) if ended.call.0 == call
            && ended.outcome == callpark_park::ParkOutcome::Retrieved { by: common::CAROL })));
    let audited: Vec<_> = stored
        .iter()
        .filter_map(|write| match write {
            Write::Audit(row) => Some((row.kind, row.user_login.as_deref())),
            _ => None,
        })
        .collect();
    assert_eq!(
        audited,
        vec![
            ("parked", Some("alice")),
            ("retrieve_refused", Some("carol")),
            ("retrieved", Some("carol")),
            ("retrieve_refused", Some("alice")),
        ]
    );

    // Carol parks Dave again; nobody picks up: after 300 s Carol's device rings back.
    let ReplyBody::Parked { code, .. } = carol.ask(RequestBody::Park { call }).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(code, 11);
    assert!(matches!(carol.next_event().await, Event::CallEnded { .. }));
    assert!(matches!(carol.next_event().await, Event::CallParked { .. }));
    tokio::time::advance(Duration::from_secs(299)).await;
    tokio::task::yield_now().await;
    assert!(carol.events.try_recv().is_err(), "no ringback before the timeout");
    assert!(
        matches!(carol.next_event().await, Event::Ringback { code: 11, caller, .. } if caller.name == "Dave")
    );
    // Unanswered for 20 s: Carol's voicemail takes the call.
    assert!(matches!(
        carol.next_event().await,
        Event::RingingStopped { reason: RingingStopReason::Unanswered, .. }
    ));
    assert!(matches!(
        carol.next_event().await,
        Event::ParkEnded(EndedPark { outcome: ParkOutcome::Voicemail, .. })
    ));
    assert!(matches!(dave.next_event().await, Event::OnHold { .. }));
    assert!(
        matches!(dave.next_event().await, Event::VoicemailStarted { owner, .. } if owner.name == "Carol")
    );
}

#[tokio::test(start_paused = true)]
async fn the_live_list_and_a_lost_device_through_the_exchange() {
    let (exchange, _writes) = exchange();
    let mut alice = Device::sign_in(&exchange, ALICE, 11).await;
    let mut carol = Device::sign_in(&exchange, CAROL, 31).await;
    let mut dave = Device::sign_in(&exchange, DAVE, 41).await;

    carol.ask(RequestBody::SubscribeParked).await.unwrap();
    assert!(
        matches!(carol.next_event().await, Event::ParkedList { policy: Some(p), park_off: None, calls } if p == "Tag:Sales" && calls.is_empty())
    );
    dave.ask(RequestBody::SubscribeParked).await.unwrap();
    assert!(matches!(
        dave.next_event().await,
        Event::ParkedList { policy: None, park_off: Some(why), .. }
            if why.message == "Call park is not enabled for you. Ask your admin to assign a call park policy."
    ));

    let Ok(ReplyBody::Dialing { call }) = dave.ask(RequestBody::Dial { to: "alice".into() }).await
    else {
        panic!()
    };
    alice.ask(RequestBody::Answer { call }).await.unwrap();
    alice.ask(RequestBody::Park { call }).await.unwrap();
    assert!(
        matches!(carol.next_event().await, Event::ParkedCallAdded { parked } if parked.code == 10 && parked.caller.name == "Dave")
    );

    // Dave signs off while parked: the list and the parker are told.
    exchange.detach(dave.id, dave.id, Departure::SignedOff).await;
    assert_eq!(carol.next_event().await, Event::ParkedCallRemoved { call, code: 10 });
    let mut saw_caller_left = false;
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(10), alice.events.recv()).await
    {
        saw_caller_left |=
            matches!(*event, Event::ParkEnded(EndedPark { outcome: ParkOutcome::CallerLeft, .. }));
    }
    assert!(saw_caller_left);

    // Requests from a device that is gone, or for users that do not exist.
    let gone = dave.ask(RequestBody::Ping).await;
    assert_eq!(gone, Ok(ReplyBody::Pong), "ping needs no signed-in device");
    let unknown = alice.ask(RequestBody::Dial { to: "nobody".into() }).await.unwrap_err();
    assert_eq!(unknown.code, "user_not_found");
    assert!(unknown.message.contains("\"nobody\""));
}

#[tokio::test(start_paused = true)]
async fn replies_and_events_wait_until_the_store_has_committed_what_they_tell() {
    let (exchange, mut store) = exchange_with_store();
    let mut alice = Device::sign_in(&exchange, ALICE, 11).await;
    let mut dave = Device::sign_in(&exchange, DAVE, 41).await;
    for device in [&mut alice, &mut dave] {
        let hello = RequestBody::Hello {
            protocol: PROTOCOL_VERSION,
            device_name: "Desk".into(),
            resume: None,
        };
        device.ask(hello).await.unwrap();
    }

    // The first call reserves a block of call ids before anyone hears of it.
    let (dialing, written) =
        tokio::join!(dave.ask(RequestBody::Dial { to: "alice".into() }), commit_a_step(&mut store));
    let Ok(ReplyBody::Dialing { call }) = dialing else { panic!("{dialing:?}") };
    assert!(
        written.contains(&Write::ReserveCallIds(callpark_park::CallId(
            call + callpark_park::CALL_ID_BLOCK - 1
        ))),
        "{written:?}"
    );
    assert!(matches!(alice.next_event().await, Event::IncomingCall { .. }));
    // The answer is kept (with both devices' resume tokens, for a restart) before
    // it is acknowledged.
    let (answered, written) =
        tokio::join!(alice.ask(RequestBody::Answer { call }), commit_a_step(&mut store));
    answered.unwrap();
    assert!(
        written.iter().any(|write| matches!(write, Write::SaveConnected(row)
            if row.call.0 == call
                && row.a.resume_digest.is_some()
                && row.b.resume_digest.is_some())),
        "{written:?}"
    );
    assert!(matches!(alice.next_event().await, Event::Connected { .. }));
    assert!(matches!(dave.next_event().await, Event::Ringing { .. }));
    assert!(matches!(dave.next_event().await, Event::Connected { .. }));

    // Alice parks. Until the store says the park is kept, nobody hears of it.
    let park = alice.ask(RequestBody::Park { call });
    tokio::pin!(park);
    let waited = tokio::time::timeout(Duration::from_secs(30), &mut park).await;
    assert!(waited.is_err(), "the park was answered before it was kept: {waited:?}");
    assert!(dave.events.try_recv().is_err(), "the caller heard of the park before it was kept");
    let written = commit_a_step(&mut store).await;
    assert!(
        written.iter().any(|write| matches!(write, Write::SaveParked(row) if row.call.0 == call)),
        "{written:?}"
    );
    assert!(written.contains(&Write::ForgetConnected(callpark_park::CallId(call))), "{written:?}");
    let parked = park.await.unwrap();
    assert!(matches!(parked, ReplyBody::Parked { call: parked, .. } if parked == call));
    assert_eq!(dave.next_event().await, Event::OnHold { call });

    // A request that changes nothing is not held up by the store.
    let pong = tokio::time::timeout(Duration::from_secs(1), dave.ask(RequestBody::Ping)).await;
    assert_eq!(pong.expect("ping answered at once"), Ok(ReplyBody::Pong));
}
