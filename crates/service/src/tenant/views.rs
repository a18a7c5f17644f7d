//! The tenant as admins see it: policies, users and groups as the API's views.

use callpark_park::{GroupId, Policy, PolicyId, PolicySource, UnansweredAction, UserId};
use callpark_wire::admin::{
    EffectivePolicyView, GroupPolicy, GroupRank, GroupView, PolicyView, UserView,
};

use super::{Tenant, TenantError};

impl Tenant {
    pub(super) fn policy_view(&self, id: PolicyId, policy: &Policy) -> PolicyView {
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

    pub(super) fn policy_view_by_identity(
        &self,
        identity: &str,
    ) -> Result<PolicyView, TenantError> {
        let (id, policy) = self.switchboard.directory().policy_by_identity(identity)?;
        Ok(self.policy_view(id, policy))
    }

    pub(super) fn user_view(&self, user: UserId) -> Result<UserView, TenantError> {
        let directory = self.switchboard.directory();
        let (Some(settings), Some(account)) = (directory.user(user), self.accounts.get(&user))
        else {
            return Err(TenantError::NotFound {
                code: "user_not_found",
                field: None,
                message: format!("There is no user {user}."),
            });
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

    pub(super) fn group_view(&self, group: GroupId) -> Result<GroupView, TenantError> {
        let directory = self.switchboard.directory();
        let members = directory
            .group_members(group)
            .ok_or_else(|| TenantError::no_group(&group.to_string()))?;
        let mut members: Vec<String> =
            members.iter().filter_map(|user| self.login_of(*user).map(str::to_owned)).collect();
        members.sort();
        let policy = directory
            .group_assignments()
            .find(|(assigned, _, _)| *assigned == group)
            .map(|(_, policy, rank)| GroupPolicy { policy: self.policy_identity(policy), rank });
        Ok(GroupView { id: group.0, name: self.group_name(group), members, policy })
    }

    pub(super) fn users_view(&self) -> Result<Vec<UserView>, TenantError> {
        let mut users: Vec<UserId> = self.accounts.keys().copied().collect();
        users.sort();
        users.into_iter().map(|user| self.user_view(user)).collect()
    }

    pub(super) fn groups_view(&self) -> Result<Vec<GroupView>, TenantError> {
        let groups: Vec<GroupId> =
            self.switchboard.directory().groups().map(|(group, _)| group).collect();
        groups.into_iter().map(|group| self.group_view(group)).collect()
    }
}
