//! Ringback after the park timeout, and the parker's unanswered setting after that.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use callpark_park::*;
use common::*;

#[test]
fn ringback_rings_every_parker_device_at_the_timeout_and_not_before() {
    let mut world = World::new();
    let (call, receipt) = world.parked_by_alice();
    world.take();
    assert_eq!(world.sb.poll_timeout(), Some(receipt.ringback_at));
    world.advance_to_next_timer();
    let out = world.take();
    let ring = Notice::Ringback { call, code: 10, caller: DAVE };
    assert_eq!(notices_to(&out, A1), vec![ring.clone()]);
    assert_eq!(notices_to(&out, A2), vec![ring]);
    assert_eq!(audits(&out), vec![AuditKind::RangBack]);
    assert!(media(&out).is_empty(), "the caller keeps hearing hold music");
    assert_eq!(world.sb.poll_timeout(), Some(world.now.after(secs(20))));
}

#[test]
fn the_code_stays_retrievable_while_ringing_back_and_retrieval_stops_the_ringing() {
    let mut world = World::new();
    let (call, _) = world.parked_by_alice();
    world.advance(secs(300));
    world.take();
    world.sb.handle_retrieve(world.now, C1, 10).unwrap();
    let out = world.take();
    for device in [A1, A2] {
        let notices = notices_to(&out, device);
        assert!(notices.contains(&Notice::RingingStopped {
            call,
            reason: RingingStopped::RetrievedBy(CAROL)
        }));
        assert!(notices.contains(&Notice::ParkEnded(world.alice_park_ended(
            call,
            10,
            ParkOutcome::Retrieved { by: CAROL }
        ))));
    }
    assert_eq!(world.sb.handle_answer(world.now, A1, call), Err(CallError::NotRinging { call }));
    assert_eq!(world.sb.poll_timeout(), None);
}

#[test]
fn the_parker_answering_the_ringback_is_connected_and_the_code_is_taken() {
    let mut world = World::new();
    let (call, _) = world.parked_by_alice();
    world.advance(secs(300));
    world.take();
    world.sb.handle_answer(world.now, A2, call).unwrap();
    let out = world.take();
    assert_eq!(media(&out), vec![MediaCommand::Bridge { a: D1, b: A2 }]);
    assert_eq!(
        notices_to(&out, A1),
        vec![
            Notice::RingingStopped { call, reason: RingingStopped::AnsweredElsewhere },
            Notice::ParkEnded(world.alice_park_ended(call, 10, ParkOutcome::RingbackAnswered)),
        ]
    );
    assert!(notices_to(&out, A2).contains(&Notice::Connected { call, peer: DAVE }));
    assert_eq!(audits(&out), vec![AuditKind::RingbackAnswered]);
    let error = world.sb.handle_retrieve(world.now, C1, 10).unwrap_err();
    assert_eq!(error.to_string(), "Picked up by Alice 0 s ago.");
}

#[test]
fn unanswered_ringback_goes_to_the_parkers_voicemail() {
    let mut world = World::new();
    let (call, _) = world.parked_by_alice();
    world.advance(secs(300));
    world.take();
    world.advance_to_next_timer();
    let out = world.take();
    assert_eq!(world.now, Timestamp::from_millis(1_000_000).after(secs(320)));
    assert!(
        notices_to(&out, A1)
            .contains(&Notice::RingingStopped { call, reason: RingingStopped::Unanswered })
    );
    assert!(notices_to(&out, A1).contains(&Notice::ParkEnded(world.alice_park_ended(
        call,
        10,
        ParkOutcome::FellBack(UnansweredAction::Voicemail)
    ))));
    assert_eq!(notices_to(&out, D1), vec![Notice::VoicemailStarted { call, owner: ALICE }]);
    assert_eq!(
        media(&out),
        vec![MediaCommand::Voicemail { device: D1, owner: ALICE, call, caller: DAVE }]
    );
    assert_eq!(audits(&out), vec![AuditKind::FellBack(UnansweredAction::Voicemail)]);
    assert_eq!(world.sb.parked_count(), 0);
    let error = world.sb.handle_retrieve(world.now, C1, 10).unwrap_err();
    assert_eq!(error, CallError::CodeExpired { code: 10, reason: ExpiredReason::WentToVoicemail });
}

#[test]
fn unanswered_ringback_forwards_when_the_parker_says_so() {
    let mut world = World::new();
    world.set_unanswered(ALICE, UnansweredAction::Forward(BOB), 15);
    let (call, _) = world.parked_by_alice();
    world.advance(secs(300));
    world.take();
    world.advance(secs(15));
    let out = world.take();
    assert_eq!(
        notices_to(&out, B1),
        vec![Notice::IncomingCall { call, from: DAVE, forwarded_by: Some(ALICE) }]
    );
    assert_eq!(notices_to(&out, D1), vec![Notice::Ringing { call, callee: BOB }]);
    assert_eq!(media(&out), vec![MediaCommand::RingingTone { device: D1 }]);
    world.sb.handle_answer(world.now, B1, call).unwrap();
    assert_eq!(world.sb.call(call), talking((DAVE, D1), (BOB, B1)));
}

#[test]
fn unanswered_ringback_ends_the_call_when_the_parker_says_so() {
    let mut world = World::new();
    world.set_unanswered(ALICE, UnansweredAction::Disconnect, 10);
    let (call, _) = world.parked_by_alice();
    world.advance(secs(300));
    world.advance(secs(10));
    let out = world.take();
    assert!(
        notices_to(&out, D1).contains(&Notice::CallEnded { call, reason: CallEnded::NoAnswer })
    );
    assert!(media(&out).contains(&MediaCommand::EndLeg { device: D1 }));
    assert!(world.sb.call(call).is_none());
    assert_eq!(world.sb.device_call(D1), None);
}

#[test]
fn a_parker_with_no_idle_device_at_ringback_goes_straight_to_their_setting() {
    let mut world = World::new();
    let (call, _) = world.parked_by_alice();
    world.sb.handle_device_offline(world.now, A1);
    world.sb.handle_device_offline(world.now, A2);
    world.take();
    world.advance(secs(300));
    let out = world.take();
    assert_eq!(audits(&out), vec![AuditKind::FellBack(UnansweredAction::Voicemail)]);
    assert_eq!(notices_to(&out, D1), vec![Notice::VoicemailStarted { call, owner: ALICE }]);
}

#[test]
fn declining_the_ringback_falls_back_at_once() {
    let mut world = World::new();
    let (call, _) = world.parked_by_alice();
    world.advance(secs(300));
    world.take();
    world.sb.handle_decline(world.now, A1, call).unwrap();
    let out = world.take();
    assert!(
        notices_to(&out, A2)
            .contains(&Notice::RingingStopped { call, reason: RingingStopped::Declined })
    );
    assert_eq!(notices_to(&out, D1), vec![Notice::VoicemailStarted { call, owner: ALICE }]);
}

#[test]
fn the_last_ringback_device_going_offline_falls_back_at_once() {
    let mut world = World::new();
    world.sb.handle_device_offline(world.now, A2);
    let (call, _) = world.parked_by_alice();
    world.advance(secs(300));
    world.take();
    world.sb.handle_device_offline(world.now, A1);
    let out = world.take();
    assert_eq!(notices_to(&out, D1), vec![Notice::VoicemailStarted { call, owner: ALICE }]);
}

#[test]
fn the_caller_hanging_up_during_ringback_stops_it() {
    let mut world = World::new();
    let (call, _) = world.parked_by_alice();
    world.advance(secs(300));
    world.take();
    world.sb.handle_hangup(world.now, D1, call).unwrap();
    let out = world.take();
    assert!(
        notices_to(&out, A1)
            .contains(&Notice::RingingStopped { call, reason: RingingStopped::CallerHungUp })
    );
    assert!(notices_to(&out, A1).contains(&Notice::ParkEnded(world.alice_park_ended(
        call,
        10,
        ParkOutcome::CallerLeft
    ))));
    assert_eq!(world.sb.poll_timeout(), None);
}

#[test]
fn ringback_shows_in_the_live_list() {
    let mut world = World::new();
    world.sb.handle_subscribe_parked(C1, true).unwrap();
    let (call, _) = world.parked_by_alice();
    world.take();
    world.advance(secs(300));
    let out = world.take();
    match &notices_to(&out, C1)[..] {
        [Notice::ParkedList(ParkedListChange::Updated(view))] => {
            assert_eq!(view.call, call);
            assert!(view.ringing_back);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn park_timeout_follows_the_policy() {
    let mut world = World::new();
    world
        .sb
        .set_policy(
            "Sales",
            &PolicyChanges { park_timeout_seconds: Some(120), ..Default::default() },
        )
        .unwrap();
    let (_, receipt) = world.parked_by_alice();
    assert_eq!(receipt.ringback_at, world.now.after(secs(120)));
}

#[test]
fn the_test_clock_speedup_shortens_timers_but_not_policies() {
    let mut world = World::with_config(Config { clock_speedup: 60, ..Config::default() });
    let (_, receipt) = world.parked_by_alice();
    assert_eq!(receipt.ringback_at, world.now.after(secs(5)));
    assert_eq!(
        world.sb.directory().policy_by_identity("Sales").unwrap().1.park_timeout_seconds,
        300
    );
    world.advance(secs(5));
    assert_eq!(
        world.sb.poll_timeout(),
        Some(world.now.after(std::time::Duration::from_millis(333)))
    );
}
