//! Every park's outcome is kept for its parker until one of their devices
//! acknowledges it, so a parker who was offline (or whose park a restart lost)
//! still learns it on whichever device connects next.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use callpark_park::*;
use common::*;

fn kept(world: &World, user: UserId) -> Vec<ParkEndRecord> {
    world.sb.park_outcomes_of(user).copied().collect()
}

#[test]
fn an_outcome_is_kept_until_one_device_acknowledges_it_and_every_device_is_told() {
    let mut world = World::new();
    let (call, receipt) = world.parked_by_alice();
    // Alice's devices are both offline when Carol picks the call up.
    world.sb.handle_device_offline(world.now, A1);
    world.sb.handle_device_offline(world.now, A2);
    world.take();
    world.sb.handle_retrieve(world.now, C1, receipt.code).unwrap();
    let out = world.take();
    let ended = world.alice_park_ended(call, receipt.code, ParkOutcome::Retrieved { by: CAROL });
    assert!(notices_to(&out, A1).is_empty(), "nobody is there to tell");
    assert!(stores(&out).contains(&StoreCommand::ParkEnded(ended)));
    assert_eq!(kept(&world, ALICE), vec![ended]);

    // Both come back: the outcome is still there for each (reading it takes nothing).
    world.sb.handle_device_online(world.now, A1, ALICE).unwrap();
    world.sb.handle_device_online(world.now, A2, ALICE).unwrap();
    assert_eq!(kept(&world, ALICE), vec![ended]);
    world.take();

    // Someone else cannot acknowledge it, nor can Alice acknowledge a call never hers.
    assert_eq!(
        world.sb.handle_acknowledge_park_ended(C1, call),
        Err(CallError::ParkOutcomeNotFound { call })
    );
    let error = world.sb.handle_acknowledge_park_ended(A1, CallId(999)).unwrap_err();
    assert_eq!(error.code(), "park_outcome_not_found");
    assert_eq!(
        error.to_string(),
        "No ended park of yours with call 999 is waiting to be acknowledged."
    );
    assert!(world.take().is_empty(), "a refusal changes nothing");

    world.sb.handle_acknowledge_park_ended(A2, call).unwrap();
    let out = world.take();
    assert_eq!(notices_to(&out, A1), vec![Notice::ParkEndedAcknowledged { call }]);
    assert_eq!(notices_to(&out, A2), vec![Notice::ParkEndedAcknowledged { call }]);
    assert_eq!(stores(&out), vec![StoreCommand::ForgetParkOutcome { parked_by: ALICE, call }]);
    assert!(kept(&world, ALICE).is_empty());
    assert_eq!(
        world.sb.handle_acknowledge_park_ended(A1, call),
        Err(CallError::ParkOutcomeNotFound { call }),
        "twice is refused, not a second forget"
    );
}

#[test]
fn every_kind_of_ending_is_kept_including_a_lost_park() {
    let mut world = World::new();
    let (first, _) = world.parked_by_alice();
    world.sb.handle_hangup(world.now, D1, first).unwrap();
    world.advance(secs(1));
    let (second, receipt) = world.parked_by_alice();
    world.sb.handle_retrieve(world.now, C1, receipt.code).unwrap();
    world.drain();
    let outcomes: Vec<(CallId, ParkOutcome)> =
        kept(&world, ALICE).iter().map(|r| (r.call, r.outcome)).collect();
    assert_eq!(
        outcomes,
        vec![(first, ParkOutcome::CallerLeft), (second, ParkOutcome::Retrieved { by: CAROL })],
        "oldest first"
    );

    // A park a restart lost comes back from the store as an outcome like any other.
    let lost = ParkEndRecord {
        call: CallId(second.0 + 1),
        code: 12,
        caller: DAVE,
        parked_by: ALICE,
        outcome: ParkOutcome::Lost,
        ended_at: world.now,
    };
    world.sb.restore_park_outcome(lost);
    assert_eq!(kept(&world, ALICE).last(), Some(&lost));
}

#[test]
fn a_parker_who_never_looks_keeps_only_the_newest_outcomes() {
    let mut world = World::new();
    let mut calls = Vec::new();
    for _ in 0..PARK_OUTCOMES_KEPT + 2 {
        let (call, receipt) = world.parked_by_alice();
        world.sb.handle_retrieve(world.now, C1, receipt.code).unwrap();
        world.sb.handle_hangup(world.now, C1, call).unwrap();
        calls.push(call);
    }
    let out = world.take();
    let forgotten: Vec<StoreCommand> = stores(&out)
        .into_iter()
        .filter(|command| matches!(command, StoreCommand::ForgetParkOutcome { .. }))
        .collect();
    assert_eq!(
        forgotten,
        vec![
            StoreCommand::ForgetParkOutcome { parked_by: ALICE, call: calls[0] },
            StoreCommand::ForgetParkOutcome { parked_by: ALICE, call: calls[1] }
        ]
    );
    let kept_calls: Vec<CallId> = kept(&world, ALICE).iter().map(|r| r.call).collect();
    assert_eq!(kept_calls, calls[2..].to_vec());
}

#[test]
fn a_call_parked_again_by_the_same_parker_keeps_only_its_latest_outcome() {
    let mut world = World::new();
    let (call, receipt) = world.parked_by_alice();
    world.sb.handle_retrieve(world.now, A2, receipt.code).unwrap();
    world.sb.handle_park(world.now, A2, call).unwrap();
    world.advance(secs(1));
    let code = world.sb.parked_calls(world.sales())[0].code;
    world.sb.handle_retrieve(world.now, C1, code).unwrap();
    world.drain();
    let outcomes: Vec<(CallId, ParkOutcome)> =
        kept(&world, ALICE).iter().map(|r| (r.call, r.outcome)).collect();
    assert_eq!(outcomes, vec![(call, ParkOutcome::Retrieved { by: CAROL })]);
}
