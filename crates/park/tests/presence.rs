//! The live people list: everyone with their presence on subscribing, then one
//! notice per real change.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use callpark_park::*;
use common::*;

fn people(out: &[Output], device: DeviceId) -> Vec<PeopleChange> {
    notices_to(out, device)
        .into_iter()
        .filter_map(|notice| match notice {
            Notice::People(change) => Some(change),
            _ => None,
        })
        .collect()
}

#[test]
fn subscribing_lists_everyone_and_calls_move_people_between_available_and_in_call() {
    let mut world = World::new();
    world.sb.handle_device_offline(world.now, D1);
    world.take();
    world.sb.handle_subscribe_people(B1, true).unwrap();
    let out = world.take();
    assert_eq!(
        people(&out, B1),
        vec![PeopleChange::Everyone(vec![
            (ALICE, Presence::Available),
            (BOB, Presence::Available),
            (CAROL, Presence::Available),
            (DAVE, Presence::Offline),
        ])]
    );
    assert!(people(&out, C1).is_empty(), "only the subscriber gets the list");

    world.sb.handle_device_online(world.now, D1, DAVE).unwrap();
    let call = world.connected(D1, CAROL, C1);
    let out = world.take();
    assert_eq!(
        people(&out, B1),
        vec![
            PeopleChange::Changed { user: CAROL, presence: Presence::InCall },
            PeopleChange::Changed { user: DAVE, presence: Presence::InCall },
        ],
        "Dave coming online and calling, drained at once, is one change to the end state"
    );

    world.sb.handle_park(world.now, C1, call).unwrap();
    let out = world.take();
    assert_eq!(
        people(&out, B1),
        vec![PeopleChange::Changed { user: CAROL, presence: Presence::Available }],
        "the parker is free; the parked caller is still in a call"
    );
}

#[test]
fn ringing_is_not_a_change_and_a_second_device_in_a_call_keeps_alice_in_call() {
    let mut world = World::new();
    world.sb.handle_subscribe_people(B1, true).unwrap();
    world.take();
    let call = world.sb.handle_dial(world.now, D1, ALICE).unwrap();
    let out = world.take();
    assert_eq!(
        people(&out, B1),
        vec![PeopleChange::Changed { user: DAVE, presence: Presence::InCall }],
        "Alice's devices ringing leave her available"
    );
    world.sb.handle_answer(world.now, A1, call).unwrap();
    let out = world.take();
    assert_eq!(
        people(&out, B1),
        vec![PeopleChange::Changed { user: ALICE, presence: Presence::InCall }]
    );
    world.sb.handle_device_offline(world.now, A2);
    let out = world.take();
    assert!(people(&out, B1).is_empty(), "A1 is still in the call: no change");
    world.sb.handle_hangup(world.now, A1, call).unwrap();
    let out = world.take();
    assert_eq!(
        people(&out, B1),
        vec![
            PeopleChange::Changed { user: ALICE, presence: Presence::Available },
            PeopleChange::Changed { user: DAVE, presence: Presence::Available },
        ]
    );
}

#[test]
fn added_and_removed_accounts_reach_watchers_and_unsubscribing_stops_the_list() {
    let mut world = World::new();
    world.sb.handle_subscribe_people(B1, true).unwrap();
    world.take();
    let erin = UserId(5);
    world.sb.add_user(erin, user("Erin")).unwrap();
    let out = world.take();
    assert_eq!(
        people(&out, B1),
        vec![PeopleChange::Changed { user: erin, presence: Presence::Offline }]
    );
    world.sb.remove_user(world.now, DAVE).unwrap();
    let out = world.take();
    assert_eq!(people(&out, B1), vec![PeopleChange::Removed { user: DAVE }]);

    world.sb.handle_subscribe_people(B1, false).unwrap();
    world.sb.handle_device_offline(world.now, C1);
    assert!(people(&world.take(), B1).is_empty());
    assert_eq!(
        world.sb.handle_subscribe_people(D1, true),
        Err(CallError::UnknownDevice),
        "Dave's device went with his account"
    );
}
