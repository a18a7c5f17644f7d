//! The demo tenant `callpark-server --demo` starts with on an empty data directory: a
//! front-desk group whose policy has park on, and one user outside it.

use callpark_wire::admin::{GrantRequest, NewGroup, NewPolicy, PolicyFields};

use crate::accounts::hash_password;
use crate::tenant::{NewAccount, Tenant, TenantError};

/// (login, display name, in the front-desk group). Passwords are `<login>-demo`;
/// alice is an admin.
pub const DEMO_USERS: &[(&str, &str, bool)] = &[
    ("alice", "Alice Moreau", true),
    ("bob", "Bob Okafor", true),
    ("carol", "Carol Lindqvist", true),
    ("dave", "Dave Park-less", false),
];

pub const DEMO_GROUP: &str = "Front desk";
pub const DEMO_POLICY: &str = "Front desk";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot seed the demo tenant: {0}")]
    Tenant(#[from] TenantError),
    #[error("cannot hash a demo password: {0}")]
    Password(#[from] crate::accounts::AccountError),
}

/// The demo password of a demo login.
pub fn demo_password(login: &str) -> String {
    format!("{login}-demo")
}

/// Adds the demo users, group and policy to a new tenant.
pub fn seed_demo(tenant: &mut Tenant) -> Result<(), DemoError> {
    for (index, (login, name, _)) in DEMO_USERS.iter().enumerate() {
        let password_hash = hash_password(&demo_password(login))?;
        tenant.seed_user(NewAccount {
            login: (*login).to_owned(),
            display_name: (*name).to_owned(),
            password_hash,
            admin: index == 0,
            enterprise_voice: true,
            unanswered: None,
            unanswered_delay_seconds: None,
        })?;
    }
    let members =
        DEMO_USERS.iter().filter(|(_, _, in_group)| *in_group).map(|(l, _, _)| (*l).to_owned());
    let group = NewGroup { name: DEMO_GROUP.to_owned(), members: members.collect() };
    tenant.new_group(&group)?;
    let policy = NewPolicy {
        identity: DEMO_POLICY.to_owned(),
        fields: PolicyFields {
            allow_call_park: Some(true),
            description: Some("Demo: the front desk parks calls for the floor".into()),
            ..Default::default()
        },
    };
    tenant.new_policy(&policy)?;
    let grant = GrantRequest {
        policy: Some(DEMO_POLICY.to_owned()),
        group: Some(DEMO_GROUP.to_owned()),
        rank: Some(1),
        ..Default::default()
    };
    tenant.grant(&grant)?;
    Ok(())
}
