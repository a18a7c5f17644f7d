//! What admins can do to the tenant, one typed method per operation. Every method
//! either makes the whole change or none of it.

use callpark_park::{
    GroupId, Policy, PolicyChanges, PolicyId, Timestamp, UnansweredAction, UserId, UserSettings,
};
use callpark_wire::admin::{
    GrantReply, GrantRequest, GroupView, NewGroup, NewPolicy, PolicyFields, PolicyView,
    UserChanges, UserView,
};

use super::{Account, NewAccount, Tenant, TenantError};
use crate::accounts::check_login;

pub const DISPLAY_NAME_MAX_CHARS: usize = 128;
pub const GROUP_NAME_MAX_CHARS: usize = 64;

fn changes_from(fields: &PolicyFields) -> PolicyChanges {
    PolicyChanges {
        description: fields.description.clone(),
        allow_call_park: fields.allow_call_park,
        pickup_range_start: fields.pickup_range_start,
        pickup_range_end: fields.pickup_range_end,
        park_timeout_seconds: fields.park_timeout_seconds,
    }
}

/// A display name is shown to other people (calls, notifications, logs): any
/// script, but no control characters, and not only spaces. Edge spaces are trimmed
/// off; the length counts what was sent.
fn checked_display_name(name: &str) -> Result<&str, TenantError> {
    let refuse =
        |message: String| Err(TenantError::invalid("user_invalid", "display_name", message));
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
fn checked_group_name(name: &str) -> Result<&str, TenantError> {
    let refuse = |message: String| Err(TenantError::invalid("group_invalid", "name", message));
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

impl Tenant {
    // ---- policies ------------------------------------------------------------------

    /// `Get-CsTeamsCallParkPolicy`, all of them or those whose name matches `filter`.
    pub fn policies(&self, filter: Option<&str>) -> Vec<PolicyView> {
        let directory = self.switchboard.directory();
        let found: Vec<(PolicyId, &Policy)> = match filter {
            Some(pattern) => directory.find_policies(pattern).collect(),
            None => directory.policies().collect(),
        };
        found.into_iter().map(|(id, policy)| self.policy_view(id, policy)).collect()
    }

    pub fn policy(&self, identity: &str) -> Result<PolicyView, TenantError> {
        self.policy_view_by_identity(identity)
    }

    pub fn new_policy(&mut self, new: &NewPolicy) -> Result<PolicyView, TenantError> {
        self.switchboard.new_policy(&new.identity, &changes_from(&new.fields))?;
        self.policy_view_by_identity(&new.identity)
    }

    pub fn set_policy(
        &mut self,
        identity: &str,
        fields: &PolicyFields,
    ) -> Result<PolicyView, TenantError> {
        self.switchboard.set_policy(identity, &changes_from(fields))?;
        self.policy_view_by_identity(identity)
    }

    pub fn remove_policy(&mut self, identity: &str, force: bool) -> Result<(), TenantError> {
        self.switchboard.remove_policy(identity, force)?;
        Ok(())
    }

    /// `Grant-CsTeamsCallParkPolicy`: to one user, one group (with a rank) or as the
    /// tenant default; no policy takes the grant away.
    pub fn grant(&mut self, grant: &GrantRequest) -> Result<GrantReply, TenantError> {
        let policy = grant.policy.as_deref();
        let targets = usize::from(grant.user.is_some())
            + usize::from(grant.group.is_some())
            + usize::from(grant.global);
        if targets != 1 {
            return Err(TenantError::invalid(
                "grant_invalid",
                "user",
                "Grant to exactly one of: a user, a group (with a rank), or global (the tenant default).".into(),
            ));
        }
        if grant.rank.is_some() && grant.group.is_none() {
            return Err(TenantError::invalid(
                "grant_invalid",
                "rank",
                "A rank is only given with a group grant.".into(),
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
                    return Err(TenantError::invalid(
                        "rank_invalid",
                        "rank",
                        "A group grant needs a rank: 1 or more (1 wins over 2).".into(),
                    ));
                }
            };
            self.switchboard.grant_group_policy(group, policy, rank)?
        } else {
            self.switchboard.grant_tenant_default(policy)?;
            None
        };
        Ok(GrantReply { rank })
    }

    // ---- users ---------------------------------------------------------------------

    pub fn users(&self) -> Result<Vec<UserView>, TenantError> {
        self.users_view()
    }

    pub fn user(&self, login: &str) -> Result<UserView, TenantError> {
        self.user_view(self.find_user(login)?)
    }

    pub fn new_user(&mut self, new: NewAccount) -> Result<UserView, TenantError> {
        check_login(&new.login)
            .map_err(|error| TenantError::invalid("user_invalid", "login", error.to_string()))?;
        if self.user_by_login(&new.login).is_some() {
            return Err(TenantError::conflict(
                "user_exists",
                format!("The login name {:?} is taken.", new.login),
            ));
        }
        let display_name = checked_display_name(&new.display_name)?;
        let user = UserId(self.next_user);
        let unanswered = match &new.unanswered {
            Some(text) => self.unanswered_action(text)?,
            None => UnansweredAction::Voicemail,
        };
        let delay =
            delay(new.unanswered_delay_seconds, callpark_park::DEFAULT_UNANSWERED_DELAY_SECONDS)?;
        let settings = UserSettings::new(display_name)
            .with_enterprise_voice(new.enterprise_voice)
            .with_unanswered(unanswered, delay);
        self.switchboard.add_user(user, settings)?;
        self.insert_account(
            user,
            Account { login: new.login, password_hash: new.password_hash, admin: new.admin },
        );
        self.user_view(user)
    }

    pub fn set_user(
        &mut self,
        login: &str,
        changes: &UserChanges,
        password_hash: Option<String>,
    ) -> Result<UserView, TenantError> {
        let user = self.find_user(login)?;
        if changes.admin == Some(false) && self.is_last_admin(user) {
            return Err(TenantError::conflict(
                "user_protected",
                format!(
                    "{login} is the only admin; make another user an admin before taking it away."
                ),
            ));
        }
        let mut settings = self
            .switchboard
            .directory()
            .user(user)
            .cloned()
            .ok_or_else(|| TenantError::no_user(login))?;
        if let Some(name) = &changes.display_name {
            settings.display_name = checked_display_name(name)?.to_owned();
        }
        if let Some(enabled) = changes.enterprise_voice {
            settings.enterprise_voice = enabled;
        }
        if let Some(text) = &changes.unanswered {
            settings.unanswered = self.unanswered_action(text)?;
        }
        settings.unanswered_delay_seconds =
            delay(changes.unanswered_delay_seconds, settings.unanswered_delay_seconds)?;
        self.switchboard.update_user(user, settings)?;
        if let Some(account) = self.accounts.get_mut(&user) {
            if let Some(admin) = changes.admin {
                account.admin = admin;
            }
            if let Some(hash) = password_hash {
                account.password_hash = hash;
            }
        }
        self.user_view(user)
    }

    /// Removes `login`'s account; `actor` cannot remove their own, and the last
    /// admin stays.
    pub fn remove_user(
        &mut self,
        now: Timestamp,
        actor: UserId,
        login: &str,
    ) -> Result<(), TenantError> {
        let user = self.find_user(login)?;
        if user == actor {
            return Err(TenantError::conflict(
                "user_protected",
                "You cannot remove your own account; sign in as another admin.".into(),
            ));
        }
        if self.is_last_admin(user) {
            return Err(TenantError::conflict(
                "user_protected",
                format!("{login} is the only admin; make another user an admin first."),
            ));
        }
        self.switchboard.remove_user(now, user)?;
        self.drop_forwards_to(user)?;
        if let Some(account) = self.accounts.remove(&user) {
            self.logins.remove(&account.login.to_lowercase());
        }
        Ok(())
    }

    /// Adds an account without an admin to ask (the first admin, the demo users).
    pub fn seed_user(&mut self, new: NewAccount) -> Result<UserId, TenantError> {
        Ok(UserId(self.new_user(new)?.id))
    }

    // ---- groups --------------------------------------------------------------------

    pub fn groups(&self) -> Result<Vec<GroupView>, TenantError> {
        self.groups_view()
    }

    pub fn group(&self, name: &str) -> Result<GroupView, TenantError> {
        self.group_view(self.find_group(name)?)
    }

    pub fn new_group(&mut self, new: &NewGroup) -> Result<GroupView, TenantError> {
        let name = checked_group_name(&new.name)?;
        if self.groups_by_name.contains_key(&name.to_lowercase()) {
            return Err(TenantError::conflict(
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
        self.group_view(group)
    }

    pub fn remove_group(&mut self, name: &str) -> Result<(), TenantError> {
        let group = self.find_group(name)?;
        self.switchboard.remove_group(group)?;
        if let Some(name) = self.group_names.remove(&group) {
            self.groups_by_name.remove(&name.to_lowercase());
        }
        Ok(())
    }

    pub fn add_member(&mut self, group: &str, login: &str) -> Result<GroupView, TenantError> {
        let (group, user) = (self.find_group(group)?, self.find_user(login)?);
        self.switchboard.add_group_member(group, user)?;
        self.group_view(group)
    }

    pub fn remove_member(&mut self, group: &str, login: &str) -> Result<GroupView, TenantError> {
        let (group, user) = (self.find_group(group)?, self.find_user(login)?);
        self.switchboard.remove_group_member(group, user)?;
        self.group_view(group)
    }

    // ---- helpers -------------------------------------------------------------------

    fn unanswered_action(&self, text: &str) -> Result<UnansweredAction, TenantError> {
        let invalid = |message: String| TenantError::invalid("user_invalid", "unanswered", message);
        match text.split_once(':') {
            None if text.eq_ignore_ascii_case("voicemail") => Ok(UnansweredAction::Voicemail),
            None if text.eq_ignore_ascii_case("disconnect") => Ok(UnansweredAction::Disconnect),
            Some((action, login)) if action.eq_ignore_ascii_case("forward") => {
                let target = self.user_by_login(login).ok_or_else(|| TenantError::NotFound {
                    code: "user_not_found",
                    field: Some("unanswered"),
                    message: format!(
                        "Unanswered calls cannot be forwarded to {login:?}: there is no such user."
                    ),
                })?;
                // Forwarding to oneself is the directory's rule (DirectoryError::ForwardToSelf).
                Ok(UnansweredAction::Forward(target))
            }
            _ => Err(invalid(format!(
                "Unanswered {text:?} is not allowed: use voicemail, forward:<login> or disconnect."
            ))),
        }
    }

    /// Unanswered calls forwarded to a removed user would go to voicemail anyway:
    /// say so in the settings, so that what admins see is what happens.
    fn drop_forwards_to(&mut self, removed: UserId) -> Result<(), TenantError> {
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

    /// `user` is an admin and nobody else is: the tenant would have none without them.
    fn is_last_admin(&self, user: UserId) -> bool {
        self.is_admin(user)
            && !self.accounts.iter().any(|(other, account)| *other != user && account.admin)
    }
}

fn delay(value: Option<i64>, default: u32) -> Result<u32, TenantError> {
    match value {
        None => Ok(default),
        Some(seconds) => u32::try_from(seconds).map_err(|_| {
            callpark_park::DirectoryError::UnansweredDelayOutOfBounds { seconds }.into()
        }),
    }
}
