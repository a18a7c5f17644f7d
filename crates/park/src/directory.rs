//! Who is who: users and their settings, groups, call park policies and their
//! grants, and the rule that picks a user's effective policy.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use crate::error::{DirectoryError, GrantCount, PolicyError};
use crate::glob::glob_matches;
use crate::ids::{GroupId, PolicyId, UserId};
use crate::limits::{
    DEFAULT_UNANSWERED_DELAY_SECONDS, UNANSWERED_DELAY_MAX_SECONDS, UNANSWERED_DELAY_MIN_SECONDS,
};
use crate::policy::{Policy, PolicyChanges, PolicyIdentity};

/// What happens to a call its user does not answer (a ringback included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnansweredAction {
    Voicemail,
    Forward(UserId),
    Disconnect,
}

/// A user's account settings, as far as calls and park are concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSettings {
    pub display_name: String,
    /// Mirrors the telephony licence switch: only enabled users may park or retrieve.
    pub enterprise_voice: bool,
    pub unanswered: UnansweredAction,
    pub unanswered_delay_seconds: u32,
}

impl UserSettings {
    /// A new account: not enterprise-voice enabled (an admin turns it on), unanswered
    /// calls to voicemail after 20 s.
    pub fn new(display_name: impl Into<String>) -> Self {
        Self {
            display_name: display_name.into(),
            enterprise_voice: false,
            unanswered: UnansweredAction::Voicemail,
            unanswered_delay_seconds: DEFAULT_UNANSWERED_DELAY_SECONDS,
        }
    }

    pub fn with_enterprise_voice(mut self, enabled: bool) -> Self {
        self.enterprise_voice = enabled;
        self
    }

    pub fn with_unanswered(mut self, action: UnansweredAction, delay_seconds: u32) -> Self {
        self.unanswered = action;
        self.unanswered_delay_seconds = delay_seconds;
        self
    }

    pub fn unanswered_delay(&self) -> Duration {
        Duration::from_secs(u64::from(self.unanswered_delay_seconds))
    }
}

/// Where a user's effective policy comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicySource {
    Direct,
    Group { group: GroupId, rank: u32 },
    TenantDefault,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EffectivePolicy {
    pub policy: PolicyId,
    pub source: PolicySource,
}

#[derive(Debug)]
struct UserEntry {
    settings: UserSettings,
    groups: BTreeSet<GroupId>,
    direct_policy: Option<PolicyId>,
}

/// Accounts, groups, policies and grants. Reads are public; changes go through the
/// switchboard, which must react to them.
#[derive(Debug)]
pub struct Directory {
    users: HashMap<UserId, UserEntry>,
    groups: HashMap<GroupId, BTreeSet<UserId>>,
    policies: BTreeMap<PolicyId, Policy>,
    policy_keys: HashMap<String, PolicyId>,
    next_policy: u32,
    /// Group policy assignments in rank order: rank 1 first.
    group_assignments: Vec<(GroupId, PolicyId)>,
    tenant_default: PolicyId,
}

impl Default for Directory {
    fn default() -> Self {
        Self::new()
    }
}

impl Directory {
    pub fn new() -> Self {
        let global = Policy::with_defaults(PolicyIdentity::Global);
        let mut policy_keys = HashMap::new();
        policy_keys.insert(global.identity.key(), PolicyId::GLOBAL);
        Self {
            users: HashMap::new(),
            groups: HashMap::new(),
            policies: BTreeMap::from([(PolicyId::GLOBAL, global)]),
            policy_keys,
            next_policy: 1,
            group_assignments: Vec::new(),
            tenant_default: PolicyId::GLOBAL,
        }
    }

    // ---- users -----------------------------------------------------------------

    pub fn user(&self, user: UserId) -> Option<&UserSettings> {
        self.users.get(&user).map(|entry| &entry.settings)
    }

    pub fn users(&self) -> impl Iterator<Item = (UserId, &UserSettings)> {
        self.users.iter().map(|(id, entry)| (*id, &entry.settings))
    }

    pub fn display_name(&self, user: UserId) -> String {
        self.user(user).map_or_else(|| user.to_string(), |settings| settings.display_name.clone())
    }

    pub(crate) fn add_user(
        &mut self,
        user: UserId,
        settings: UserSettings,
    ) -> Result<(), DirectoryError> {
        if self.users.contains_key(&user) {
            return Err(DirectoryError::UserExists(user));
        }
        self.check_settings(user, &settings)?;
        self.users
            .insert(user, UserEntry { settings, groups: BTreeSet::new(), direct_policy: None });
        Ok(())
    }

    pub(crate) fn update_user(
        &mut self,
        user: UserId,
        settings: UserSettings,
    ) -> Result<(), DirectoryError> {
        self.check_settings(user, &settings)?;
        let entry = self.users.get_mut(&user).ok_or(DirectoryError::UserNotFound(user))?;
        entry.settings = settings;
        Ok(())
    }

    fn check_settings(&self, user: UserId, settings: &UserSettings) -> Result<(), DirectoryError> {
        let delay = settings.unanswered_delay_seconds;
        if !(UNANSWERED_DELAY_MIN_SECONDS..=UNANSWERED_DELAY_MAX_SECONDS).contains(&delay) {
            return Err(DirectoryError::UnansweredDelayOutOfBounds { seconds: i64::from(delay) });
        }
        if let UnansweredAction::Forward(target) = settings.unanswered {
            if target == user {
                return Err(DirectoryError::ForwardToSelf);
            }
            if !self.users.contains_key(&target) {
                return Err(DirectoryError::ForwardTargetNotFound(target));
            }
        }
        Ok(())
    }

    /// Removes the account, its group memberships and its direct grant. Other users'
    /// forwards to it are left as they are and fall back to voicemail when used.
    pub(crate) fn remove_user(&mut self, user: UserId) -> Result<(), DirectoryError> {
        let entry = self.users.remove(&user).ok_or(DirectoryError::UserNotFound(user))?;
        for group in entry.groups {
            if let Some(members) = self.groups.get_mut(&group) {
                members.remove(&user);
            }
        }
        Ok(())
    }

    // ---- groups ----------------------------------------------------------------

    pub fn group_members(&self, group: GroupId) -> Option<&BTreeSet<UserId>> {
        self.groups.get(&group)
    }

    /// Every group with its members, in group id order.
    pub fn groups(&self) -> impl Iterator<Item = (GroupId, &BTreeSet<UserId>)> {
        let mut groups: Vec<_> = self.groups.iter().map(|(id, members)| (*id, members)).collect();
        groups.sort_by_key(|(id, _)| *id);
        groups.into_iter()
    }

    /// The groups `user` belongs to (empty for an unknown user).
    pub fn user_groups(&self, user: UserId) -> impl Iterator<Item = GroupId> + '_ {
        self.users.get(&user).into_iter().flat_map(|entry| entry.groups.iter().copied())
    }

    pub(crate) fn add_group(&mut self, group: GroupId) -> Result<(), DirectoryError> {
        if self.groups.contains_key(&group) {
            return Err(DirectoryError::GroupExists(group));
        }
        self.groups.insert(group, BTreeSet::new());
        Ok(())
    }

    /// Removes the group, its memberships and its policy assignment.
    pub(crate) fn remove_group(&mut self, group: GroupId) -> Result<(), DirectoryError> {
        let members = self.groups.remove(&group).ok_or(DirectoryError::GroupNotFound(group))?;
        for user in members {
            if let Some(entry) = self.users.get_mut(&user) {
                entry.groups.remove(&group);
            }
        }
        self.group_assignments.retain(|(assigned, _)| *assigned != group);
        Ok(())
    }

    pub(crate) fn add_member(
        &mut self,
        group: GroupId,
        user: UserId,
    ) -> Result<(), DirectoryError> {
        self.set_membership(group, user, true)
    }

    pub(crate) fn remove_member(
        &mut self,
        group: GroupId,
        user: UserId,
    ) -> Result<(), DirectoryError> {
        self.set_membership(group, user, false)
    }

    fn set_membership(
        &mut self,
        group: GroupId,
        user: UserId,
        member: bool,
    ) -> Result<(), DirectoryError> {
        let entry = self.users.get_mut(&user).ok_or(DirectoryError::UserNotFound(user))?;
        let members = self.groups.get_mut(&group).ok_or(DirectoryError::GroupNotFound(group))?;
        if member {
            members.insert(user);
            entry.groups.insert(group);
        } else {
            members.remove(&user);
            entry.groups.remove(&group);
        }
        Ok(())
    }

    // ---- policies --------------------------------------------------------------

    pub fn policy(&self, id: PolicyId) -> Option<&Policy> {
        self.policies.get(&id)
    }

    /// Looks a policy up by `Global`, `Tag:<Name>` or `<Name>`.
    pub fn policy_by_identity(&self, identity: &str) -> Result<(PolicyId, &Policy), PolicyError> {
        let parsed = PolicyIdentity::parse(identity)?;
        self.policy_keys
            .get(&parsed.key())
            .and_then(|id| self.policies.get(id).map(|policy| (*id, policy)))
            .ok_or_else(|| PolicyError::NotFound { identity: parsed.to_string() })
    }

    /// Every policy, `Global` first.
    pub fn policies(&self) -> impl Iterator<Item = (PolicyId, &Policy)> {
        self.policies.iter().map(|(id, policy)| (*id, policy))
    }

    /// Policies whose identity (`Tag:Sales`) or bare name (`Sales`) matches a
    /// wildcard pattern (`*` any run, `?` one character), case-insensitively.
    pub fn find_policies<'a>(
        &'a self,
        pattern: &'a str,
    ) -> impl Iterator<Item = (PolicyId, &'a Policy)> + 'a {
        self.policies().filter(move |(_, policy)| {
            glob_matches(pattern, &policy.identity.to_string())
                || glob_matches(pattern, policy.identity.name())
        })
    }

    pub(crate) fn new_policy(
        &mut self,
        identity: &str,
        settings: &PolicyChanges,
    ) -> Result<PolicyId, PolicyError> {
        let identity = PolicyIdentity::parse_new(identity)?;
        let key = identity.key();
        if self.policy_keys.contains_key(&key) {
            return Err(PolicyError::AlreadyExists { identity: identity.to_string() });
        }
        let policy = Policy::with_defaults(identity).with_changes(settings)?;
        let id = PolicyId(self.next_policy);
        self.next_policy += 1;
        self.policy_keys.insert(key, id);
        self.policies.insert(id, policy);
        Ok(id)
    }

    pub(crate) fn set_policy(
        &mut self,
        identity: &str,
        changes: &PolicyChanges,
    ) -> Result<PolicyId, PolicyError> {
        let (id, current) = self.policy_by_identity(identity)?;
        let next = current.with_changes(changes)?;
        self.policies.insert(id, next);
        Ok(id)
    }

    /// Removes a policy. One still granted is refused unless `force`, which first
    /// takes its grants away (those users then resolve to their next policy).
    pub(crate) fn remove_policy(
        &mut self,
        identity: &str,
        force: bool,
    ) -> Result<PolicyId, PolicyError> {
        let (id, policy) = self.policy_by_identity(identity)?;
        if id == PolicyId::GLOBAL {
            return Err(PolicyError::GlobalIsPermanent);
        }
        let grants = self.grant_count(id);
        if !force && (grants.users > 0 || grants.groups > 0 || grants.tenant_default) {
            return Err(PolicyError::StillGranted {
                identity: policy.identity.to_string(),
                grants,
            });
        }
        for entry in self.users.values_mut() {
            if entry.direct_policy == Some(id) {
                entry.direct_policy = None;
            }
        }
        self.group_assignments.retain(|(_, assigned)| *assigned != id);
        if self.tenant_default == id {
            self.tenant_default = PolicyId::GLOBAL;
        }
        if let Some(policy) = self.policies.remove(&id) {
            self.policy_keys.remove(&policy.identity.key());
        }
        Ok(id)
    }

    pub fn grant_count(&self, id: PolicyId) -> GrantCount {
        GrantCount {
            users: self.users.values().filter(|e| e.direct_policy == Some(id)).count(),
            groups: self.group_assignments.iter().filter(|(_, p)| *p == id).count(),
            tenant_default: self.tenant_default == id,
        }
    }

    // ---- grants ----------------------------------------------------------------

    /// Grants a policy to one user directly; `None` removes the direct grant.
    pub(crate) fn grant_to_user(
        &mut self,
        user: UserId,
        identity: Option<&str>,
    ) -> Result<(), DirectoryError> {
        let policy = identity.map(|i| self.policy_by_identity(i).map(|(id, _)| id)).transpose()?;
        let entry = self.users.get_mut(&user).ok_or(DirectoryError::UserNotFound(user))?;
        entry.direct_policy = policy;
        Ok(())
    }

    /// Assigns a policy to a group at `rank` (1 is the highest); assignments at that
    /// rank and below move down one, as the group-assignment cmdlet does. `None`
    /// removes the group's assignment. Returns the rank the group got.
    pub(crate) fn grant_to_group(
        &mut self,
        group: GroupId,
        identity: Option<&str>,
        rank: i64,
    ) -> Result<Option<u32>, DirectoryError> {
        let policy = identity.map(|i| self.policy_by_identity(i).map(|(id, _)| id)).transpose()?;
        if !self.groups.contains_key(&group) {
            return Err(DirectoryError::GroupNotFound(group));
        }
        let Some(policy) = policy else {
            self.group_assignments.retain(|(assigned, _)| *assigned != group);
            return Ok(None);
        };
        let position = usize::try_from(rank)
            .ok()
            .and_then(|rank| rank.checked_sub(1))
            .ok_or(DirectoryError::InvalidRank(rank))?;
        self.group_assignments.retain(|(assigned, _)| *assigned != group);
        let position = position.min(self.group_assignments.len());
        self.group_assignments.insert(position, (group, policy));
        Ok(Some(rank_of(position)))
    }

    /// Sets the tenant-wide default; `None` makes `Global` the default again.
    pub(crate) fn grant_tenant_default(
        &mut self,
        identity: Option<&str>,
    ) -> Result<(), DirectoryError> {
        self.tenant_default = match identity {
            Some(identity) => self.policy_by_identity(identity)?.0,
            None => PolicyId::GLOBAL,
        };
        Ok(())
    }

    pub fn direct_policy(&self, user: UserId) -> Option<PolicyId> {
        self.users.get(&user).and_then(|entry| entry.direct_policy)
    }

    /// Group assignments as (group, policy, rank), rank 1 first.
    pub fn group_assignments(&self) -> impl Iterator<Item = (GroupId, PolicyId, u32)> + '_ {
        self.group_assignments
            .iter()
            .enumerate()
            .map(|(position, (group, policy))| (*group, *policy, rank_of(position)))
    }

    pub fn tenant_default(&self) -> PolicyId {
        self.tenant_default
    }

    /// The policy that governs `user`: a direct grant; else the best-ranked group
    /// assignment among the user's groups; else the tenant default (`Global` unless
    /// an admin changed it). `None` for an unknown user.
    pub fn effective_policy(&self, user: UserId) -> Option<EffectivePolicy> {
        let entry = self.users.get(&user)?;
        if let Some(policy) = entry.direct_policy {
            return Some(EffectivePolicy { policy, source: PolicySource::Direct });
        }
        let by_group = self
            .group_assignments
            .iter()
            .enumerate()
            .find(|(_, (group, _))| entry.groups.contains(group));
        Some(match by_group {
            Some((position, (group, policy))) => EffectivePolicy {
                policy: *policy,
                source: PolicySource::Group { group: *group, rank: rank_of(position) },
            },
            None => {
                EffectivePolicy { policy: self.tenant_default, source: PolicySource::TenantDefault }
            }
        })
    }

    /// The policy under which `user` may park and retrieve, or why they may not.
    pub fn park_policy(&self, user: UserId) -> Result<PolicyId, crate::CallError> {
        let settings = self.user(user).ok_or(crate::CallError::UserNotFound { user })?;
        if !settings.enterprise_voice {
            return Err(crate::CallError::NotEnterpriseVoice);
        }
        let effective =
            self.effective_policy(user).ok_or(crate::CallError::UserNotFound { user })?;
        match self.policies.get(&effective.policy) {
            Some(policy) if policy.allow_call_park => Ok(effective.policy),
            _ => Err(crate::CallError::ParkNotAllowed),
        }
    }
}

fn rank_of(position: usize) -> u32 {
    u32::try_from(position + 1).unwrap_or(u32::MAX)
}
