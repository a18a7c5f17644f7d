//! Call park policies through the switchboard: New/Set/Get/Remove/Grant and which
//! policy governs a user.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use callpark_park::*;
use common::*;

fn changes() -> PolicyChanges {
    PolicyChanges::default()
}

#[test]
fn global_exists_with_park_off_by_default() {
    let sb = Switchboard::default();
    let (id, global) = sb.directory().policy_by_identity("Global").unwrap();
    assert_eq!(id, PolicyId::GLOBAL);
    assert!(!global.allow_call_park);
    assert_eq!(global.pickup_range(), 10..=99);
    assert_eq!(global.park_timeout_seconds, 300);
}

#[test]
fn global_cannot_be_removed() {
    let mut sb = Switchboard::default();
    assert_eq!(sb.remove_policy("Global", true), Err(PolicyError::GlobalIsPermanent));
    assert!(sb.directory().policy_by_identity("Global").is_ok());
}

#[test]
fn new_takes_defaults_for_unset_fields_and_accepts_the_bare_name() {
    let mut sb = Switchboard::default();
    sb.new_policy("Reception", &PolicyChanges { allow_call_park: Some(true), ..changes() })
        .unwrap();
    let (_, policy) = sb.directory().policy_by_identity("Tag:Reception").unwrap();
    assert_eq!(policy.identity.to_string(), "Tag:Reception");
    assert!(policy.allow_call_park);
    assert_eq!(policy.pickup_range(), 10..=99);
    assert_eq!(policy.park_timeout_seconds, 300);
}

#[test]
fn names_are_unique_case_insensitively() {
    let mut sb = Switchboard::default();
    sb.new_policy("Sales", &changes()).unwrap();
    let error = sb.new_policy("Tag:SALES", &changes()).unwrap_err();
    assert_eq!(error.code(), "policy_exists");
    assert!(matches!(sb.new_policy("global", &changes()), Err(PolicyError::AlreadyExists { .. })));
}

#[test]
fn invalid_new_creates_nothing() {
    let mut sb = Switchboard::default();
    let error = sb
        .new_policy("Sales", &PolicyChanges { park_timeout_seconds: Some(5000), ..changes() })
        .unwrap_err();
    assert_eq!(error, PolicyError::ParkTimeoutOutOfBounds { value: 5000 });
    assert_eq!(error.field(), Some("ParkTimeoutSeconds"));
    assert!(sb.directory().policy_by_identity("Sales").is_err());
}

#[test]
fn set_changes_only_given_fields_and_invalid_set_changes_nothing() {
    let mut sb = Switchboard::default();
    sb.new_policy("Sales", &PolicyChanges { description: Some("Front".into()), ..changes() })
        .unwrap();
    sb.set_policy("Sales", &PolicyChanges { pickup_range_end: Some(500), ..changes() }).unwrap();
    let before = sb.directory().policy_by_identity("Sales").unwrap().1.clone();
    assert_eq!(before.description, "Front");
    assert_eq!(before.pickup_range(), 10..=500);

    // A valid field next to an invalid one: the whole Set is refused.
    let error = sb
        .set_policy(
            "Sales",
            &PolicyChanges {
                allow_call_park: Some(true),
                pickup_range_start: Some(600),
                ..changes()
            },
        )
        .unwrap_err();
    assert_eq!(error, PolicyError::PickupRangeReversed { start: 600, end: 500 });
    assert_eq!(sb.directory().policy_by_identity("Sales").unwrap().1, &before);
}

#[test]
fn set_on_global_turns_park_on_for_everyone_without_another_policy() {
    let mut sb = Switchboard::default();
    sb.set_policy("Global", &PolicyChanges { allow_call_park: Some(true), ..changes() }).unwrap();
    assert!(sb.directory().policy_by_identity("Global").unwrap().1.allow_call_park);
}

#[test]
fn get_one_all_and_by_pattern() {
    let mut sb = Switchboard::default();
    for name in ["Sales East", "Sales West", "Support"] {
        sb.new_policy(name, &changes()).unwrap();
    }
    assert_eq!(sb.directory().policies().count(), 4);
    let names = |pattern: &str| -> Vec<String> {
        sb.directory().find_policies(pattern).map(|(_, p)| p.identity.to_string()).collect()
    };
    assert_eq!(names("Sales*"), vec!["Tag:Sales East", "Tag:Sales West"]);
    assert_eq!(names("Tag:S*t"), vec!["Tag:Sales East", "Tag:Sales West", "Tag:Support"]);
    assert_eq!(names("glob*"), vec!["Global"]);
    assert!(names("Nothing*").is_empty());
    assert_eq!(
        sb.directory().policy_by_identity("Missing").unwrap_err().code(),
        "policy_not_found"
    );
}

#[test]
fn remove_refuses_a_granted_policy_unless_forced() {
    let mut world = World::new();
    let error = world.sb.remove_policy("Sales", false).unwrap_err();
    assert_eq!(error.code(), "policy_in_use");
    assert!(error.to_string().contains("1 group(s)"));
    assert!(world.sb.directory().policy_by_identity("Sales").is_ok());

    world.sb.remove_policy("Sales", true).unwrap();
    assert!(world.sb.directory().policy_by_identity("Sales").is_err());
    // Alice falls back to Global, where park is off.
    let effective = world.sb.directory().effective_policy(ALICE).unwrap();
    assert_eq!(effective.policy, PolicyId::GLOBAL);
}

#[test]
fn remove_of_an_ungranted_policy_works_and_frees_the_name() {
    let mut sb = Switchboard::default();
    let first = sb.new_policy("Temp", &changes()).unwrap();
    sb.remove_policy("Temp", false).unwrap();
    let second = sb.new_policy("Temp", &changes()).unwrap();
    assert_ne!(first, second, "policy ids are never reused");
}

#[test]
fn effective_policy_direct_beats_group_beats_tenant_default() {
    let mut world = World::new();
    let sales = world.sales();
    let vip = world.sb.new_policy("VIP", &changes()).unwrap();
    let dir = |w: &World, u| w.sb.directory().effective_policy(u).unwrap();

    assert_eq!(dir(&world, ALICE).policy, sales);
    assert_eq!(dir(&world, ALICE).source, PolicySource::Group { group: SALES, rank: 1 });
    assert_eq!(dir(&world, DAVE).policy, PolicyId::GLOBAL);
    assert_eq!(dir(&world, DAVE).source, PolicySource::TenantDefault);

    world.sb.grant_user_policy(ALICE, Some("VIP")).unwrap();
    assert_eq!(dir(&world, ALICE), EffectivePolicy { policy: vip, source: PolicySource::Direct });

    // Granting none removes the direct grant: back to the group's.
    world.sb.grant_user_policy(ALICE, None).unwrap();
    assert_eq!(dir(&world, ALICE).policy, sales);

    world.sb.grant_tenant_default(Some("VIP")).unwrap();
    assert_eq!(dir(&world, DAVE).policy, vip);
    assert_eq!(dir(&world, ALICE).policy, sales, "a group assignment beats the tenant default");
    world.sb.grant_tenant_default(None).unwrap();
    assert_eq!(dir(&world, DAVE).policy, PolicyId::GLOBAL);
}

#[test]
fn the_best_ranked_group_wins_and_ranks_shift_like_the_cmdlet() {
    let mut world = World::new();
    let floor = GroupId(2);
    world.sb.add_group(floor).unwrap();
    world.sb.add_group_member(floor, ALICE).unwrap();
    let floor_policy = world.sb.new_policy("Floor", &changes()).unwrap();
    let sales = world.sales();

    // Sales is rank 1; Floor goes in at rank 2.
    assert_eq!(world.sb.grant_group_policy(floor, Some("Floor"), 2), Ok(Some(2)));
    assert_eq!(world.sb.directory().effective_policy(ALICE).unwrap().policy, sales);

    // Floor at rank 1 pushes Sales down to rank 2.
    assert_eq!(world.sb.grant_group_policy(floor, Some("Floor"), 1), Ok(Some(1)));
    assert_eq!(world.sb.directory().effective_policy(ALICE).unwrap().policy, floor_policy);
    assert_eq!(world.sb.directory().effective_policy(BOB).unwrap().policy, sales);
    let ranks: Vec<_> = world.sb.directory().group_assignments().collect();
    assert_eq!(ranks, vec![(floor, floor_policy, 1), (SALES, sales, 2)]);

    // A rank past the end goes last; an invalid rank is refused and changes nothing.
    assert_eq!(world.sb.grant_group_policy(floor, Some("Floor"), 99), Ok(Some(2)));
    assert_eq!(
        world.sb.grant_group_policy(floor, Some("Floor"), 0),
        Err(DirectoryError::InvalidRank(0))
    );
    assert_eq!(world.sb.directory().group_assignments().count(), 2);

    // Removing the group's assignment; leaving the group.
    world.sb.grant_group_policy(SALES, None, 1).unwrap();
    assert_eq!(world.sb.directory().effective_policy(ALICE).unwrap().policy, floor_policy);
    world.sb.remove_group_member(floor, ALICE).unwrap();
    assert_eq!(world.sb.directory().effective_policy(ALICE).unwrap().policy, PolicyId::GLOBAL);
}

#[test]
fn grants_of_unknown_policies_users_or_groups_are_refused() {
    let mut world = World::new();
    assert_eq!(
        world.sb.grant_user_policy(ALICE, Some("Nope")).unwrap_err().code(),
        "policy_not_found"
    );
    assert_eq!(
        world.sb.grant_user_policy(UserId(99), Some("Sales")).unwrap_err().code(),
        "user_not_found"
    );
    assert_eq!(
        world.sb.grant_group_policy(GroupId(99), Some("Sales"), 1).unwrap_err().code(),
        "group_not_found"
    );
    assert_eq!(world.sb.directory().effective_policy(ALICE).unwrap().policy, world.sales());
}

#[test]
fn user_settings_are_validated() {
    let mut sb = Switchboard::default();
    sb.add_user(ALICE, user("Alice")).unwrap();
    let too_short = user("Bob").with_unanswered(UnansweredAction::Voicemail, 5);
    assert_eq!(
        sb.add_user(BOB, too_short),
        Err(DirectoryError::UnansweredDelayOutOfBounds { seconds: 5 })
    );
    let to_self = user("Bob").with_unanswered(UnansweredAction::Forward(BOB), 20);
    assert_eq!(sb.add_user(BOB, to_self), Err(DirectoryError::ForwardToSelf));
    let to_nobody = user("Bob").with_unanswered(UnansweredAction::Forward(UserId(77)), 20);
    assert_eq!(sb.add_user(BOB, to_nobody), Err(DirectoryError::ForwardTargetNotFound(UserId(77))));
    assert!(sb.directory().user(BOB).is_none());
    assert_eq!(sb.add_user(ALICE, user("Again")), Err(DirectoryError::UserExists(ALICE)));
    assert_eq!(sb.directory().user(ALICE).unwrap().display_name, "Alice");
}

#[test]
fn new_users_are_not_enterprise_voice_enabled_and_go_to_voicemail_after_20_s() {
    let settings = UserSettings::new("Erin");
    assert!(!settings.enterprise_voice);
    assert_eq!(settings.unanswered, UnansweredAction::Voicemail);
    assert_eq!(settings.unanswered_delay_seconds, 20);
}
