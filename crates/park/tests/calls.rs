//! Ordinary calls: every device rings, first answer wins, decline, cancel, hang up.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use callpark_park::*;
use common::*;

#[test]
fn dial_rings_all_idle_devices_of_the_callee_and_the_caller_hears_ringing() {
    let mut world = World::new();
    let call = world.sb.handle_dial(world.now, B1, ALICE).unwrap();
    let out = world.take();
    for device in [A1, A2] {
        assert_eq!(
            notices_to(&out, device),
            vec![Notice::IncomingCall { call, from: BOB, forwarded_by: None }]
        );
    }
    assert_eq!(notices_to(&out, B1), vec![Notice::Ringing { call, callee: ALICE }]);
    assert_eq!(media(&out), vec![MediaCommand::RingingTone { device: B1 }]);
}

#[test]
fn first_answer_wins_and_the_other_devices_stop_ringing() {
    let mut world = World::new();
    let call = world.sb.handle_dial(world.now, B1, ALICE).unwrap();
    world.take();
    world.sb.handle_answer(world.now, A2, call).unwrap();
    let out = world.take();
    assert_eq!(
        notices_to(&out, A1),
        vec![Notice::RingingStopped { call, reason: RingingStopped::AnsweredElsewhere }]
    );
    assert_eq!(notices_to(&out, A2), vec![Notice::Connected { call, peer: BOB }]);
    assert_eq!(notices_to(&out, B1), vec![Notice::Connected { call, peer: ALICE }]);
    assert_eq!(media(&out), vec![MediaCommand::Bridge { a: B1, b: A2 }]);
    // The late device cannot answer too.
    assert_eq!(world.sb.handle_answer(world.now, A1, call), Err(CallError::NotRinging { call }));
    assert_eq!(world.sb.device_call(A2), Some(call));
    assert_eq!(world.sb.device_call(A1), None);
    assert_eq!(world.sb.poll_timeout(), None, "a connected call has no timer");
}

#[test]
fn caller_hanging_up_while_ringing_cancels_everywhere() {
    let mut world = World::new();
    let call = world.sb.handle_dial(world.now, B1, ALICE).unwrap();
    world.take();
    world.sb.handle_hangup(world.now, B1, call).unwrap();
    let out = world.take();
    for device in [A1, A2] {
        assert_eq!(
            notices_to(&out, device),
            vec![Notice::RingingStopped { call, reason: RingingStopped::CallerHungUp }]
        );
    }
    assert_eq!(notices_to(&out, B1), vec![Notice::CallEnded { call, reason: CallEnded::HungUp }]);
    assert!(world.sb.call(call).is_none());
    assert_eq!(world.sb.poll_timeout(), None);
}

#[test]
fn hang_up_ends_a_connected_call_for_both() {
    let mut world = World::new();
    let call = world.connected(B1, ALICE, A1);
    world.take();
    world.sb.handle_hangup(world.now, A1, call).unwrap();
    let out = world.take();
    assert_eq!(notices_to(&out, A1), vec![Notice::CallEnded { call, reason: CallEnded::HungUp }]);
    assert_eq!(
        notices_to(&out, B1),
        vec![Notice::CallEnded { call, reason: CallEnded::PeerHungUp }]
    );
    assert_eq!(world.sb.device_call(B1), None);
    assert!(world.sb.call(call).is_none());
    assert_eq!(world.sb.handle_hangup(world.now, A1, call), Err(CallError::CallNotFound { call }));
}

#[test]
fn decline_sends_the_call_to_the_callees_unanswered_setting() {
    let mut world = World::new();
    let call = world.sb.handle_dial(world.now, B1, ALICE).unwrap();
    world.take();
    world.sb.handle_decline(world.now, A1, call).unwrap();
    let out = world.take();
    assert_eq!(
        notices_to(&out, A2),
        vec![Notice::RingingStopped { call, reason: RingingStopped::Declined }]
    );
    assert_eq!(notices_to(&out, B1), vec![Notice::VoicemailStarted { call, owner: ALICE }]);
    assert_eq!(
        media(&out),
        vec![MediaCommand::Voicemail { device: B1, owner: ALICE, call, caller: BOB }]
    );
}

#[test]
fn decline_with_disconnect_setting_ends_the_call() {
    let mut world = World::new();
    world.set_unanswered(ALICE, UnansweredAction::Disconnect, 20);
    let call = world.sb.handle_dial(world.now, B1, ALICE).unwrap();
    world.take();
    world.sb.handle_decline(world.now, A1, call).unwrap();
    let out = world.take();
    assert_eq!(notices_to(&out, B1), vec![Notice::CallEnded { call, reason: CallEnded::Declined }]);
    assert!(world.sb.call(call).is_none());
}

#[test]
fn an_unanswered_call_follows_the_setting_after_the_delay_and_not_before() {
    let mut world = World::new();
    let call = world.sb.handle_dial(world.now, B1, ALICE).unwrap();
    world.take();
    assert_eq!(world.sb.poll_timeout(), Some(world.now.after(secs(20))));
    world.advance_to_next_timer();
    let out = world.take();
    assert_eq!(
        notices_to(&out, A1),
        vec![Notice::RingingStopped { call, reason: RingingStopped::Unanswered }]
    );
    assert_eq!(notices_to(&out, B1), vec![Notice::VoicemailStarted { call, owner: ALICE }]);
}

#[test]
fn unanswered_forward_rings_the_target_once_then_their_voicemail() {
    let mut world = World::new();
    world.set_unanswered(ALICE, UnansweredAction::Forward(CAROL), 10);
    world.set_unanswered(CAROL, UnansweredAction::Forward(ALICE), 30);
    let call = world.sb.handle_dial(world.now, B1, ALICE).unwrap();
    world.advance(secs(10));
    let out = world.take();
    assert_eq!(
        notices_to(&out, C1),
        vec![Notice::IncomingCall { call, from: BOB, forwarded_by: Some(ALICE) }]
    );
    assert_eq!(world.sb.poll_timeout(), Some(world.now.after(secs(30))));
    // Carol forwards too, but a call is forwarded only once: Carol's voicemail.
    world.advance(secs(30));
    let out = world.take();
    assert_eq!(notices_to(&out, B1), vec![Notice::VoicemailStarted { call, owner: CAROL }]);
}

#[test]
fn a_forwarded_call_can_be_answered_by_the_target() {
    let mut world = World::new();
    world.set_unanswered(ALICE, UnansweredAction::Forward(CAROL), 10);
    let call = world.sb.handle_dial(world.now, B1, ALICE).unwrap();
    world.advance(secs(10));
    world.sb.handle_answer(world.now, C1, call).unwrap();
    assert!(matches!(world.sb.call(call), Some(CallView::Connected { .. })));
}

#[test]
fn calling_someone_with_no_idle_device_goes_straight_to_their_setting() {
    let mut world = World::new();
    world.sb.handle_device_offline(world.now, C1);
    let call = world.sb.handle_dial(world.now, B1, CAROL).unwrap();
    let out = world.take();
    assert_eq!(notices_to(&out, B1), vec![Notice::VoicemailStarted { call, owner: CAROL }]);

    world.set_unanswered(CAROL, UnansweredAction::Disconnect, 20);
    let error = world.sb.handle_dial(world.now, A1, CAROL).unwrap_err();
    assert_eq!(error.code(), "user_unavailable");
    assert_eq!(error.to_string(), "Carol cannot take calls right now.");
    assert_eq!(world.sb.device_call(A1), None, "a refused dial leaves the device idle");
}

#[test]
fn a_device_in_a_call_is_busy_for_dialing_and_answering() {
    let mut world = World::new();
    let first = world.connected(B1, ALICE, A1);
    world.take();
    assert_eq!(world.sb.handle_dial(world.now, A1, CAROL), Err(CallError::Busy));
    // Carol calls Alice: only Alice's idle device rings.
    let second = world.sb.handle_dial(world.now, C1, ALICE).unwrap();
    let out = world.take();
    assert!(notices_to(&out, A1).is_empty());
    assert_eq!(notices_to(&out, A2).len(), 1);
    assert_eq!(
        world.sb.handle_answer(world.now, A1, second),
        Err(CallError::NotRinging { call: second })
    );
    assert_eq!(world.sb.device_call(A1), Some(first));
}

#[test]
fn bad_requests_are_refused_without_changing_anything() {
    let mut world = World::new();
    assert_eq!(world.sb.handle_dial(world.now, B1, BOB), Err(CallError::CannotCallSelf));
    assert_eq!(
        world.sb.handle_dial(world.now, B1, UserId(99)),
        Err(CallError::UserNotFound { user: UserId(99) })
    );
    assert_eq!(
        world.sb.handle_dial(world.now, DeviceId(999), ALICE),
        Err(CallError::UnknownDevice)
    );
    assert_eq!(
        world.sb.handle_answer(world.now, A1, CallId(42)),
        Err(CallError::NotRinging { call: CallId(42) })
    );
    assert_eq!(
        world.sb.handle_decline(world.now, A1, CallId(42)),
        Err(CallError::NotRinging { call: CallId(42) })
    );
    assert!(world.take().is_empty());
    assert_eq!(world.sb.calls().count(), 0);
}

#[test]
fn a_device_going_offline_hangs_up_its_leg() {
    let mut world = World::new();
    let call = world.connected(B1, ALICE, A1);
    world.take();
    world.sb.handle_device_offline(world.now, A1);
    let out = world.take();
    assert_eq!(notices_to(&out, B1), vec![Notice::CallEnded { call, reason: CallEnded::PeerLost }]);
    assert!(world.sb.call(call).is_none());
    assert_eq!(world.sb.devices_of(ALICE), &[A2]);
}

#[test]
fn the_last_ringing_device_going_offline_makes_the_call_unanswered_now() {
    let mut world = World::new();
    let call = world.sb.handle_dial(world.now, B1, CAROL).unwrap();
    world.take();
    world.sb.handle_device_offline(world.now, C1);
    let out = world.take();
    assert_eq!(notices_to(&out, B1), vec![Notice::VoicemailStarted { call, owner: CAROL }]);
}

#[test]
fn voicemail_ends_when_the_caller_hangs_up_or_the_recording_is_full() {
    let mut world = World::new();
    let call = world.sb.handle_dial(world.now, B1, ALICE).unwrap();
    world.sb.handle_decline(world.now, A1, call).unwrap();
    world.take();
    world.sb.handle_voicemail_finished(call);
    let out = world.take();
    assert_eq!(
        notices_to(&out, B1),
        vec![Notice::CallEnded { call, reason: CallEnded::VoicemailFinished }]
    );
    assert_eq!(world.sb.device_call(B1), None);

    let call = world.sb.handle_dial(world.now, B1, ALICE).unwrap();
    world.sb.handle_decline(world.now, A1, call).unwrap();
    world.sb.handle_hangup(world.now, B1, call).unwrap();
    assert!(world.sb.call(call).is_none());
}

#[test]
fn signing_in_again_is_harmless_and_unknown_users_cannot_sign_in() {
    let mut world = World::new();
    world.sb.handle_device_online(world.now, A1, ALICE).unwrap();
    assert_eq!(world.sb.devices_of(ALICE), &[A1, A2]);
    assert_eq!(
        world.sb.handle_device_online(world.now, DeviceId(5), UserId(99)),
        Err(CallError::UserNotFound { user: UserId(99) })
    );
}

#[test]
fn call_ids_resume_above_those_used_before_a_restart() {
    let mut w = World::new();
    w.sb.skip_call_ids_through(CallId(41));
    let first = w.sb.handle_dial(w.now, A1, BOB).unwrap();
    assert_eq!(first, CallId(42));
    w.sb.skip_call_ids_through(CallId(7));
    let second = w.sb.handle_dial(w.now, C1, DAVE).unwrap();
    assert_eq!(second, CallId(43), "a lower mark never moves ids back");
}

#[test]
fn groups_and_memberships_can_be_listed() {
    let w = World::new();
    let groups: Vec<_> =
        w.sb.directory().groups().map(|(id, members)| (id, members.len())).collect();
    assert_eq!(groups, vec![(SALES, 3)]);
    assert_eq!(w.sb.directory().user_groups(ALICE).collect::<Vec<_>>(), vec![SALES]);
    assert_eq!(w.sb.directory().user_groups(DAVE).count(), 0);
}

#[test]
fn call_ids_are_reserved_with_the_store_a_block_ahead_and_restarts_start_above_it() {
    let mut world = World::new();
    let reserved = |out: &[Output]| {
        stores(out)
            .into_iter()
            .filter_map(|command| match command {
                StoreCommand::ReserveCallIds { through } => Some(through),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let first = world.sb.handle_dial(world.now, B1, ALICE).unwrap();
    let out = world.take();
    assert_eq!(reserved(&out), vec![CallId(first.0 + CALL_ID_BLOCK - 1)]);
    // Within the block: no more reservations.
    world.sb.handle_hangup(world.now, B1, first).unwrap();
    let second = world.sb.handle_dial(world.now, B1, ALICE).unwrap();
    assert_eq!(second.0, first.0 + 1);
    assert_eq!(reserved(&world.take()), vec![]);
    world.sb.handle_hangup(world.now, B1, second).unwrap();
    world.take();

    // After a restart the driver skips what the store kept; the next call is above
    // it and reserves the next block before it is named anywhere.
    let mut restarted = World::new();
    restarted.sb.skip_call_ids_through(CallId(first.0 + CALL_ID_BLOCK - 1));
    let after = restarted.sb.handle_dial(restarted.now, B1, ALICE).unwrap();
    assert_eq!(after, CallId(first.0 + CALL_ID_BLOCK));
    let out = restarted.take();
    assert_eq!(reserved(&out), vec![CallId(after.0 + CALL_ID_BLOCK - 1)]);
    assert!(
        matches!(out.first(), Some(Output::Store(StoreCommand::ReserveCallIds { .. }))),
        "the reservation comes before anything naming the call: {out:?}"
    );
}
