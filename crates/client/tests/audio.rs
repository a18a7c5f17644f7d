//! Real audio end to end on 127.0.0.1: headless clients (tone sources, analysing
//! sinks) with real Opus over real WebRTC (str0m on both sides) through the
//! service's media anchor.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::time::{Duration, Instant};

use callpark_client::audio::decode_ogg_opus;
use callpark_client::intent::{Answer, Dial, HangUp, Park, Retrieve};
use callpark_client::{AdminClient, Connection, Engine, Notice, login};
use callpark_service::hold_music::SIGNATURE_HZ;
use callpark_wire::Event;

mod common;

use common::{FRAME, Phone, WITHIN, blocks_with, connect, service};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_in_a_call_hear_each_others_tone() {
    let (service, _data) = service().await;
    let bob = Phone::sign_in(&service, "bob", 440.0).await;
    let carol = Phone::sign_in(&service, "carol", 660.0).await;

    let ringing_from = Instant::now();
    let incoming = carol.event(|event| matches!(event, Event::IncomingCall { .. }).then_some(()));
    let call = bob.ask(Dial { to: "carol".into() }).await;
    incoming.await;
    let ringing = bob.listen(ringing_from, Duration::from_millis(900)).await;
    assert!(
        blocks_with(&ringing, 425.0, 0.7) > 0.3,
        "the caller hears the ringing tone while the callee rings"
    );

    carol.ask(Answer { call }).await;
    let answered = Instant::now() + Duration::from_millis(200);
    let bob_heard = bob.listen(answered, Duration::from_secs(1)).await;
    let carol_heard = carol.listen(answered, Duration::from_secs(1)).await;
    let at_bob = blocks_with(&bob_heard, 660.0, 0.7);
    let at_carol = blocks_with(&carol_heard, 440.0, 0.7);
    assert!(at_bob >= 0.9, "Bob hears Carol's 660 Hz in {at_bob:.2} of blocks");
    assert!(at_carol >= 0.9, "Carol hears Bob's 440 Hz in {at_carol:.2} of blocks");
    assert!(blocks_with(&bob_heard, 440.0, 0.3) == 0.0, "no echo of Bob's own tone");

    let stats = carol.media.stats().borrow().clone();
    assert!(stats.connected && stats.packets_received > 40, "{stats:?}");
    assert!(stats.loss < 0.05, "{stats:?}");
    assert!(stats.output_dbfs > -20.0, "{stats:?}");

    bob.ask(HangUp { call }).await;
    let hung_up = Instant::now() + Duration::from_millis(300);
    let after = carol.listen(hung_up, Duration::from_millis(400)).await;
    assert_eq!(blocks_with(&after, 440.0, 0.3), 0.0, "nothing is relayed after the hang-up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parked_caller_hears_hold_music_and_the_retriever_gets_their_voice_at_once() {
    let (service, _data) = service().await;
    let dave = Phone::sign_in(&service, "dave", 880.0).await;
    let bob = Phone::sign_in(&service, "bob", 440.0).await;
    let carol = Phone::sign_in(&service, "carol", 660.0).await;
    let call = connect(&dave, &bob, "bob").await;

    let code = bob.ask(Park { call }).await.code;
    let parked = Instant::now() + Duration::from_millis(200);
    let on_hold = dave.listen(parked, Duration::from_secs(2)).await;
    let with_signature = blocks_with(&on_hold, SIGNATURE_HZ, 0.05);
    assert!(with_signature >= 0.9, "hold music signature in {with_signature:.2} of blocks");
    assert_eq!(blocks_with(&on_hold, 440.0, 0.5), 0.0, "the parker is no longer heard");

    let received_before = carol.media.stats().borrow().packets_received;
    let asked = Instant::now();
    let retrieved = carol.ask(Retrieve { code: code.to_string() }).await;
    let replied = Instant::now();
    assert_eq!(retrieved.code, code);
    let arrivals = carol.media.arrivals();
    let first = tokio::time::timeout(WITHIN, async {
        loop {
            if let Some(first) = arrivals.first_after(asked) {
                return first;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .unwrap();
    let after_reply = first.saturating_duration_since(replied);
    // The parkee sends every 20 ms, so the reply can fall anywhere in its period. The
    // route switches before the reply leaves, so no frame the parkee sent after the
    // reply may be missing: the first one at the retriever is the parkee's first
    // departure after the reply (or an earlier one). Judged by order, not by a time
    // bound, because a busy machine can send a frame a few ms late without losing it.
    let departures = dave.media.departures();
    let sent = departures.last_before(first).unwrap();
    let transit = first.saturating_duration_since(sent);
    eprintln!(
        "retrieve reply -> first parkee packet at the retriever: {after_reply:?} \
         (that packet left the parkee {:?} after the reply; relay transit {transit:?})",
        sent.saturating_duration_since(replied)
    );
    // None yet: the frame at the retriever left before the reply, and none since.
    let first_sent_after_reply = departures.first_after(replied);
    assert!(
        first_sent_after_reply.is_none_or(|after| after >= sent),
        "a parkee frame sent {first_sent_after_reply:?} after the reply never reached the \
         retriever (the first that did left {:?} after it)",
        sent.saturating_duration_since(replied)
    );
    // One frame period: the relay forwards at once, it does not queue behind a frame.
    assert!(transit <= Duration::from_millis(20), "relay transit {transit:?}");
    assert_eq!(received_before, 0, "the retriever got nothing before the retrieve");

    let talking = carol.listen(replied, Duration::from_secs(1)).await;
    let voice = blocks_with(&talking, 880.0, 0.7);
    assert!(voice >= 0.85, "Carol hears Dave's tone in {voice:.2} of blocks");
    // The retriever's audio opened for the pickup: its first frame played soon after.
    let played = carol.media.first_played().first_after(asked).unwrap();
    eprintln!(
        "retrieve asked -> the retriever's audio open {:?}, first frame played {:?}",
        carol.media.audio_opened().first_after(asked).unwrap().saturating_duration_since(asked),
        played.saturating_duration_since(asked)
    );
    let music_at_carol = blocks_with(&talking, SIGNATURE_HZ, 0.05);
    assert_eq!(music_at_carol, 0.0, "no hold-music frame reaches the retriever");
    let dave_hears = dave.listen(Instant::now(), Duration::from_millis(600)).await;
    assert!(blocks_with(&dave_hears, 660.0, 0.7) >= 0.9, "Dave hears Carol");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voicemail_is_recorded_as_ogg_opus_and_its_owner_is_told() {
    let (service, data) = service().await;
    let dave = Phone::sign_in(&service, "dave", 880.0).await;
    // Alice is not signed in anywhere: the call goes to her voicemail at once.
    let started = dave.event(|event| matches!(event, Event::VoicemailStarted { .. }).then_some(()));
    let call = dave.ask(Dial { to: "alice".into() }).await;
    started.await;
    let greeting = dave.listen(Instant::now(), Duration::from_millis(2_000)).await;
    let beep = blocks_with(&greeting, 1_000.0, 0.7);
    assert!(beep >= 0.08, "the greeting ends with a 1 kHz beep ({beep:.2} of blocks)");

    let alice_token = login(&service, "alice", "alice-demo").await.unwrap().token;
    let alice = Engine::start(&service, &alice_token, "alice's laptop");
    alice.wait_for(WITHIN, |v| v.connection == Connection::Online).await.unwrap();
    let mut alice_events = alice.events();
    tokio::time::sleep(Duration::from_millis(1_000)).await; // Dave's tone is recorded
    dave.ask(HangUp { call }).await;

    let left = tokio::time::timeout(WITHIN, async {
        loop {
            if let Ok(Notice::Event(Event::VoicemailLeft { voicemail })) = alice_events.recv().await
            {
                return voicemail;
            }
        }
    })
    .await
    .unwrap();
    assert!(left.caller_name.as_deref().is_some_and(|name| name.starts_with("Dave")), "{left:?}");
    assert_eq!(left.call, call);
    assert!((800..=2_500).contains(&left.duration_ms), "{left:?}");

    let api = AdminClient::new(&service, &alice_token);
    let listed = api.voicemails().await.unwrap();
    assert_eq!(listed, vec![left.clone()]);
    #[cfg(unix)]
    {
        // People's messages are the service user's alone to read.
        use std::os::unix::fs::PermissionsExt;
        let directory = data.path().join(callpark_service::voicemail::VOICEMAIL_DIR);
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&directory), 0o700);
        for file in std::fs::read_dir(&directory).unwrap() {
            assert_eq!(mode(&file.unwrap().path()), 0o600);
        }
    }
    let audio = api.voicemail_audio(left.id).await.unwrap();
    let head = audio.windows(8).position(|w| w == b"OpusHead").expect("an OpusHead packet");
    assert_eq!(audio[head + 9], 1, "mono");
    let decoded = decode_ogg_opus(&audio).unwrap();
    assert_eq!(decoded.len() as u64 + 312, left.duration_ms * 48, "every packet is in the file");
    // Skip the start (the beep's tail and the codec settling); then it is Dave's tone.
    let tone = blocks_with(&decoded[FRAME * 10..], 880.0, 0.7);
    assert!(tone >= 0.9, "Dave's 880 Hz in {tone:.2} of the recording's blocks");

    let others =
        AdminClient::new(&service, &login(&service, "bob", "bob-demo").await.unwrap().token);
    let refused = others.voicemail_audio(left.id).await.unwrap_err();
    assert_eq!(refused.code(), "voicemail_not_found", "nobody else can fetch it");
    api.delete_voicemail(left.id).await.unwrap();
    assert!(api.voicemails().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_who_vanishes_while_leaving_a_message_is_still_named() {
    let (service, _data) = service().await;
    let dave = Phone::sign_in(&service, "dave", 880.0).await;
    let started = dave.event(|event| matches!(event, Event::VoicemailStarted { .. }).then_some(()));
    dave.ask(Dial { to: "alice".into() }).await;
    started.await;
    tokio::time::sleep(Duration::from_millis(2_500)).await; // the greeting, then the tone
    // Like Ctrl-C: the connection goes without a hang-up.
    dave.media.stop();
    dave.engine.stop().await;

    let alice_token = login(&service, "alice", "alice-demo").await.unwrap().token;
    let api = AdminClient::new(&service, &alice_token);
    let kept = tokio::time::timeout(WITHIN, async {
        loop {
            if let Some(kept) = api.voicemails().await.unwrap().pop() {
                return kept;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap();
    assert!(kept.caller_name.as_deref().is_some_and(|name| name.starts_with("Dave")), "{kept:?}");
    assert!(kept.caller_id.is_some(), "{kept:?}");
}
