//! A device whose connection drops keeps its place in its calls for the grace
//! period: the other party is told, nothing ends, and a device that comes back in
//! time carries on; one that does not leaves as if offline. Time jumps drive it.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::time::Duration;

use callpark_park::*;
use common::*;

fn ended(out: &[Output]) -> Vec<(DeviceId, CallEnded)> {
    out.iter()
        .filter_map(|output| match output {
            Output::Notify { device, notice: Notice::CallEnded { reason, .. } } => {
                Some((*device, *reason))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_dropped_device_in_a_connected_call_keeps_it_and_the_other_party_hears_it_is_reconnecting() {
    let mut world = World::new();
    let call = world.connected(B1, ALICE, A1);
    world.take();
    world.sb.handle_device_dropped(world.now, A1);
    let out = world.take();
    assert_eq!(notices_to(&out, B1), vec![Notice::PeerReconnecting { call, peer: ALICE }]);
    assert!(media(&out).is_empty(), "the route stays: {:?}", media(&out));
    assert_eq!(world.sb.call(call), talking((BOB, B1), (ALICE, A1)));
    assert!(world.sb.is_away(A1));

    // 29.999 s later it is still the same call; coming back continues it.
    world.advance(DEFAULT_RECONNECT_GRACE - Duration::from_millis(1));
    assert!(ended(&world.take()).is_empty());
    assert!(world.sb.handle_device_returned(A1));
    let out = world.take();
    assert_eq!(notices_to(&out, B1), vec![Notice::PeerReconnected { call, peer: ALICE }]);
    assert_eq!(
        world.sb.device_calls(A1),
        vec![DeviceCall {
            call,
            role: DeviceRole::Connected,
            peer: Some(BOB),
            code: None,
            peer_reconnecting: false
        }]
    );
    assert!(!world.sb.is_away(A1));
    assert_eq!(world.sb.poll_timeout(), None, "no grace timer is left behind");
    // Back means back: the old grace period never fires.
    world.advance(secs(60));
    assert_eq!(world.sb.call(call), talking((BOB, B1), (ALICE, A1)));
}

#[test]
fn a_device_that_does_not_come_back_within_the_grace_period_leaves_its_call() {
    let mut world = World::new();
    let call = world.connected(B1, ALICE, A1);
    world.sb.handle_device_dropped(world.now, A1);
    world.take();
    assert_eq!(world.sb.poll_timeout(), Some(world.now.after(DEFAULT_RECONNECT_GRACE)));
    world.advance_to_next_timer();
    let out = world.take();
    // The offline device is not told (it cannot be); the other party is.
    assert_eq!(ended(&out), vec![(B1, CallEnded::PeerLost)]);
    assert!(world.sb.call(call).is_none());
    assert_eq!(world.sb.device_owner(A1), None, "the device is offline");
    assert!(!world.sb.handle_device_returned(A1), "too late to come back");
}

#[test]
fn a_dropped_parked_caller_stays_parked_and_can_still_be_retrieved() {
    let mut world = World::new();
    let (call, receipt) = world.parked_by_alice();
    world.sb.handle_device_dropped(world.now, D1);
    world.take();
    assert_eq!(world.sb.parked_count(), 1);
    world.advance(secs(5));
    // Retrieved while the caller is away: connected, and the caller hears it on return.
    world.sb.handle_retrieve(world.now, C1, receipt.code).unwrap();
    world.take();
    assert_eq!(world.sb.call(call), talking((DAVE, D1), (CAROL, C1)));
    assert!(world.sb.handle_device_returned(D1));
    assert_eq!(
        world.sb.device_calls(D1),
        vec![DeviceCall {
            call,
            role: DeviceRole::Connected,
            peer: Some(CAROL),
            code: None,
            peer_reconnecting: false
        }]
    );
}

#[test]
fn a_parked_caller_gone_past_the_grace_period_ends_the_park_as_caller_left() {
    let mut world = World::new();
    let (call, _) = world.parked_by_alice();
    world.sb.handle_device_dropped(world.now, D1);
    world.take();
    world.advance(DEFAULT_RECONNECT_GRACE);
    let out = world.take();
    assert!(audits(&out).contains(&AuditKind::CallerLeft), "{out:?}");
    assert!(world.sb.call(call).is_none());
    assert_eq!(world.sb.parked_count(), 0);
}

#[test]
fn ringing_survives_a_drop_and_new_calls_do_not_ring_a_device_that_is_away() {
    let mut world = World::new();
    let call = world.sb.handle_dial(world.now, B1, ALICE).unwrap();
    world.sb.handle_device_dropped(world.now, A1);
    world.take();
    assert!(world.sb.handle_device_returned(A1));
    assert_eq!(
        world.sb.device_calls(A1),
        vec![DeviceCall {
            call,
            role: DeviceRole::Incoming,
            peer: Some(BOB),
            code: None,
            peer_reconnecting: false
        }]
    );
    world.sb.handle_answer(world.now, A1, call).unwrap();
    world.take();
    assert_eq!(world.sb.call(call), talking((BOB, B1), (ALICE, A1)));

    // Alice's A2 drops while idle (nothing to keep): offline at once.
    world.sb.handle_device_dropped(world.now, A2);
    assert_eq!(world.sb.device_owner(A2), None);
    // A device away while ringing is not rung for a second call.
    let first = world.sb.handle_dial(world.now, D1, CAROL).unwrap();
    world.sb.handle_device_dropped(world.now, C1);
    world.take();
    let second = world.sb.handle_dial(world.now, A2, CAROL);
    assert!(second.is_err(), "A2 is offline; it cannot dial: {second:?}");
    assert_eq!(
        world.sb.device_calls(C1),
        vec![DeviceCall {
            call: first,
            role: DeviceRole::Incoming,
            peer: Some(DAVE),
            code: None,
            peer_reconnecting: false
        }]
    );
}

#[test]
fn the_device_is_told_every_call_it_takes_part_in_and_what_rings_on_it() {
    let mut world = World::new();
    let (call, receipt) = world.parked_by_alice();
    assert_eq!(
        world.sb.device_calls(D1),
        vec![DeviceCall {
            call,
            role: DeviceRole::OnHold,
            peer: Some(ALICE),
            code: None,
            peer_reconnecting: false
        }]
    );
    // The park times out: it rings back on Alice's devices.
    world.advance(secs(300));
    for device in [A1, A2] {
        assert_eq!(
            world.sb.device_calls(device),
            vec![DeviceCall {
                call,
                role: DeviceRole::Ringback,
                peer: Some(DAVE),
                code: Some(receipt.code),
                peer_reconnecting: false
            }]
        );
    }
    let dialing = world.sb.handle_dial(world.now, B1, CAROL).unwrap();
    assert_eq!(
        world.sb.device_calls(B1),
        vec![DeviceCall {
            call: dialing,
            role: DeviceRole::Dialing,
            peer: Some(CAROL),
            code: None,
            peer_reconnecting: false
        }]
    );
    assert!(world.sb.device_calls(DeviceId(999)).is_empty());
}

#[test]
fn the_grace_period_is_the_configured_one() {
    let config = Config { reconnect_grace: secs(2), ..Config::default() };
    let mut world = World::with_config(config);
    let call = world.connected(B1, ALICE, A1);
    world.sb.handle_device_dropped(world.now, B1);
    world.advance(Duration::from_millis(1_999));
    assert!(world.sb.call(call).is_some());
    world.advance(Duration::from_millis(1));
    assert!(world.sb.call(call).is_none());
}

#[test]
fn dropping_twice_does_not_extend_the_grace_period() {
    let mut world = World::new();
    let call = world.connected(B1, ALICE, A1);
    world.sb.handle_device_dropped(world.now, A1);
    world.advance(secs(20));
    world.take();
    world.sb.handle_device_dropped(world.now, A1);
    let out = world.take();
    assert!(notices_to(&out, B1).is_empty(), "told once: {out:?}");
    world.advance(secs(10));
    assert!(world.sb.call(call).is_none());
}

/// Dave's call parked by Alice under code 42 before a restart, as the store kept it.
fn kept_park(world: &World) -> ParkedCallRecord {
    ParkedCallRecord {
        call: CallId(7),
        policy: world.sales(),
        code: 42,
        caller: DAVE,
        caller_device: DeviceId(900),
        parked_by: ALICE,
        parked_at: world.now,
        ringback_at: world.now.after(secs(300)),
    }
}

#[test]
fn a_park_restored_after_a_restart_keeps_its_code_and_its_caller_comes_back_to_hold_music() {
    let mut world = World::new();
    let park = kept_park(&world);
    world.sb.restore_park(world.now, park).unwrap();
    let out = world.take();
    assert_eq!(media(&out), vec![MediaCommand::HoldMusic { device: DeviceId(900) }]);
    let views = world.sb.parked_calls(world.sales());
    assert_eq!((views.len(), views[0].code, views[0].parked_by), (1, 42, ALICE));
    // A new park does not get the restored code, and new calls get new ids.
    let (call, receipt) = world.parked_by_alice();
    assert_ne!(receipt.code, 42);
    assert!(call.0 > 7);
    // The caller's device resumes: on hold, then picked up with the old code.
    assert!(world.sb.handle_device_returned(DeviceId(900)));
    assert_eq!(
        world.sb.device_calls(DeviceId(900)),
        vec![DeviceCall {
            call: CallId(7),
            role: DeviceRole::OnHold,
            peer: Some(ALICE),
            code: None,
            peer_reconnecting: false
        }]
    );
    let picked_up = world.sb.handle_retrieve(world.now, C1, 42).unwrap();
    assert_eq!((picked_up.call, picked_up.caller), (CallId(7), DAVE));
    assert_eq!(world.sb.call(CallId(7)), talking((DAVE, DeviceId(900)), (CAROL, C1)));
}

#[test]
fn a_restored_park_whose_caller_does_not_come_back_ends_as_caller_left_after_60_s() {
    let mut world = World::new();
    world.sb.restore_park(world.now, kept_park(&world)).unwrap();
    world.take();
    assert_eq!(world.sb.poll_timeout(), Some(world.now.after(DEFAULT_RESTORED_CALLER_GRACE)));
    world.advance(DEFAULT_RESTORED_CALLER_GRACE - Duration::from_millis(1));
    assert_eq!(world.sb.parked_count(), 1);
    world.advance(Duration::from_millis(1));
    let out = world.take();
    assert!(audits(&out).contains(&AuditKind::CallerLeft), "{out:?}");
    assert_eq!(world.sb.parked_count(), 0);
    assert!(
        notices_to(&out, A1).iter().any(|notice| matches!(
            notice,
            Notice::ParkEnded(ParkEndRecord { code: 42, outcome: ParkOutcome::CallerLeft, .. })
        )),
        "the parker hears the outcome: {out:?}"
    );
}

#[test]
fn a_restored_park_whose_ringback_time_passed_while_down_rings_back_at_once() {
    let mut world = World::new();
    let mut park = kept_park(&world);
    park.ringback_at = Timestamp::from_millis(world.now.as_millis() - 1_000);
    world.sb.restore_park(world.now, park).unwrap();
    world.take();
    world.sb.handle_timeout(world.now);
    let out = world.take();
    assert_eq!(
        notices_to(&out, A1),
        vec![Notice::Ringback { call: CallId(7), code: 42, caller: DAVE }]
    );
}

#[test]
fn a_park_that_cannot_be_restored_is_refused_and_changes_nothing() {
    let mut world = World::new();
    let park = kept_park(&world);
    world.sb.restore_park(world.now, park).unwrap();
    world.take();
    // The same code again, a device in use, an account that is gone.
    let again = ParkedCallRecord { call: CallId(8), caller_device: DeviceId(901), ..park };
    assert!(world.sb.restore_park(world.now, again).is_err());
    let device_taken = ParkedCallRecord { call: CallId(8), code: 43, caller_device: B1, ..park };
    assert!(world.sb.restore_park(world.now, device_taken).is_err());
    let gone = ParkedCallRecord { call: CallId(8), code: 43, caller: UserId(99), ..again };
    assert!(world.sb.restore_park(world.now, gone).is_err());
    assert_eq!(world.sb.parked_count(), 1);
    assert!(world.take().is_empty());
    assert_eq!(world.sb.device_owner(DeviceId(901)), None);
}

/// Alice's park under code 10 that the service could not keep through a restart.
fn lost_park(world: &World) -> LostPark {
    LostPark { policy: world.sales(), code: 10, parked_by: ALICE, lost_at: world.now }
}

#[test]
fn a_lost_parks_code_is_held_and_its_retriever_is_told_the_call_was_lost() {
    let mut world = World::new();
    let codes = PolicyChanges {
        pickup_range_start: Some(10),
        pickup_range_end: Some(11),
        ..Default::default()
    };
    world.sb.set_policy("Sales", &codes).unwrap();
    assert!(world.sb.quarantine_lost_code(world.now, lost_park(&world)));
    assert!(world.take().is_empty(), "nothing to tell anyone yet");

    let error = world.sb.handle_retrieve(world.now, C1, 10).unwrap_err();
    assert_eq!(error, CallError::CodeLost { code: 10, parker_name: "Alice".into() });
    assert_eq!(error.code(), "code_lost");
    assert_eq!(
        error.to_string(),
        "The call Alice parked with code 10 was lost when the service restarted; it can no \
         longer be picked up. Alice has been told."
    );
    // New parks get the other code; with that one taken, none is free.
    let (_, receipt) = world.parked_by_alice();
    assert_eq!(receipt.code, 11);
    let call = world.connected(C1, BOB, B1);
    assert_eq!(
        world.sb.handle_park(world.now, B1, call),
        Err(CallError::NoFreeCode { start: 10, end: 11 })
    );

    // Thirty minutes on, the code is free again and the lost call is forgotten.
    let quarantine = Config::default().remember_ended_codes;
    assert!(world.sb.poll_timeout().is_some_and(|at| at <= world.now.after(quarantine)));
    world.advance(quarantine);
    world.take();
    assert_eq!(world.sb.handle_park(world.now, B1, call).map(|r| r.code), Ok(10));
}

#[test]
fn a_lost_park_whose_quarantine_passed_while_down_or_whose_code_is_kept_holds_nothing() {
    let mut world = World::new();
    let mut long_ago = lost_park(&world);
    world.advance(Config::default().remember_ended_codes);
    assert!(!world.sb.quarantine_lost_code(world.now, long_ago));
    // A park restored with the same code keeps it: the lost one does not take it.
    let kept = ParkedCallRecord { code: 10, ..kept_park(&world) };
    world.sb.restore_park(world.now, kept).unwrap();
    long_ago.lost_at = world.now;
    assert!(!world.sb.quarantine_lost_code(world.now, long_ago));
    let picked_up = world.sb.handle_retrieve(world.now, C1, 10).unwrap();
    assert_eq!(picked_up.caller, DAVE);
}

/// Bob and Carol talking on devices 800 and 801 before a restart, as the store kept it.
fn kept_call() -> ConnectedCallRecord {
    ConnectedCallRecord {
        call: CallId(9),
        a: Party { user: BOB, device: DeviceId(800) },
        b: Party { user: CAROL, device: DeviceId(801) },
    }
}

#[test]
fn a_call_restored_after_a_restart_goes_on_when_both_devices_come_back() {
    let mut world = World::new();
    world.sb.restore_connected_call(world.now, kept_call()).unwrap();
    let out = world.take();
    let (bob, carol) = (DeviceId(800), DeviceId(801));
    assert_eq!(media(&out), vec![MediaCommand::Bridge { a: bob, b: carol }]);
    assert!(stores(&out).is_empty(), "the stored record stays as it was: {out:?}");
    assert!(world.sb.is_away(bob) && world.sb.is_away(carol));
    assert_eq!(world.sb.call(CallId(9)), talking((BOB, bob), (CAROL, carol)));
    // New calls get ids above it.
    let dialed = world.sb.handle_dial(world.now, A1, DAVE).unwrap();
    assert!(dialed.0 > 9, "{dialed:?}");

    // Bob comes back first: in the call, told that Carol is still reconnecting.
    world.advance(secs(5));
    assert!(world.sb.handle_device_returned(bob));
    assert_eq!(
        world.sb.device_calls(bob),
        vec![DeviceCall {
            call: CallId(9),
            role: DeviceRole::Connected,
            peer: Some(CAROL),
            code: None,
            peer_reconnecting: true
        }]
    );
    // Carol comes back: Bob hears she is back, and she is told nobody is away.
    world.take();
    assert!(world.sb.handle_device_returned(carol));
    let out = world.take();
    assert_eq!(
        notices_to(&out, bob),
        vec![Notice::PeerReconnected { call: CallId(9), peer: CAROL }]
    );
    assert!(!world.sb.device_calls(carol)[0].peer_reconnecting);
    // The grace period passing changes nothing now; hanging up forgets the record.
    world.advance(DEFAULT_RESTORED_CALLER_GRACE);
    assert_eq!(world.sb.call(CallId(9)), talking((BOB, bob), (CAROL, carol)));
    world.sb.handle_hangup(world.now, bob, CallId(9)).unwrap();
    let out = world.take();
    assert_eq!(stores(&out), vec![StoreCommand::ForgetConnectedCall { call: CallId(9) }]);
    assert_eq!(
        notices_to(&out, carol),
        vec![Notice::CallEnded { call: CallId(9), reason: CallEnded::PeerHungUp }]
    );
}

#[test]
fn a_restored_call_whose_other_device_does_not_come_back_ends_as_peer_lost_after_60_s() {
    let mut world = World::new();
    world.sb.restore_connected_call(world.now, kept_call()).unwrap();
    let (bob, carol) = (DeviceId(800), DeviceId(801));
    assert!(world.sb.handle_device_returned(bob));
    world.take();
    world.advance(DEFAULT_RESTORED_CALLER_GRACE - Duration::from_millis(1));
    assert_eq!(world.sb.call(CallId(9)), talking((BOB, bob), (CAROL, carol)));
    world.advance(Duration::from_millis(1));
    let out = world.take();
    assert_eq!(
        notices_to(&out, bob),
        vec![Notice::CallEnded { call: CallId(9), reason: CallEnded::PeerLost }]
    );
    assert_eq!(stores(&out), vec![StoreCommand::ForgetConnectedCall { call: CallId(9) }]);
    assert!(world.sb.call(CallId(9)).is_none());
    assert_eq!(world.sb.device_owner(carol), None, "Carol's old device is gone");
    assert_eq!(world.sb.device_call(bob), None, "Bob is free for another call");
}

#[test]
fn a_call_that_cannot_be_restored_is_refused_and_changes_nothing() {
    let mut world = World::new();
    let call = kept_call();
    let gone = ConnectedCallRecord { a: Party { user: UserId(99), ..call.a }, ..call };
    assert!(world.sb.restore_connected_call(world.now, gone).is_err());
    let in_use = ConnectedCallRecord { b: Party { user: BOB, device: B1 }, ..call };
    assert!(world.sb.restore_connected_call(world.now, in_use).is_err());
    let one_device = ConnectedCallRecord { b: call.a, ..call };
    assert!(world.sb.restore_connected_call(world.now, one_device).is_err());
    assert!(world.take().is_empty());
    assert!(world.sb.call(CallId(9)).is_none());
    assert_eq!(world.sb.device_owner(DeviceId(800)), None);
    world.sb.restore_connected_call(world.now, call).unwrap();
    let twice = ConnectedCallRecord { call: CallId(10), ..call };
    assert!(world.sb.restore_connected_call(world.now, twice).is_err());
}
