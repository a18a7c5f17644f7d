//! A small tenant for service tests: Alice and Carol in a policy with park on,
//! Dave without one. Passwords are "<login>-password".
#![allow(dead_code)]

use std::collections::HashMap;

use callpark_park::{PolicyChanges, Switchboard, UserId, UserSettings};
use callpark_service::Accounts;

pub const ALICE: UserId = UserId(1);
pub const CAROL: UserId = UserId(3);
pub const DAVE: UserId = UserId(4);

pub struct Tenant {
    pub switchboard: Switchboard,
    pub logins: HashMap<String, UserId>,
    pub accounts: Accounts,
}

pub fn tenant() -> Tenant {
    let mut switchboard = Switchboard::default();
    let mut logins = HashMap::new();
    let mut accounts = Accounts::default();
    for (id, login, name) in
        [(ALICE, "alice", "Alice"), (CAROL, "carol", "Carol"), (DAVE, "dave", "Dave")]
    {
        switchboard.add_user(id, UserSettings::new(name).with_enterprise_voice(true)).unwrap();
        logins.insert(login.to_owned(), id);
        accounts.add(login, &format!("{login}-password"), id, false).unwrap();
    }
    let park_on = PolicyChanges { allow_call_park: Some(true), ..Default::default() };
    switchboard.new_policy("Sales", &park_on).unwrap();
    switchboard.grant_user_policy(ALICE, Some("Sales")).unwrap();
    switchboard.grant_user_policy(CAROL, Some("Sales")).unwrap();
    Tenant { switchboard, logins, accounts }
}
