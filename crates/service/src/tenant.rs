//! The tenant as the service sees it: the switchboard (which holds every park rule)
//! plus what only the service needs: login names, password hashes, the admin role
//! and group names. Admin operations arrive here by name and leave as views.

use std::collections::HashMap;

use axum::http::StatusCode;
use callpark_park::{
    GroupId, Policy, PolicyChanges, PolicyId, PolicySource, Switchboard, Timestamp,
    UnansweredAction, UserId, UserSettings,
};
use callpark_wire::admin::{
    EffectivePolicyView, GrantReply, GrantRequest, GroupPolicy, GroupRank, GroupView, NewGroup,
    NewPolicy, PolicyFields, PolicyView, UserChanges, UserView,
};

use crate::accounts::check_login;
use crate::refusal::Refusal;
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

/// Everything an admin can ask for. Users, groups and policies are named as admins
/// name them (login, group name, policy identity).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminOp {
    /// Only checks that the actor is an admin (for reads outside the exchange).
    Authorize,
    GetPolicies {
        filter: Option<String>,
    },
    GetPolicy {
        identity: String,
    },
    NewPolicy(NewPolicy),
    SetPolicy {
        identity: String,
        fields: PolicyFields,
    },
    RemovePolicy {
        identity: String,
        force: bool,
    },
    Grant(GrantRequest),
    GetUsers,
    GetUser {
        login: String,
    },
    NewUser(NewAccount),
    SetUser {
        login: String,
        changes: UserChanges,
        password_hash: Option<String>,
    },
    RemoveUser {
        login: String,
    },
    GetGroups,
    GetGroup {
        name: String,
    },
    NewGroup(NewGroup),
    RemoveGroup {
        name: String,
    },
    AddMember {
        group: String,
        login: String,
    },
    RemoveMember {
        group: String,
        login: String,
    },
}

impl AdminOp {
    /// Whether the operation changes the tenant (and so must be stored).
    pub fn changes_tenant(&self) -> bool {
        !matches!(
            self,
            AdminOp::Authorize
                | AdminOp::GetPolicies { .. }
                | AdminOp::GetPolicy { .. }
                | AdminOp::GetUsers
                | AdminOp::GetUser { .. }
                | AdminOp::GetGroups
                | AdminOp::GetGroup { .. }
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminReply {
    Authorized,
    Policies(Vec<PolicyView>),
    Policy(PolicyView),
    Granted(GrantReply),
    Users(Vec<UserView>),
    User(UserView),
    Groups(Vec<GroupView>),
    Group(GroupView),
    Removed,
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

fn changes_from(fields: &PolicyFields) -> PolicyChanges {
    PolicyChanges {
        description: fields.description.clone(),
        allow_call_park: fields.allow_call_park,
        pickup_range_start: fields.pickup_range_start,
        pickup_range_end: fields.pickup_range_end,
        park_timeout_seconds: fields.park_timeout_seconds,
    }
}

pub const DISPLAY_NAME_MAX_CHARS: usize = 128;
pub const GROUP_NAME_MAX_CHARS: usize = 64;

/// A display name is shown to other people (calls, notifications, logs): any
/// script, but no control characters, and not only spaces. Edge spaces are trimmed
/// off; the length counts what was sent.
fn checked_display_name(name: &str) -> Result<&str, Refusal> {
    let refuse = |message: String| Err(Refusal::invalid("user_invalid", "display_name", message));
    if name.chars().count() > DISPLAY_NAME_MAX_CHARS {
        return refuse(format!(
            "A display name is 1 to {DISPLAY_NAME_MAX_CHARS} characters; this one has {}.",
            name.chars().count()
        ));
    }
    if let Some(control) = name.chars().find(|c| c.is_control()) {
        return refuse(format!(
            "A display name cannot contain control characters such as {control:?}."
        ));
    }
    let name = name.trim();
    if name.is_empty() {
        return refuse("A display name needs at least one character that is not a space.".into());
    }
    Ok(name)
}

/// Group names are identifiers (in addresses, grants and the CLI): the policy-name
/// alphabet, 1 to 64 characters, no space first or last.
fn checked_group_name(name: &str) -> Result<&str, Refusal> {
    let refuse = |message: String| Err(Refusal::invalid("group_invalid", "name", message));
    let length = name.chars().count();
    if !(1..=GROUP_NAME_MAX_CHARS).contains(&length) {
        return refuse(format!(
            "A group name is 1 to {GROUP_NAME_MAX_CHARS} characters; this one has {length}."
        ));
    }
    if let Some(bad) = name.chars().find(|c| !callpark_park::is_name_char(*c)) {
        return refuse(format!(
            "A group name cannot contain {bad:?}; use letters A-Z and a-z, digits, spaces, '-', '_' and '.'."
        ));
    }
    if name.starts_with(' ') || name.ends_with(' ') {
        return refuse("A group name cannot start or end with a space.".into());
    }
    Ok(name)
}

fn no_user(login: &str) -> Refusal {
    Refusal::not_found("user_not_found", format!("There is no user with login {login:?}."))
}

fn no_group(name: &str) -> Refusal {
    Refusal::not_found("group_not_found", format!("There is no group named {name:?}."))
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

    fn find_user(&self, login: &str) -> Result<UserId, Refusal> {
        self.user_by_login(login).ok_or_else(|| no_user(login))
    }

    fn find_group(&self, name: &str) -> Result<GroupId, Refusal> {
        self.groups_by_name.get(&name.to_lowercase()).copied().ok_or_else(|| no_group(name))
    }

    fn policy_identity(&self, id: PolicyId) -> String {
        self.switchboard
            .directory()
            .policy(id)
            .map_or_else(|| "Global".to_owned(), |policy| policy.identity.to_string())
    }

    // ---- views ---------------------------------------------------------------------

    fn policy_view(&self, id: PolicyId, policy: &Policy) -> PolicyView {
        let directory = self.switchboard.directory();
        PolicyView {
            identity: policy.identity.to_string(),
            description: policy.description.clone(),
            allow_call_park: policy.allow_call_park,
            pickup_range_start: policy.pickup_range_start,
            pickup_range_end: policy.pickup_range_end,
            park_timeout_seconds: policy.park_timeout_seconds,
            granted_users: directory.grant_count(id).users,
            granted_groups: directory
                .group_assignments()
                .filter(|(_, assigned, _)| *assigned == id)
                .map(|(group, _, rank)| GroupRank { group: self.group_name(group), rank })
                .collect(),
            tenant_default: directory.tenant_default() == id,
        }
    }

    fn policy_view_by_identity(&self, identity: &str) -> Result<PolicyView, Refusal> {
        let (id, policy) = self.switchboard.directory().policy_by_identity(identity)?;
        Ok(self.policy_view(id, policy))
    }

    fn user_view(&self, user: UserId) -> Result<UserView, Refusal> {
        let directory = self.switchboard.directory();
        let (Some(settings), Some(account)) = (directory.user(user), self.accounts.get(&user))
        else {
            return Err(Refusal::not_found("user_not_found", format!("There is no user {user}.")));
        };
        let unanswered = match settings.unanswered {
            UnansweredAction::Voicemail => "voicemail".to_owned(),
            UnansweredAction::Disconnect => "disconnect".to_owned(),
            UnansweredAction::Forward(target) => {
                format!("forward:{}", self.login_of(target).unwrap_or("(removed user)"))
            }
        };
        let effective = directory.effective_policy(user);
        let effective_policy = EffectivePolicyView {
            policy: effective
                .map_or_else(|| "Global".to_owned(), |e| self.policy_identity(e.policy)),
            source: match effective.map(|e| e.source) {
                Some(PolicySource::Direct) => "direct".to_owned(),
                Some(PolicySource::Group { group, .. }) => {
                    format!("group:{}", self.group_name(group))
                }
                Some(PolicySource::TenantDefault) | None => "tenant_default".to_owned(),
            },
        };
        let mut groups: Vec<String> =
            directory.user_groups(user).map(|group| self.group_name(group)).collect();
        groups.sort();
        Ok(UserView {
            id: user.0,
            login: account.login.clone(),
            display_name: settings.display_name.clone(),
            admin: account.admin,
            enterprise_voice: settings.enterprise_voice,
            unanswered,
            unanswered_delay_seconds: settings.unanswered_delay_seconds,
            groups,
            policy: directory.direct_policy(user).map(|id| self.policy_identity(id)),
            effective_policy,
        })
    }

    fn group_view(&self, group: GroupId) -> Result<GroupView, Refusal> {
        let directory = self.switchboard.directory();
        let members = directory.group_members(group).ok_or_else(|| no_group(&group.to_string()))?;
        let mut members: Vec<String> =
            members.iter().filter_map(|user| self.login_of(*user).map(str::to_owned)).collect();
        members.sort();
        let policy = directory
            .group_assignments()
            .find(|(assigned, _, _)| *assigned == group)
            .map(|(_, policy, rank)| GroupPolicy { policy: self.policy_identity(policy), rank });
        Ok(GroupView { id: group.0, name: self.group_name(group), members, policy })
    }

    fn users_view(&self) -> Result<Vec<UserView>, Refusal> {
        let mut users: Vec<UserId> = self.accounts.keys().copied().collect();
        users.sort();
        users.into_iter().map(|user| self.user_view(user)).collect()
    }

    fn groups_view(&self) -> Result<Vec<GroupView>, Refusal> {
        let groups: Vec<GroupId> =
            self.switchboard.directory().groups().map(|(group, _)| group).collect();
        groups.into_iter().map(|group| self.group_view(group)).collect()
    }

    // ---- carrying out ---------------------------------------------------------------

    fn unanswered_action(
        &self,
        text: &str,
        for_user: Option<UserId>,
    ) -> Result<UnansweredAction, Refusal> {
        let invalid = |message: String| Refusal::invalid("user_invalid", "unanswered", message);
        match text.split_once(':') {
            None if text.eq_ignore_ascii_case("voicemail") => Ok(UnansweredAction::Voicemail),
            None if text.eq_ignore_ascii_case("disconnect") => Ok(UnansweredAction::Disconnect),
            Some((action, login)) if action.eq_ignore_ascii_case("forward") => {
                let target = self.user_by_login(login).ok_or_else(|| {
                    let mut refusal = Refusal::not_found(
                        "user_not_found",
                        format!(
                            "Unanswered calls cannot be forwarded to {login:?}: there is no such user."
                        ),
                    );
                    refusal.body.field = Some("unanswered".to_owned());
                    refusal
                })?;
                if Some(target) == for_user {
                    return Err(invalid(
                        "Unanswered calls cannot be forwarded to the user themselves.".into(),
                    ));
                }
                Ok(UnansweredAction::Forward(target))
            }
            _ => Err(invalid(format!(
                "Unanswered {text:?} is not allowed: use voicemail, forward:<login> or disconnect."
            ))),
        }
    }

    fn delay(value: Option<i64>, default: u32) -> Result<u32, Refusal> {
        match value {
            None => Ok(default),
            Some(seconds) => u32::try_from(seconds).map_err(|_| {
                callpark_park::DirectoryError::UnansweredDelayOutOfBounds { seconds }.into()
            }),
        }
    }

    /// Carries out one admin operation for `actor`, who must be an admin.
    pub fn admin(
        &mut self,
        now: Timestamp,
        actor: UserId,
        op: AdminOp,
    ) -> Result<AdminReply, Refusal> {
        if !self.is_admin(actor) {
            return Err(Refusal::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Only admins may do this; sign in with an admin account.",
            ));
        }
        match op {
            AdminOp::Authorize => Ok(AdminReply::Authorized),
            AdminOp::GetPolicies { filter } => {
                let directory = self.switchboard.directory();
                let found: Vec<(PolicyId, &Policy)> = match &filter {
                    Some(pattern) => directory.find_policies(pattern).collect(),
                    None => directory.policies().collect(),
                };
                Ok(AdminReply::Policies(
                    found.into_iter().map(|(id, policy)| self.policy_view(id, policy)).collect(),
                ))
            }
            AdminOp::GetPolicy { identity } => {
                Ok(AdminReply::Policy(self.policy_view_by_identity(&identity)?))
            }
            AdminOp::NewPolicy(new) => {
                self.switchboard.new_policy(&new.identity, &changes_from(&new.fields))?;
                Ok(AdminReply::Policy(self.policy_view_by_identity(&new.identity)?))
            }
            AdminOp::SetPolicy { identity, fields } => {
                self.switchboard.set_policy(&identity, &changes_from(&fields))?;
                Ok(AdminReply::Policy(self.policy_view_by_identity(&identity)?))
            }
            AdminOp::RemovePolicy { identity, force } => {
                self.switchboard.remove_policy(&identity, force)?;
                Ok(AdminReply::Removed)
            }
            AdminOp::Grant(grant) => self.grant(grant),
            AdminOp::GetUsers => Ok(AdminReply::Users(self.users_view()?)),
            AdminOp::GetUser { login } => {
                Ok(AdminReply::User(self.user_view(self.find_user(&login)?)?))
            }
            AdminOp::NewUser(new) => self.new_user(new),
            AdminOp::SetUser { login, changes, password_hash } => {
                self.set_user(&login, changes, password_hash)
            }
            AdminOp::RemoveUser { login } => {
                let user = self.find_user(&login)?;
                if user == actor {
                    return Err(Refusal::conflict(
                        "user_protected",
                        "You cannot remove your own account; sign in as another admin.",
                    ));
                }
                if self.is_last_admin(user) {
                    return Err(Refusal::conflict(
                        "user_protected",
                        format!("{login} is the only admin; make another user an admin first."),
                    ));
                }
                self.switchboard.remove_user(now, user)?;
                self.drop_forwards_to(user)?;
                if let Some(account) = self.accounts.remove(&user) {
                    self.logins.remove(&account.login.to_lowercase());
                }
                Ok(AdminReply::Removed)
            }
            AdminOp::GetGroups => Ok(AdminReply::Groups(self.groups_view()?)),
            AdminOp::GetGroup { name } => {
                Ok(AdminReply::Group(self.group_view(self.find_group(&name)?)?))
            }
            AdminOp::NewGroup(new) => self.new_group(new),
            AdminOp::RemoveGroup { name } => {
                let group = self.find_group(&name)?;
                self.switchboard.remove_group(group)?;
                if let Some(name) = self.group_names.remove(&group) {
                    self.groups_by_name.remove(&name.to_lowercase());
                }
                Ok(AdminReply::Removed)
            }
            AdminOp::AddMember { group, login } => {
                let (group, user) = (self.find_group(&group)?, self.find_user(&login)?);
                self.switchboard.add_group_member(group, user)?;
                Ok(AdminReply::Group(self.group_view(group)?))
            }
            AdminOp::RemoveMember { group, login } => {
                let (group, user) = (self.find_group(&group)?, self.find_user(&login)?);
                self.switchboard.remove_group_member(group, user)?;
                Ok(AdminReply::Group(self.group_view(group)?))
            }
        }
    }

    /// Unanswered calls forwarded to a removed user would go to voicemail anyway:
    /// say so in the settings, so that what admins see is what happens.
    fn drop_forwards_to(&mut self, removed: UserId) -> Result<(), Refusal> {
        let forwarding: Vec<(UserId, UserSettings)> = self
            .switchboard
            .directory()
            .users()
            .filter(|(_, settings)| settings.unanswered == UnansweredAction::Forward(removed))
            .map(|(user, settings)| (user, settings.clone()))
            .collect();
        for (user, mut settings) in forwarding {
            settings.unanswered = UnansweredAction::Voicemail;
            self.switchboard.update_user(user, settings)?;
        }
        Ok(())
    }

    fn grant(&mut self, grant: GrantRequest) -> Result<AdminReply, Refusal> {
        let policy = grant.policy.as_deref();
        let targets = usize::from(grant.user.is_some())
            + usize::from(grant.group.is_some())
            + usize::from(grant.global);
        if targets != 1 {
            return Err(Refusal::invalid(
                "grant_invalid",
                "user",
                "Grant to exactly one of: a user, a group (with a rank), or global (the tenant default).",
            ));
        }
        if grant.rank.is_some() && grant.group.is_none() {
            return Err(Refusal::invalid(
                "grant_invalid",
                "rank",
                "A rank is only given with a group grant.",
            ));
        }
        let rank = if let Some(login) = &grant.user {
            let user = self.find_user(login)?;
            self.switchboard.grant_user_policy(user, policy)?;
            None
        } else if let Some(name) = &grant.group {
            let group = self.find_group(name)?;
            let rank = match (grant.rank, policy) {
                (Some(rank), _) => rank,
                (None, None) => 1,
                (None, Some(_)) => {
                    return Err(Refusal::invalid(
                        "rank_invalid",
                        "rank",
                        "A group grant needs a rank: 1 or more (1 wins over 2).",
                    ));
                }
            };
            self.switchboard.grant_group_policy(group, policy, rank)?
        } else {
            self.switchboard.grant_tenant_default(policy)?;
            None
        };
        Ok(AdminReply::Granted(GrantReply { rank }))
    }

    fn new_user(&mut self, new: NewAccount) -> Result<AdminReply, Refusal> {
        check_login(&new.login)
            .map_err(|error| Refusal::invalid("user_invalid", "login", error.to_string()))?;
        if self.user_by_login(&new.login).is_some() {
            return Err(Refusal::conflict(
                "user_exists",
                format!("The login name {:?} is taken.", new.login),
            ));
        }
        let display_name = checked_display_name(&new.display_name)?;
        let user = UserId(self.next_user);
        let unanswered = match &new.unanswered {
            Some(text) => self.unanswered_action(text, Some(user))?,
            None => UnansweredAction::Voicemail,
        };
        let delay = Self::delay(
            new.unanswered_delay_seconds,
            callpark_park::DEFAULT_UNANSWERED_DELAY_SECONDS,
        )?;
        let settings = UserSettings::new(display_name)
            .with_enterprise_voice(new.enterprise_voice)
            .with_unanswered(unanswered, delay);
        self.switchboard.add_user(user, settings)?;
        self.insert_account(
            user,
            Account { login: new.login, password_hash: new.password_hash, admin: new.admin },
        );
        Ok(AdminReply::User(self.user_view(user)?))
    }

    fn set_user(
        &mut self,
        login: &str,
        changes: UserChanges,
        password_hash: Option<String>,
    ) -> Result<AdminReply, Refusal> {
        let user = self.find_user(login)?;
        if changes.admin == Some(false) && self.is_last_admin(user) {
            return Err(Refusal::conflict(
                "user_protected",
                format!(
                    "{login} is the only admin; make another user an admin before taking it away."
                ),
            ));
        }
        let mut settings =
            self.switchboard.directory().user(user).cloned().ok_or_else(|| no_user(login))?;
        if let Some(name) = &changes.display_name {
            settings.display_name = checked_display_name(name)?.to_owned();
        }
        if let Some(enabled) = changes.enterprise_voice {
            settings.enterprise_voice = enabled;
        }
        if let Some(text) = &changes.unanswered {
            settings.unanswered = self.unanswered_action(text, Some(user))?;
        }
        settings.unanswered_delay_seconds =
            Self::delay(changes.unanswered_delay_seconds, settings.unanswered_delay_seconds)?;
        self.switchboard.update_user(user, settings)?;
        if let Some(account) = self.accounts.get_mut(&user) {
            if let Some(admin) = changes.admin {
                account.admin = admin;
            }
            if let Some(hash) = password_hash {
                account.password_hash = hash;
            }
        }
        Ok(AdminReply::User(self.user_view(user)?))
    }

    /// `user` is an admin and nobody else is: the tenant would have none without them.
    fn is_last_admin(&self, user: UserId) -> bool {
        self.is_admin(user)
            && !self.accounts.iter().any(|(other, account)| *other != user && account.admin)
    }

    fn new_group(&mut self, new: NewGroup) -> Result<AdminReply, Refusal> {
        let name = checked_group_name(&new.name)?;
        if self.groups_by_name.contains_key(&name.to_lowercase()) {
            return Err(Refusal::conflict(
                "group_exists",
                format!("A group named {name:?} already exists."),
            ));
        }
        let members =
            new.members.iter().map(|login| self.find_user(login)).collect::<Result<Vec<_>, _>>()?;
        let group = GroupId(self.next_group);
        self.switchboard.add_group(group)?;
        for member in members {
            self.switchboard.add_group_member(group, member)?;
        }
        self.insert_group_name(group, name.to_owned());
        Ok(AdminReply::Group(self.group_view(group)?))
    }

    /// Adds an account without an admin to ask (the first admin, the demo users).
    pub fn seed_user(&mut self, new: NewAccount) -> Result<UserId, Refusal> {
        match self.new_user(new)? {
            AdminReply::User(view) => Ok(UserId(view.id)),
            _ => Err(Refusal::internal("seeding a user returned no user")),
        }
    }
}
