//! The call audio opens only while a phone is a party to a call: headless phones
//! whose test audio counts its opening and closing, against a real service whose
//! media anchor counts the packets that reach it.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use callpark_client::intent::{Answer, Decline, Dial, HangUp, Park, Retrieve};
use callpark_wire::Event;

mod common;

use common::{Phone, WITHIN, blocks_with, connect, service_with_media};

/// Waits (up to `within`) for `ready`; when it became true.
async fn when(within: Duration, ready: impl Fn() -> bool) -> Option<Instant> {
    let until = Instant::now() + within;
    loop {
        if ready() {
            return Some(Instant::now());
        }
        if Instant::now() >= until {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_idle_phone_opens_no_audio_and_sends_nothing() {
    let (service, _data, media) = service_with_media().await;
    let bob = Phone::sign_in(&service, "bob", 440.0).await;
    assert!(bob.media.stats().borrow().connected, "the peer connection is up");

    tokio::time::sleep(Duration::from_secs(5)).await;

    let counters = media.counters().await.unwrap();
    assert_eq!(counters.rtp_received, 0, "no RTP from an idle phone in 5 s: {counters:?}");
    assert_eq!(bob.test_audio().opens.load(Ordering::SeqCst), 0, "the audio was never opened");
    let stats = bob.media.stats().borrow().clone();
    assert!(stats.connected, "consent checks keep the peer connection up: {stats:?}");
    assert!(!stats.microphone_open && stats.packets_sent == 0, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_phones_keep_their_path_with_a_check_every_ten_seconds_and_call_at_once() {
    let (service, _data, media) = service_with_media().await;
    let bob = Phone::sign_in(&service, "bob", 440.0).await;
    let carol = Phone::sign_in(&service, "carol", 660.0).await;
    // Past the connection's own checks and handshake.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = media.counters().await.unwrap();
    tokio::time::sleep(Duration::from_secs(21)).await;
    let after = media.counters().await.unwrap();

    // str0m's own schedule would be ~7 checks each in 21 s and RTCP both ways.
    let checks = after.stun_received - before.stun_received;
    assert!((2..=6).contains(&checks), "two phones, 2 or 3 checks each in 21 s: {after:?}");
    assert_eq!(after.rtcp_received, before.rtcp_received, "idle phones send no reports");
    assert!(after.rtcp_withheld_idle > before.rtcp_withheld_idle, "nor does the anchor");
    assert_eq!(after.rtp_received, 0);
    for phone in [&bob, &carol] {
        assert!(phone.media.stats().borrow().connected, "still connected after 21 s idle");
    }

    // A path idle that long carries a call at once.
    connect(&bob, &carol, "carol").await;
    when(WITHIN, || carol.test_audio().is_open()).await.expect("the callee's audio opens");
    let heard = carol.listen(Instant::now() + Duration::from_millis(100), Duration::from_secs(1));
    assert!(blocks_with(&heard.await, 440.0, 0.7) >= 0.9, "Carol hears Bob");
    // Reports come back on str0m's schedule (every 5 s) in a call.
    let until = Instant::now() + Duration::from_secs(6);
    while media.counters().await.unwrap().rtcp_received == after.rtcp_received {
        assert!(Instant::now() < until, "no RTCP report 6 s into a call");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_opens_the_audio_and_a_hang_up_closes_it_at_once() {
    let (service, _data, media) = service_with_media().await;
    let bob = Phone::sign_in(&service, "bob", 440.0).await;
    let carol = Phone::sign_in(&service, "carol", 660.0).await;

    let incoming = carol.event(|event| match event {
        Event::IncomingCall { call, .. } => Some(*call),
        _ => None,
    });
    let call = bob.ask(Dial { to: "carol".into() }).await;
    incoming.await;
    when(WITHIN, || bob.test_audio().is_open()).await.expect("the caller's audio opens to dial");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        carol.test_audio().opens.load(Ordering::SeqCst),
        0,
        "a ringing phone has not opened its audio"
    );

    carol.ask(Answer { call }).await;
    when(WITHIN, || carol.test_audio().is_open()).await.expect("the callee's audio opens");
    let heard = carol.listen(Instant::now() + Duration::from_millis(200), Duration::from_secs(1));
    assert!(blocks_with(&heard.await, 440.0, 0.7) >= 0.9, "Carol hears Bob");
    let in_call = media.counters().await.unwrap();
    assert!(in_call.rtp_relayed > 50, "packets flow both ways: {in_call:?}");
    let stats = carol.media.stats().borrow().clone();
    assert!(stats.microphone_open && stats.packets_sent > 0, "{stats:?}");

    let asked = Instant::now();
    bob.ask(HangUp { call }).await;
    let bob_closed = when(Duration::from_secs(1), || !bob.test_audio().is_open()).await.unwrap();
    let carol_closed =
        when(Duration::from_secs(1), || !carol.test_audio().is_open()).await.unwrap();
    let limit = Duration::from_millis(100);
    assert!(bob_closed - asked <= limit, "Bob's audio closed {:?} after", bob_closed - asked);
    assert!(carol_closed - asked <= limit, "Carol's audio closed {:?} after", carol_closed - asked);
    // A packet already on its way when the audio closed may still land.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let settled = media.counters().await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = media.counters().await.unwrap();
    assert_eq!(after.rtp_received, settled.rtp_received, "no packet after the hang-up");
    for phone in [&bob, &carol] {
        let closed = phone.media.audio_closed().first_after(asked).unwrap();
        assert!(phone.media.departures().first_after(closed).is_none(), "sent after closing");
        let stats = phone.media.stats().borrow().clone();
        assert!(stats.connected && !stats.microphone_open, "{stats:?}");
        assert_eq!(stats.packets_sent, 0, "the statistics are the current call's: {stats:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_call_never_opens_the_callees_audio() {
    let (service, _data, _media) = service_with_media().await;
    let bob = Phone::sign_in(&service, "bob", 440.0).await;
    let carol = Phone::sign_in(&service, "carol", 660.0).await;
    let incoming = carol.event(|event| match event {
        Event::IncomingCall { call, .. } => Some(*call),
        _ => None,
    });
    bob.ask(Dial { to: "carol".into() }).await;
    let call = incoming.await;
    let to_voicemail =
        bob.event(|event| matches!(event, Event::VoicemailStarted { .. }).then_some(()));
    carol.ask(Decline { call }).await;
    // Declined, the call goes to Carol's voicemail: Bob still talks, Carol never did.
    to_voicemail.await;
    when(Duration::from_secs(1), || bob.test_audio().is_open())
        .await
        .expect("the caller leaves a message");
    let asked = Instant::now();
    bob.ask(HangUp { call }).await;
    let closed = when(Duration::from_secs(1), || !bob.test_audio().is_open()).await.unwrap();
    assert!(closed - asked <= Duration::from_millis(100), "closed {:?} after", closed - asked);
    assert_eq!(carol.test_audio().opens.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parker_closes_the_audio_and_a_retriever_opens_it() {
    let (service, _data, _media) = service_with_media().await;
    let dave = Phone::sign_in(&service, "dave", 880.0).await;
    let bob = Phone::sign_in(&service, "bob", 440.0).await;
    let carol = Phone::sign_in(&service, "carol", 660.0).await;
    let call = connect(&dave, &bob, "bob").await;
    when(WITHIN, || bob.test_audio().is_open()).await.unwrap();

    let asked = Instant::now();
    let code = bob.ask(Park { call }).await.code;
    let closed = when(Duration::from_secs(1), || !bob.test_audio().is_open()).await.unwrap();
    assert!(closed - asked <= Duration::from_millis(100), "closed {:?} after", closed - asked);
    assert!(dave.test_audio().is_open(), "the parked caller keeps hearing (hold music)");
    assert_eq!(carol.test_audio().opens.load(Ordering::SeqCst), 0);

    carol.ask(Retrieve { code: code.to_string() }).await;
    when(Duration::from_secs(1), || carol.test_audio().is_open())
        .await
        .expect("the retriever's audio opens");
    let talking = carol.listen(Instant::now() + Duration::from_millis(100), Duration::from_secs(1));
    assert!(blocks_with(&talking.await, 880.0, 0.7) >= 0.9, "Carol hears Dave");
    assert_eq!(bob.test_audio().opens.load(Ordering::SeqCst), 1, "the parker stays closed");
}
