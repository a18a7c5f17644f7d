//! The admin REST API's bodies (`/api/v1/...`), shared by the service and the CLI.
//! Policy fields mirror the `*-CsTeamsCallParkPolicy` cmdlets' parameters.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every REST refusal: a stable machine code, a message in plain words, and the
/// field an invalid value was given for (when the refusal is about one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LoginReply {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at_ms: u64,
    pub user: u64,
    pub login: String,
    pub admin: bool,
}

/// A call park policy (`Get-CsTeamsCallParkPolicy`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolicyView {
    /// `Global` or `Tag:<Name>`.
    pub identity: String,
    pub description: String,
    pub allow_call_park: bool,
    pub pickup_range_start: u16,
    pub pickup_range_end: u16,
    pub park_timeout_seconds: u32,
    /// How many users have it granted directly.
    pub granted_users: usize,
    /// The groups it is assigned to, with their rank.
    pub granted_groups: Vec<GroupRank>,
    pub tenant_default: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GroupRank {
    pub group: String,
    pub rank: u32,
}

/// The settable fields of a policy. Numbers are taken as given (even negative or
/// huge) so that an out-of-range value is refused naming the allowed range, not
/// rejected as malformed JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolicyFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_call_park: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_range_start: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_range_end: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub park_timeout_seconds: Option<i64>,
}

/// `New-CsTeamsCallParkPolicy`: unset fields take the defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewPolicy {
    pub identity: String,
    #[serde(flatten)]
    pub fields: PolicyFields,
}

/// `Grant-CsTeamsCallParkPolicy`: exactly one target, `user`, `group` (with `rank`)
/// or `global`. A null `policy` removes the grant.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GrantRequest {
    pub policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<i64>,
    #[serde(default)]
    pub global: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GrantReply {
    /// The rank the group assignment got (group grants only).
    pub rank: Option<u32>,
}

/// Where a user's effective policy comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EffectivePolicyView {
    pub policy: String,
    /// `direct`, `group:<name>` or `tenant_default`.
    pub source: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub id: u64,
    pub login: String,
    pub display_name: String,
    pub admin: bool,
    pub enterprise_voice: bool,
    /// `voicemail`, `forward:<login>` or `disconnect`.
    pub unanswered: String,
    pub unanswered_delay_seconds: u32,
    pub groups: Vec<String>,
    /// The policy granted to the user directly, if any.
    pub policy: Option<String>,
    pub effective_policy: EffectivePolicyView,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewUser {
    pub login: String,
    pub display_name: String,
    pub password: String,
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub enterprise_voice: bool,
    /// `voicemail` (default), `forward:<login>` or `disconnect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unanswered: Option<String>,
    /// 10–60 s; default 20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unanswered_delay_seconds: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_voice: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unanswered: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unanswered_delay_seconds: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GroupView {
    pub id: u64,
    pub name: String,
    pub members: Vec<String>,
    /// The policy assigned to the group and its rank, if any.
    pub policy: Option<GroupPolicy>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GroupPolicy {
    pub policy: String,
    pub rank: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewGroup {
    pub name: String,
    #[serde(default)]
    pub members: Vec<String>,
}

/// One line of the park audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at_ms: u64,
    /// `parked`, `park_refused`, `retrieved`, `retrieve_refused`, `rang_back`,
    /// `ringback_answered`, `fell_back`, `caller_left` or `lost`.
    pub kind: String,
    /// The reason of a refusal or the fallback taken.
    pub detail: Option<String>,
    /// Login of the user who acted (parker, retriever, caller).
    pub user: Option<String>,
    pub policy: Option<String>,
    pub call: Option<u64>,
    pub code: Option<u16>,
}

/// One voicemail message, as `GET /api/v1/voicemail` lists them (newest first). The
/// audio is at `GET /api/v1/voicemail/{id}/audio` (Ogg Opus).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VoicemailEntry {
    pub id: u64,
    /// The caller's user id and name; absent if the account no longer exists.
    pub caller_id: Option<u64>,
    pub caller_name: Option<String>,
    pub call: u64,
    pub recorded_at_ms: u64,
    pub duration_ms: u64,
}
