//! Parking and retrieving: codes, permissions, races, and what everyone is told.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use callpark_park::*;
use common::*;

#[test]
fn park_holds_the_caller_ends_the_parkers_leg_and_tells_all_parker_devices() {
    let mut world = World::new();
    let call = world.connected(D1, ALICE, A1);
    world.take();
    let receipt = world.sb.handle_park(world.now, A1, call).unwrap();
    assert_eq!(receipt.code, 10, "the first park under a policy gets the range start");
    assert_eq!(receipt.ringback_at, world.now.after(secs(300)));
    let out = world.take();
    let parked =
        Notice::CallParked { call, code: 10, caller: DAVE, ringback_at: receipt.ringback_at };
    assert_eq!(
        notices_to(&out, A1),
        vec![Notice::CallEnded { call, reason: CallEnded::Parked { code: 10 } }, parked.clone()]
    );
    assert_eq!(notices_to(&out, A2), vec![parked]);
    assert_eq!(notices_to(&out, D1), vec![Notice::OnHold { call }]);
    assert_eq!(
        media(&out),
        vec![MediaCommand::EndLeg { device: A1 }, MediaCommand::HoldMusic { device: D1 }]
    );
    assert_eq!(audits(&out), vec![AuditKind::Parked { caller: DAVE }]);
    // The connected call is no longer kept for a restart; the park is.
    assert!(matches!(
        stores(&out)[..],
        [
            StoreCommand::ForgetConnectedCall { call: forgotten },
            StoreCommand::SaveParkedCall(ParkedCallRecord {
                code: 10,
                caller: DAVE,
                parked_by: ALICE,
                ..
            })
        ] if forgotten == call
    ));
    assert_eq!(world.sb.device_call(A1), None, "the parker is free for another call");
    assert_eq!(world.sb.device_call(D1), Some(call));
}

#[test]
fn either_party_can_park_the_other() {
    let mut world = World::new();
    let call = world.connected(A1, BOB, B1);
    let receipt = world.sb.handle_park(world.now, A1, call).unwrap();
    world.sb.handle_retrieve(world.now, C1, receipt.code).unwrap();
    // Carol now talks to Bob; Bob (the callee originally) can park Carol.
    let again = world.sb.handle_park(world.now, B1, call).unwrap();
    assert_eq!(again.code, 11);
    assert!(
        matches!(world.sb.call(call), Some(CallView::Parked { view, .. }) if view.caller == CAROL && view.parked_by == BOB)
    );
}

#[test]
fn codes_are_sequential_per_policy_and_independent_between_policies() {
    let mut world = World::new();
    world
        .sb
        .new_policy(
            "Lobby",
            &PolicyChanges {
                allow_call_park: Some(true),
                pickup_range_start: Some(500),
                pickup_range_end: Some(510),
                ..Default::default()
            },
        )
        .unwrap();
    world.sb.grant_user_policy(DAVE, Some("Lobby")).unwrap();
    let mut codes = Vec::new();
    for _ in 0..3 {
        let call = world.connected(B1, ALICE, A1);
        codes.push(world.sb.handle_park(world.now, A1, call).unwrap().code);
        world.sb.handle_device_offline(world.now, B1);
        world.sb.handle_device_online(world.now, B1, BOB).unwrap();
    }
    assert_eq!(codes, vec![10, 11, 12]);
    let call = world.connected(C1, DAVE, D1);
    assert_eq!(world.sb.handle_park(world.now, D1, call).unwrap().code, 500);
}

#[test]
fn codes_wrap_after_the_range_end_and_skip_codes_still_parked() {
    let mut world = World::new();
    world
        .sb
        .set_policy(
            "Sales",
            &PolicyChanges {
                pickup_range_start: Some(10),
                pickup_range_end: Some(12),
                ..Default::default()
            },
        )
        .unwrap();
    // Three parked calls from three different callers hold 10, 11, 12.
    let callers = [DeviceId(101), DeviceId(102), DeviceId(103), DeviceId(104)];
    let mut parked = Vec::new();
    for (i, device) in callers.iter().enumerate() {
        let id = UserId(100 + i as u64);
        world.sb.add_user(id, user("Caller")).unwrap();
        world.sb.handle_device_online(world.now, *device, id).unwrap();
    }
    for device in &callers[..3] {
        let call = world.connected(*device, ALICE, A1);
        parked.push((call, world.sb.handle_park(world.now, A1, call).unwrap().code));
    }
    assert_eq!(parked.iter().map(|p| p.1).collect::<Vec<_>>(), vec![10, 11, 12]);
    // 11 is retrieved; the next park wraps past the end to 10 (held), then takes 11.
    world.sb.handle_retrieve(world.now, B1, 11).unwrap();
    let call = world.connected(callers[3], ALICE, A1);
    assert_eq!(world.sb.handle_park(world.now, A1, call).unwrap().code, 11);
}

#[test]
fn a_full_range_refuses_the_park_and_the_call_stays_connected() {
    let mut world = World::new();
    world
        .sb
        .set_policy(
            "Sales",
            &PolicyChanges {
                pickup_range_start: Some(40),
                pickup_range_end: Some(40),
                ..Default::default()
            },
        )
        .unwrap();
    let first = world.connected(D1, ALICE, A1);
    world.sb.handle_park(world.now, A1, first).unwrap();
    let call = world.connected(B1, CAROL, C1);
    world.take();
    let error = world.sb.handle_park(world.now, C1, call).unwrap_err();
    assert_eq!(error, CallError::NoFreeCode { start: 40, end: 40 });
    assert_eq!(
        error.to_string(),
        "All pickup codes 40–40 are in use; the call is still connected."
    );
    let out = world.take();
    assert_eq!(audits(&out), vec![AuditKind::ParkRefused { reason: "no_free_code" }]);
    assert!(media(&out).is_empty() && stores(&out).is_empty());
    assert!(out.iter().all(|o| !matches!(o, Output::Notify { .. })), "nobody is told anything");
    assert_eq!(world.sb.call(call), talking((BOB, B1), (CAROL, C1)));
}

#[test]
fn a_range_change_applies_to_new_parks_and_parked_calls_keep_their_codes() {
    let mut world = World::new();
    let (call, receipt) = world.parked_by_alice();
    assert_eq!(receipt.code, 10);
    world
        .sb
        .set_policy(
            "Sales",
            &PolicyChanges {
                pickup_range_start: Some(700),
                pickup_range_end: Some(799),
                ..Default::default()
            },
        )
        .unwrap();
    let next = world.connected(B1, CAROL, C1);
    assert_eq!(world.sb.handle_park(world.now, C1, next).unwrap().code, 700);
    // The old code still works.
    let got = world.sb.handle_retrieve(world.now, A2, 10).unwrap();
    assert_eq!(got.call, call);
}

#[test]
fn park_needs_enterprise_voice_and_a_policy_with_park_on() {
    let mut world = World::new();
    // Dave's policy (Global) has park off.
    let call = world.connected(A1, DAVE, D1);
    world.take();
    let error = world.sb.handle_park(world.now, D1, call).unwrap_err();
    assert_eq!(error, CallError::ParkNotAllowed);
    assert_eq!(
        error.to_string(),
        "Call park is not enabled for you. Ask your admin to assign a call park policy."
    );
    assert_eq!(audits(&world.take()), vec![AuditKind::ParkRefused { reason: "park_not_allowed" }]);
    assert!(matches!(world.sb.call(call), Some(CallView::Connected { .. })));

    world.sb.update_user(ALICE, UserSettings::new("Alice")).unwrap();
    let error = world.sb.handle_park(world.now, A1, call).unwrap_err();
    assert_eq!(error.code(), "not_enterprise_voice");
    assert_eq!(
        error.to_string(),
        "Call park needs enterprise voice, which is not enabled for you. Ask your admin to enable it."
    );
    assert!(matches!(world.sb.call(call), Some(CallView::Connected { .. })));
}

#[test]
fn only_a_connected_call_can_be_parked_and_only_by_its_parties() {
    let mut world = World::new();
    let call = world.sb.handle_dial(world.now, B1, ALICE).unwrap();
    assert_eq!(world.sb.handle_park(world.now, B1, call), Err(CallError::NotConnected { call }));
    assert_eq!(world.sb.handle_park(world.now, C1, call), Err(CallError::CallNotFound { call }));
    world.sb.handle_answer(world.now, A1, call).unwrap();
    assert_eq!(world.sb.handle_park(world.now, C1, call), Err(CallError::CallNotFound { call }));
    assert_eq!(world.sb.handle_park(world.now, A2, call), Err(CallError::CallNotFound { call }));
}

#[test]
fn retrieve_connects_the_parked_caller_to_the_retriever_in_one_step() {
    let mut world = World::new();
    let (call, receipt) = world.parked_by_alice();
    world.take();
    let got = world.sb.handle_retrieve(world.now, C1, receipt.code).unwrap();
    assert_eq!(got, RetrieveReceipt { call, code: 10, caller: DAVE, parked_by: ALICE });
    let out = world.take();
    assert_eq!(media(&out), vec![MediaCommand::Bridge { a: D1, b: C1 }]);
    assert_eq!(notices_to(&out, D1), vec![Notice::Connected { call, peer: CAROL }]);
    assert_eq!(notices_to(&out, C1), vec![Notice::Connected { call, peer: DAVE }]);
    let ended = world.alice_park_ended(call, 10, ParkOutcome::Retrieved { by: CAROL });
    assert_eq!(notices_to(&out, A1), vec![Notice::ParkEnded(ended)]);
    assert_eq!(notices_to(&out, A2), vec![Notice::ParkEnded(ended)]);
    assert_eq!(audits(&out), vec![AuditKind::Retrieved]);
    let connected = ConnectedCallRecord {
        call,
        a: Party { user: DAVE, device: D1 },
        b: Party { user: CAROL, device: C1 },
    };
    assert_eq!(
        stores(&out),
        vec![StoreCommand::ParkEnded(ended), StoreCommand::SaveConnectedCall(connected)]
    );
    assert_eq!(world.sb.poll_timeout(), None, "the ringback timer is gone");
    assert_eq!(world.sb.parked_count(), 0);
}

#[test]
fn exactly_one_retriever_wins_and_the_next_hears_who_and_when() {
    let mut world = World::new();
    let (_, receipt) = world.parked_by_alice();
    world.sb.handle_retrieve(world.now, C1, receipt.code).unwrap();
    world.now = world.now.after(secs(4));
    let error = world.sb.handle_retrieve(world.now, B1, receipt.code).unwrap_err();
    assert_eq!(error.code(), "already_retrieved");
    assert_eq!(error.to_string(), "Picked up by Carol 4 s ago.");
    assert_eq!(world.sb.device_call(B1), None);
}

#[test]
fn a_code_of_another_policy_looks_exactly_like_an_unknown_code() {
    let mut world = World::new();
    world
        .sb
        .new_policy("Lobby", &PolicyChanges { allow_call_park: Some(true), ..Default::default() })
        .unwrap();
    world.sb.grant_user_policy(DAVE, Some("Lobby")).unwrap();
    let (call, receipt) = world.parked_by_alice();
    let d2 = DeviceId(42);
    world.sb.handle_device_online(world.now, d2, DAVE).unwrap();
    let foreign = world.sb.handle_retrieve(world.now, d2, receipt.code).unwrap_err();
    let unknown = world.sb.handle_retrieve(world.now, d2, 55).unwrap_err();
    assert_eq!(foreign, CallError::CodeNotFound { code: 10 });
    assert_eq!(unknown, CallError::CodeNotFound { code: 55 });
    assert_eq!(foreign.code(), unknown.code());
    assert!(matches!(world.sb.call(call), Some(CallView::Parked { .. })), "still parked");
}

#[test]
fn retrieve_needs_enterprise_voice_and_park_on() {
    let mut world = World::new();
    let (_, receipt) = world.parked_by_alice();
    world.take();
    // Dave (Global, park off) on a second device; D1 is the parked caller.
    world.sb.handle_device_online(world.now, DeviceId(42), DAVE).unwrap();
    assert_eq!(
        world.sb.handle_retrieve(world.now, DeviceId(42), receipt.code),
        Err(CallError::ParkNotAllowed)
    );
    world.sb.update_user(BOB, UserSettings::new("Bob")).unwrap();
    assert_eq!(
        world.sb.handle_retrieve(world.now, B1, receipt.code),
        Err(CallError::NotEnterpriseVoice)
    );
    let refused: Vec<_> = audits(&world.take());
    assert!(refused.contains(&AuditKind::RetrieveRefused { reason: "park_not_allowed" }));
    assert!(refused.contains(&AuditKind::RetrieveRefused { reason: "not_enterprise_voice" }));
    assert_eq!(world.sb.parked_count(), 1);
}

#[test]
fn a_busy_device_cannot_retrieve() {
    let mut world = World::new();
    let (_, receipt) = world.parked_by_alice();
    world.connected(B1, CAROL, C1);
    assert_eq!(world.sb.handle_retrieve(world.now, C1, receipt.code), Err(CallError::Busy));
    assert_eq!(world.sb.parked_count(), 1);
}

#[test]
fn the_parker_can_retrieve_their_own_call_on_another_device() {
    let mut world = World::new();
    let (call, receipt) = world.parked_by_alice();
    let got = world.sb.handle_retrieve(world.now, A2, receipt.code).unwrap();
    assert_eq!(got.call, call);
    assert_eq!(world.sb.call(call), talking((DAVE, D1), (ALICE, A2)));
}

#[test]
fn the_caller_hanging_up_while_parked_frees_the_code_and_tells_the_parker() {
    let mut world = World::new();
    let (call, receipt) = world.parked_by_alice();
    world.take();
    world.sb.handle_hangup(world.now, D1, call).unwrap();
    let out = world.take();
    let ended = world.alice_park_ended(call, receipt.code, ParkOutcome::CallerLeft);
    assert_eq!(notices_to(&out, A1), vec![Notice::ParkEnded(ended)]);
    assert_eq!(notices_to(&out, A2), vec![Notice::ParkEnded(ended)]);
    assert_eq!(audits(&out), vec![AuditKind::CallerLeft]);
    assert_eq!(stores(&out), vec![StoreCommand::ParkEnded(ended)]);
    assert_eq!(world.sb.poll_timeout(), None);
    let error = world.sb.handle_retrieve(world.now, B1, receipt.code).unwrap_err();
    assert_eq!(error, CallError::CodeExpired { code: 10, reason: ExpiredReason::CallerLeft });
    assert_eq!(
        error.to_string(),
        "The call parked with code 10 is no longer waiting: the caller hung up."
    );
}

#[test]
fn the_caller_losing_connection_while_parked_is_the_same_as_hanging_up() {
    let mut world = World::new();
    let (call, _) = world.parked_by_alice();
    world.take();
    world.sb.handle_device_offline(world.now, D1);
    let out = world.take();
    assert_eq!(
        notices_to(&out, A1),
        vec![Notice::ParkEnded(world.alice_park_ended(call, 10, ParkOutcome::CallerLeft))]
    );
    assert_eq!(world.sb.parked_count(), 0);
}

#[test]
fn ended_codes_are_forgotten_after_a_while() {
    let mut world = World::new();
    let (_, receipt) = world.parked_by_alice();
    world.sb.handle_retrieve(world.now, C1, receipt.code).unwrap();
    world.now = world.now.after(secs(31 * 60));
    assert_eq!(
        world.sb.handle_retrieve(world.now, B1, receipt.code),
        Err(CallError::CodeNotFound { code: 10 })
    );
}

#[test]
fn the_live_list_says_why_it_is_empty_and_follows_the_enterprise_voice_switch() {
    let mut world = World::new();
    world.parked_by_alice();
    world.sb.handle_subscribe_parked(B1, true).unwrap();
    let sales = world.sales();
    world.take();
    let bob = world.sb.directory().user(BOB).unwrap().clone();

    world.sb.update_user(BOB, bob.clone().with_enterprise_voice(false)).unwrap();
    assert_eq!(
        notices_to(&world.take(), B1),
        vec![Notice::ParkedList(ParkedListChange::Snapshot {
            access: Err(CallError::NotEnterpriseVoice),
            calls: vec![]
        })]
    );
    world.sb.update_user(BOB, bob.clone().with_enterprise_voice(false)).unwrap();
    assert!(notices_to(&world.take(), B1).is_empty(), "nothing changed for Bob");

    world.sb.update_user(BOB, bob.with_enterprise_voice(true)).unwrap();
    match &notices_to(&world.take(), B1)[..] {
        [Notice::ParkedList(ParkedListChange::Snapshot { access: Ok(policy), calls })] => {
            assert_eq!(*policy, sales);
            assert_eq!(calls.iter().map(|c| c.code).collect::<Vec<_>>(), vec![10]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn typed_codes_are_parsed_with_a_clear_error() {
    assert_eq!(Switchboard::parse_code(" 12 "), Ok(12));
    assert_eq!(Switchboard::parse_code("9999"), Ok(9999));
    for bad in ["", "9", "10000", "12a", "-12", "+12", "1 2"] {
        let error = Switchboard::parse_code(bad).unwrap_err();
        assert_eq!(error.code(), "code_invalid", "{bad:?}");
        assert!(error.to_string().contains("10 to 9999"));
    }
}

#[test]
fn the_live_list_shows_my_policys_parked_calls_and_every_change() {
    let mut world = World::new();
    world.sb.handle_subscribe_parked(B1, true).unwrap();
    world.sb.handle_subscribe_parked(D1, true).unwrap();
    let out = world.take();
    let sales = world.sales();
    assert_eq!(
        notices_to(&out, B1),
        vec![Notice::ParkedList(ParkedListChange::Snapshot { access: Ok(sales), calls: vec![] })]
    );
    assert_eq!(
        notices_to(&out, D1),
        vec![Notice::ParkedList(ParkedListChange::Snapshot {
            access: Err(CallError::ParkNotAllowed),
            calls: vec![]
        })]
    );

    let (call, receipt) = world.parked_by_alice();
    let out = world.take();
    let view = ParkedCallView {
        call,
        code: 10,
        caller: DAVE,
        parked_by: ALICE,
        parked_at: world.now,
        ringback_at: receipt.ringback_at,
        ringing_back: false,
    };
    assert_eq!(notices_to(&out, B1), vec![Notice::ParkedList(ParkedListChange::Added(view))]);
    assert!(
        notices_to(&out, D1).iter().all(|n| !matches!(n, Notice::ParkedList(_))),
        "no leak to other policies"
    );

    world.sb.handle_retrieve(world.now, C1, 10).unwrap();
    let out = world.take();
    assert_eq!(
        notices_to(&out, B1),
        vec![Notice::ParkedList(ParkedListChange::Removed { call, code: 10 })]
    );

    // Policy change: Dave joins Sales and gets the Sales list.
    let (call2, _) = {
        let call = world.connected(A1, BOB, B1);
        world.sb.handle_subscribe_parked(B1, false).unwrap();
        (call, world.sb.handle_park(world.now, A1, call).unwrap())
    };
    world.take();
    world.sb.add_group_member(SALES, DAVE).unwrap();
    let out = world.take();
    match &notices_to(&out, D1)[..] {
        [Notice::ParkedList(ParkedListChange::Snapshot { access: Ok(p), calls })] => {
            assert_eq!(*p, sales);
            assert_eq!(calls.iter().map(|c| c.call).collect::<Vec<_>>(), vec![call2]);
        }
        other => panic!("{other:?}"),
    }
    assert!(notices_to(&out, B1).is_empty(), "unsubscribed");
}
