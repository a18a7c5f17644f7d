//! The demo tenant `callpark-server --demo` starts with: a front-desk group whose
//! policy has park on, and one user outside it.

use std::collections::HashMap;

use callpark_park::{GroupId, PolicyChanges, Switchboard, UserId, UserSettings};

use crate::accounts::{AccountError, Accounts};

/// (login, display name, in the front-desk group). Passwords are `<login>-demo`.
pub const DEMO_USERS: &[(&str, &str, bool)] = &[
    ("alice", "Alice Moreau", true),
    ("bob", "Bob Okafor", true),
    ("carol", "Carol Lindqvist", true),
    ("dave", "Dave Park-less", false),
];

pub const DEMO_POLICY: &str = "Front desk";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo account: {0}")]
    Account(#[from] AccountError),
    #[error("demo directory: {0}")]
    Directory(#[from] callpark_park::DirectoryError),
    #[error("demo policy: {0}")]
    Policy(#[from] callpark_park::PolicyError),
}

pub struct Tenant {
    pub switchboard: Switchboard,
    pub logins: HashMap<String, UserId>,
    pub accounts: Accounts,
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant").field("logins", &self.logins).finish_non_exhaustive()
    }
}

pub fn demo_tenant(switchboard: Switchboard) -> Result<Tenant, DemoError> {
    let mut switchboard = switchboard;
    let mut logins = HashMap::new();
    let mut accounts = Accounts::default();
    let front_desk = GroupId(1);
    switchboard.add_group(front_desk)?;
    let park_on = PolicyChanges {
        allow_call_park: Some(true),
        description: Some("Demo: the front desk parks calls for the floor".into()),
        ..Default::default()
    };
    switchboard.new_policy(DEMO_POLICY, &park_on)?;
    switchboard.grant_group_policy(front_desk, Some(DEMO_POLICY), 1)?;
    for (index, (login, name, in_group)) in DEMO_USERS.iter().enumerate() {
        let user = UserId(index as u64 + 1);
        switchboard.add_user(user, UserSettings::new(*name).with_enterprise_voice(true))?;
        if *in_group {
            switchboard.add_group_member(front_desk, user)?;
        }
        accounts.add(login, &format!("{login}-demo"), user, index == 0)?;
        logins.insert((*login).to_owned(), user);
    }
    Ok(Tenant { switchboard, logins, accounts })
}
