//! The tenant as the service sees it: the switchboard (which holds every park rule)
//! plus what only the service needs: login names, password hashes, the admin role
//! and group names. Admin operations are typed methods (operations.rs) that answer
//! with the API's views (views.rs) or a [`TenantError`].

mod error;
mod operations;
mod views;

use std::collections::HashMap;

use callpark_park::{
    GroupId, Policy, PolicyChanges, PolicyId, Switchboard, UnansweredAction, UserId, UserSettings,
};

pub use error::TenantError;
pub use operations::{DISPLAY_NAME_MAX_CHARS, GROUP_NAME_MAX_CHARS};

use crate::store::{GroupRow, TenantSnapshot, UserRow};

/// Sign-in data of one user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub login: String,
    pub password_hash: String,
    pub admin: bool,
}

/// A new account, its password already hashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAccount {
    pub login: String,
    pub display_name: String,
    pub password_hash: String,
    pub admin: bool,
    pub enterprise_voice: bool,
    pub unanswered: Option<String>,
    pub unanswered_delay_seconds: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("stored policy {identity}: {source}")]
    Policy { identity: String, source: callpark_park::PolicyError },
    #[error("stored user {login}: {source}")]
    User { login: String, source: callpark_park::DirectoryError },
    #[error("stored group {name}: {source}")]
    Group { name: String, source: callpark_park::DirectoryError },
    #[error("stored grant: {0}")]
    Grant(callpark_park::DirectoryError),
}

#[derive(Debug)]
pub struct Tenant {
    pub switchboard: Switchboard,
    accounts: HashMap<UserId, Account>,
    logins: HashMap<String, UserId>,
    group_names: HashMap<GroupId, String>,
    groups_by_name: HashMap<String, GroupId>,
    next_user: u64,
    next_group: u64,
}

fn changes_of(policy: &Policy) -> PolicyChanges {
    PolicyChanges {
        description: Some(policy.description.clone()),
        allow_call_park: Some(policy.allow_call_park),
        pickup_range_start: Some(i64::from(policy.pickup_range_start)),
        pickup_range_end: Some(i64::from(policy.pickup_range_end)),
        park_timeout_seconds: Some(i64::from(policy.park_timeout_seconds)),
    }
}

impl Tenant {
    pub fn new(switchboard: Switchboard) -> Self {
        Self {
            switchboard,
            accounts: HashMap::new(),
            logins: HashMap::new(),
            group_names: HashMap::new(),
            groups_by_name: HashMap::new(),
            next_user: 1,
            next_group: 1,
        }
    }

    /// Rebuilds the tenant from what the store kept.
    pub fn from_snapshot(
        switchboard: Switchboard,
        snapshot: TenantSnapshot,
    ) -> Result<Self, LoadError> {
        let mut tenant = Tenant::new(switchboard);
        let sb = &mut tenant.switchboard;
        for policy in &snapshot.policies {
            let identity = policy.identity.to_string();
            let result = if policy.identity == callpark_park::PolicyIdentity::Global {
                sb.set_policy(&identity, &changes_of(policy))
            } else {
                sb.new_policy(&identity, &changes_of(policy))
            };
            result.map_err(|source| LoadError::Policy { identity: identity.clone(), source })?;
        }
        // Forward targets may come later in the list: add everyone first.
        for user in &snapshot.users {
            let settings = UserSettings::new(&user.display_name)
                .with_enterprise_voice(user.enterprise_voice)
                .with_unanswered(UnansweredAction::Voicemail, user.unanswered_delay_seconds);
            sb.add_user(user.id, settings)
                .map_err(|source| LoadError::User { login: user.login.clone(), source })?;
        }
        for user in &snapshot.users {
            let failed = |source| LoadError::User { login: user.login.clone(), source };
            // A forward to a removed user falls back to voicemail when used; the
            // directory will not take it as a setting, so it is stored back as that.
            let target_gone = |target: UserId| !snapshot.users.iter().any(|u| u.id == target);
            if let UnansweredAction::Forward(target) = user.unanswered
                && target_gone(target)
            {
                tracing::warn!(login = %user.login, target = target.0, "forward target removed; unanswered calls go to voicemail");
            } else if let UnansweredAction::Forward(_) = user.unanswered {
                let settings = UserSettings::new(&user.display_name)
                    .with_enterprise_voice(user.enterprise_voice)
                    .with_unanswered(user.unanswered, user.unanswered_delay_seconds);
                sb.update_user(user.id, settings).map_err(failed)?;
            }
            if let Some(policy) = &user.policy {
                sb.grant_user_policy(user.id, Some(policy)).map_err(failed)?;
            }
        }
        for group in &snapshot.groups {
            let failed = |source| LoadError::Group { name: group.name.clone(), source };
            sb.add_group(group.id).map_err(failed)?;
            for member in &group.members {
                sb.add_group_member(group.id, *member).map_err(failed)?;
            }
        }
        for (index, (group, policy)) in snapshot.group_grants.iter().enumerate() {
            let rank = i64::try_from(index).unwrap_or(i64::MAX).saturating_add(1);
            sb.grant_group_policy(*group, Some(policy), rank).map_err(LoadError::Grant)?;
        }
        sb.grant_tenant_default(Some(&snapshot.tenant_default)).map_err(LoadError::Grant)?;
        for user in snapshot.users {
            tenant.insert_account(
                user.id,
                Account { login: user.login, password_hash: user.password_hash, admin: user.admin },
            );
        }
        for group in snapshot.groups {
            tenant.insert_group_name(group.id, group.name);
        }
        tenant.next_user = tenant.next_user.max(snapshot.next_user_id);
        tenant.next_group = tenant.next_group.max(snapshot.next_group_id);
        Ok(tenant)
    }

    /// The whole directory, for the store.
    pub fn snapshot(&self) -> TenantSnapshot {
        let directory = self.switchboard.directory();
        let identity = |id: PolicyId| {
            directory.policy(id).map_or_else(|| "Global".to_owned(), |p| p.identity.to_string())
        };
        let mut users: Vec<UserRow> = directory
            .users()
            .filter_map(|(id, settings)| {
                let account = self.accounts.get(&id)?;
                Some(UserRow {
                    id,
                    login: account.login.clone(),
                    display_name: settings.display_name.clone(),
                    password_hash: account.password_hash.clone(),
                    admin: account.admin,
                    enterprise_voice: settings.enterprise_voice,
                    unanswered: settings.unanswered,
                    unanswered_delay_seconds: settings.unanswered_delay_seconds,
                    policy: directory.direct_policy(id).map(identity),
                })
            })
            .collect();
        users.sort_by_key(|user| user.id);
        let groups = directory
            .groups()
            .map(|(id, members)| GroupRow {
                id,
                name: self.group_name(id),
                members: members.iter().copied().collect(),
            })
            .collect();
        TenantSnapshot {
            users,
            groups,
            policies: directory.policies().map(|(_, policy)| policy.clone()).collect(),
            group_grants: directory
                .group_assignments()
                .map(|(group, policy, _)| (group, identity(policy)))
                .collect(),
            tenant_default: identity(directory.tenant_default()),
            next_user_id: self.next_user,
            next_group_id: self.next_group,
        }
    }

    fn insert_account(&mut self, user: UserId, account: Account) {
        self.logins.insert(account.login.to_lowercase(), user);
        self.accounts.insert(user, account);
        self.next_user = self.next_user.max(user.0 + 1);
    }

    fn insert_group_name(&mut self, group: GroupId, name: String) {
        self.groups_by_name.insert(name.to_lowercase(), group);
        self.group_names.insert(group, name);
        self.next_group = self.next_group.max(group.0 + 1);
    }

    pub fn user_by_login(&self, login: &str) -> Option<UserId> {
        self.logins.get(&login.to_lowercase()).copied()
    }

    pub fn account(&self, user: UserId) -> Option<&Account> {
        self.accounts.get(&user)
    }

    pub fn login_of(&self, user: UserId) -> Option<&str> {
        self.accounts.get(&user).map(|account| account.login.as_str())
    }

    pub fn is_admin(&self, user: UserId) -> bool {
        self.accounts.get(&user).is_some_and(|account| account.admin)
    }

    fn group_name(&self, group: GroupId) -> String {
        self.group_names.get(&group).cloned().unwrap_or_else(|| group.to_string())
    }

    fn find_user(&self, login: &str) -> Result<UserId, TenantError> {
        self.user_by_login(login).ok_or_else(|| TenantError::no_user(login))
    }

    fn find_group(&self, name: &str) -> Result<GroupId, TenantError> {
        self.groups_by_name
            .get(&name.to_lowercase())
            .copied()
            .ok_or_else(|| TenantError::no_group(name))
    }

    /// Admin operations are for admins only.
    pub fn authorize(&self, actor: UserId) -> Result<(), TenantError> {
        if self.is_admin(actor) { Ok(()) } else { Err(TenantError::NotAdmin) }
    }

    fn policy_identity(&self, id: PolicyId) -> String {
        self.switchboard
            .directory()
            .policy(id)
            .map_or_else(|| "Global".to_owned(), |policy| policy.identity.to_string())
    }
}
