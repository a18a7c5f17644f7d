//! The admin REST API's bodies (`/api/v1/...`), shared by the service and the CLI.
//! Policy fields mirror the `*-CsTeamsCallParkPolicy` cmdlets' parameters.

use serde::{Deserialize, Serialize};

/// What a login name may be: 1 to 64 ASCII letters, digits, `.`, `-` or `_`.
pub const LOGIN_PATTERN: &str = "^[A-Za-z0-9._-]{1,64}$";
/// A new policy or group name: ASCII letters and digits, space, `.`, `-`, `_`; 1 to
/// 64 characters, no space first or last.
pub const NAME_PATTERN: &str = "^[A-Za-z0-9._-](?:[A-Za-z0-9 ._-]{0,62}[A-Za-z0-9._-])?$";
/// A policy identity as requests give it: `Global`, `Tag:<Name>` or a bare name.
pub const POLICY_IDENTITY_PATTERN: &str =
    "^(?:[Tt][Aa][Gg]:)?[A-Za-z0-9._-](?:[A-Za-z0-9 ._-]{0,62}[A-Za-z0-9._-])?$";
/// What happens to an unanswered call: `voicemail`, `disconnect` or
/// `forward:<login>` (any case).
pub const UNANSWERED_PATTERN: &str = "^(?:[Vv][Oo][Ii][Cc][Ee][Mm][Aa][Ii][Ll]|[Dd][Ii][Ss][Cc][Oo][Nn][Nn][Ee][Cc][Tt]|[Ff][Oo][Rr][Ww][Aa][Rr][Dd]:[A-Za-z0-9._-]{1,64})$";
/// A display name: no control characters and at least one character that is not a
/// space.
pub const DISPLAY_NAME_PATTERN: &str = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\x00-\\x1f\\x7f-\\x9f]*$";

/// Every REST refusal: a stable machine code, a message in plain words, and the
/// field an invalid value was given for (when the refusal is about one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginReply {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at_ms: u64,
    pub user: u64,
    pub login: String,
    pub admin: bool,
}

/// A single-use ticket for opening the signaling WebSocket as `/ws?ticket=<ticket>`
/// (for browsers, which cannot set an `Authorization` header on a WebSocket).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WsTicket {
    pub ticket: String,
    /// It works once, within this long.
    pub expires_in_ms: u64,
}

/// A call park policy (`Get-CsTeamsCallParkPolicy`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupRank {
    pub group: String,
    pub rank: u32,
}

/// The settable fields of a policy. Numbers are taken as given (even negative or
/// huge) so that an out-of-range value is refused naming the allowed range, not
/// rejected as malformed JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyFields {
    /// At most 1024 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 1024))]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_call_park: Option<bool>,
    /// 10–9999, and not above `pickup_range_end` (the policy's, after this change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 10, maximum = 9999))]
    pub pickup_range_start: Option<i64>,
    /// 10–9999, and not below `pickup_range_start`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 10, maximum = 9999))]
    pub pickup_range_end: Option<i64>,
    /// 120–1800 seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 120, maximum = 1800))]
    pub park_timeout_seconds: Option<i64>,
}

/// `New-CsTeamsCallParkPolicy`: unset fields take the defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewPolicy {
    /// `Tag:<Name>` or a bare name (`Global` always exists).
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^(?:[Tt][Aa][Gg]:)?[A-Za-z0-9._-](?:[A-Za-z0-9 ._-]{0,62}[A-Za-z0-9._-])?$"
        )
    )]
    pub identity: String,
    #[serde(flatten)]
    pub fields: PolicyFields,
}

/// `Grant-CsTeamsCallParkPolicy`: exactly one target, `user`, `group` (with `rank`)
/// or `global`. A null `policy` removes the grant.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrantRequest {
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^(?:[Tt][Aa][Gg]:)?[A-Za-z0-9._-](?:[A-Za-z0-9 ._-]{0,62}[A-Za-z0-9._-])?$"
        )
    )]
    pub policy: Option<String>,
    /// A user's login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9._-]{1,64}$"))]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^[A-Za-z0-9._-](?:[A-Za-z0-9 ._-]{0,62}[A-Za-z0-9._-])?$")
    )]
    pub group: Option<String>,
    /// With `group` only: 1 or more (1 wins over 2); a taken rank moves the others
    /// down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub rank: Option<i64>,
    #[serde(default)]
    pub global: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrantReply {
    /// The rank the group assignment got (group grants only).
    pub rank: Option<u32>,
}

/// Where a user's effective policy comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EffectivePolicyView {
    pub policy: String,
    /// `direct`, `group:<name>` or `tenant_default`.
    pub source: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewUser {
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9._-]{1,64}$"))]
    pub login: String,
    /// 1 to 128 characters, not only spaces, no control characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 128,
            pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\x00-\\x1f\\x7f-\\x9f]*$"
        )
    )]
    pub display_name: String,
    /// At least 8 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 8))]
    pub password: String,
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub enterprise_voice: bool,
    /// `voicemail` (default), `forward:<login>` (another existing user) or
    /// `disconnect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^(?:[Vv][Oo][Ii][Cc][Ee][Mm][Aa][Ii][Ll]|[Dd][Ii][Ss][Cc][Oo][Nn][Nn][Ee][Cc][Tt]|[Ff][Oo][Rr][Ww][Aa][Rr][Dd]:[A-Za-z0-9._-]{1,64})$"
        )
    )]
    pub unanswered: Option<String>,
    /// 10–60 s; default 20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 10, maximum = 60))]
    pub unanswered_delay_seconds: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserChanges {
    /// 1 to 128 characters, not only spaces, no control characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 128,
            pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\x00-\\x1f\\x7f-\\x9f]*$"
        )
    )]
    pub display_name: Option<String>,
    /// At least 8 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 8))]
    pub password: Option<String>,
    /// The last admin cannot be made a plain user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_voice: Option<bool>,
    /// `voicemail`, `forward:<login>` (another existing user) or `disconnect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^(?:[Vv][Oo][Ii][Cc][Ee][Mm][Aa][Ii][Ll]|[Dd][Ii][Ss][Cc][Oo][Nn][Nn][Ee][Cc][Tt]|[Ff][Oo][Rr][Ww][Aa][Rr][Dd]:[A-Za-z0-9._-]{1,64})$"
        )
    )]
    pub unanswered: Option<String>,
    /// 10–60 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 10, maximum = 60))]
    pub unanswered_delay_seconds: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupView {
    pub id: u64,
    pub name: String,
    pub members: Vec<String>,
    /// The policy assigned to the group and its rank, if any.
    pub policy: Option<GroupPolicy>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupPolicy {
    pub policy: String,
    pub rank: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewGroup {
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^[A-Za-z0-9._-](?:[A-Za-z0-9 ._-]{0,62}[A-Za-z0-9._-])?$")
    )]
    pub name: String,
    /// Logins of existing users.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(inline, value_type = Vec<String>))]
    pub members: Vec<String>,
}

/// The kinds of audit line, as `GET /api/v1/audit?kind=` takes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditKindName {
    Parked,
    ParkRefused,
    Retrieved,
    RetrieveRefused,
    RangBack,
    RingbackAnswered,
    FellBack,
    CallerLeft,
    Lost,
}

impl AuditKindName {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKindName::Parked => "parked",
            AuditKindName::ParkRefused => "park_refused",
            AuditKindName::Retrieved => "retrieved",
            AuditKindName::RetrieveRefused => "retrieve_refused",
            AuditKindName::RangBack => "rang_back",
            AuditKindName::RingbackAnswered => "ringback_answered",
            AuditKindName::FellBack => "fell_back",
            AuditKindName::CallerLeft => "caller_left",
            AuditKindName::Lost => "lost",
        }
    }
}

/// One line of the park audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VoicemailEntry {
    pub id: u64,
    /// The caller's user id and name; absent if the account no longer exists.
    pub caller_id: Option<u64>,
    pub caller_name: Option<String>,
    pub call: u64,
    pub recorded_at_ms: u64,
    pub duration_ms: u64,
}
