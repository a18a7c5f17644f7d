//! The admin REST API under `/api/v1`, and its OpenAPI document at
//! `/api/v1/openapi.json`. Each handler checks the bearer token, hands the operation
//! to the exchange (which checks the admin role and carries it out) and returns the
//! view, or a `{code, message, field}` refusal.

use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use callpark_park::UserId;
use callpark_wire::admin::{
    ApiError, AuditEntry, AuditKindName, GrantReply, GrantRequest, GroupView, LOGIN_PATTERN,
    LoginReply, LoginRequest, NAME_PATTERN, NewGroup, NewPolicy, NewUser, POLICY_IDENTITY_PATTERN,
    PolicyFields, PolicyView, UserChanges, UserView, VoicemailEntry, WsTicket,
};
use serde::Deserialize;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, Schema};
use utoipa::{Modify, OpenApi};

use crate::accounts::hash_password_in;
use crate::extract::{Body, PathParams, QueryParams};
use crate::refusal::Refusal;
use crate::state::AppState;
use crate::store::AuditQuery;
use crate::tenant::{NewAccount, Tenant};

/// Most audit lines one request returns.
pub const AUDIT_PAGE_MAX: u32 = 1000;

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Callpark admin API",
        description = "Call park policies, users, groups and the park audit log. Send `Authorization: Bearer <token>` from `POST /api/v1/login`; everything but signing in and out (`login`, `logout`, `ws-ticket`) and the caller's own voicemail needs an admin."
    ),
    paths(
        crate::signin::login,
        crate::signin::ws_ticket,
        get_policies,
        new_policy,
        get_policy,
        set_policy,
        remove_policy,
        grant,
        get_users,
        new_user,
        get_user,
        set_user,
        remove_user,
        revoke_user_sessions,
        crate::signin::logout,
        get_groups,
        new_group,
        get_group,
        remove_group,
        add_member,
        remove_member,
        audit,
        list_voicemail,
        voicemail_audio,
        delete_voicemail
    ),
    components(schemas(ApiError, LoginRequest, LoginReply, WsTicket)),
    modifiers(&Contract),
    security(("bearer" = []))
)]
pub struct ApiDoc;

/// What every operation shares, stated once: the bearer scheme, and the refusals
/// any operation of its kind can give (400 for a bad body, path or query; 401
/// without a valid token; 403 for a signed-in user who is not an admin).
struct Contract;

impl Modify for Contract {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The token from POST /api/v1/login (valid 12 hours)."))
                    .build(),
            ),
        );
        for (path, item) in &mut openapi.paths.paths {
            let operations = [
                item.get.as_mut(),
                item.put.as_mut(),
                item.post.as_mut(),
                item.delete.as_mut(),
                item.patch.as_mut(),
            ];
            for operation in operations.into_iter().flatten() {
                add_common_refusals(path, operation);
                add_parameter_patterns(operation);
            }
        }
    }
}

/// The parameters named like a login, a group name or a policy identity take the
/// same pattern wherever they appear (stated once, in `callpark_wire::admin`).
fn add_parameter_patterns(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        let pattern = match parameter.name.as_str() {
            "login" => LOGIN_PATTERN,
            "name" => NAME_PATTERN,
            "identity" | "policy" => POLICY_IDENTITY_PATTERN,
            _ => continue,
        };
        if let Some(RefOr::T(Schema::Object(schema))) = parameter.schema.as_mut() {
            schema.pattern = Some(pattern.to_owned());
        }
    }
}

fn add_common_refusals(path: &str, operation: &mut Operation) {
    let signs_in = path == "/api/v1/login";
    let any_user = signs_in || path == "/api/v1/logout" || path.starts_with("/api/v1/voicemail");
    let takes_input = operation.request_body.is_some()
        || operation.parameters.as_ref().is_some_and(|parameters| !parameters.is_empty());
    let mut refusals = Vec::new();
    if takes_input {
        refusals.push((
            "400",
            "The body, a path parameter or a query parameter is not valid; `field` names it.",
        ));
    }
    if !signs_in {
        refusals.push(("401", "No token, or the token is unknown, expired or revoked."));
    }
    if !any_user {
        refusals.push(("403", "The signed-in user is not an admin."));
    }
    for (status, description) in refusals {
        let response =
            operation.responses.responses.entry(status.to_owned()).or_insert_with(|| {
                RefOr::T(
                    ResponseBuilder::new()
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ApiError")))
                                .build(),
                        )
                        .build(),
                )
            });
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            description.clone_into(&mut response.description);
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .route("/api/v1/policies", get(get_policies).post(new_policy))
        .route(
            "/api/v1/policies/{identity}",
            get(get_policy).patch(set_policy).delete(remove_policy),
        )
        .route("/api/v1/grants", post(grant))
        .route("/api/v1/users", get(get_users).post(new_user))
        .route("/api/v1/users/{login}", get(get_user).patch(set_user).delete(remove_user))
        .route("/api/v1/users/{login}/sessions", axum::routing::delete(revoke_user_sessions))
        .route("/api/v1/groups", get(get_groups).post(new_group))
        .route("/api/v1/groups/{name}", get(get_group).delete(remove_group))
        .route("/api/v1/groups/{name}/members/{login}", put(add_member).delete(remove_member))
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/voicemail", get(list_voicemail))
        .route("/api/v1/voicemail/{id}", axum::routing::delete(delete_voicemail))
        .route("/api/v1/voicemail/{id}/audio", get(voicemail_audio))
}

/// The signed-in user a request comes from (any role; the exchange checks admin).
#[derive(Clone, Copy, Debug)]
pub struct Caller(pub UserId);

impl FromRequestParts<AppState> for Caller {
    type Rejection = Refusal;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = crate::extract::bearer(&parts.headers).ok_or_else(|| {
            Refusal::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Sign in first: send the token from POST /api/v1/login as \"Authorization: Bearer <token>\".",
            )
        })?;
        state.session(&token).map(|session| Caller(session.user)).ok_or_else(|| {
            Refusal::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "The token is unknown or has expired; sign in again.",
            )
        })
    }
}

/// Only checks that the caller is an admin (for reads outside the tenant).
async fn authorize(state: &AppState, caller: Caller) -> Result<(), Refusal> {
    Ok(state.exchange.read(caller.0, |_| Ok(())).await?)
}

fn created<T: serde::Serialize>(reply: Result<T, impl Into<Refusal>>) -> Response {
    match reply {
        Ok(body) => (StatusCode::CREATED, Json(body)).into_response(),
        Err(refusal) => refusal.into().into_response(),
    }
}

async fn hashed(state: &AppState, password: String) -> Result<String, Refusal> {
    state
        .hashing
        .run(move |memory| hash_password_in(memory, &password))
        .await
        .ok_or_else(|| Refusal::internal("Hashing the password failed."))?
        .map_err(|error| Refusal::invalid("user_invalid", "password", error.to_string()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PolicyFilter {
    /// `Get-CsTeamsCallParkPolicy -Filter`: a name pattern with `*` and `?`.
    #[param(nullable = false)]
    filter: Option<String>,
}

/// `Get-CsTeamsCallParkPolicy`: all policies, or those matching a filter.
#[utoipa::path(get, path = "/api/v1/policies", params(PolicyFilter), tag = "policies",
    responses((status = 200, body = Vec<PolicyView>), (status = 403, body = ApiError)))]
async fn get_policies(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<PolicyFilter>,
) -> Result<Json<Vec<PolicyView>>, Refusal> {
    let filter = query.filter;
    Ok(Json(state.exchange.read(caller.0, move |t| Ok(t.policies(filter.as_deref()))).await?))
}

/// `New-CsTeamsCallParkPolicy`: unset fields take their defaults (park off, codes
/// 10–99, 300 s).
#[utoipa::path(post, path = "/api/v1/policies", request_body = NewPolicy, tag = "policies",
    responses((status = 201, body = PolicyView), (status = 400, body = ApiError), (status = 409, body = ApiError)))]
async fn new_policy(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewPolicy>,
) -> Response {
    created(state.exchange.change(caller.0, move |t, _| t.new_policy(&new)).await)
}

/// `Get-CsTeamsCallParkPolicy -Identity`: `Global`, `Tag:<Name>` or `<Name>`.
#[utoipa::path(get, path = "/api/v1/policies/{identity}", tag = "policies",
    params(("identity" = String, Path)),
    responses((status = 200, body = PolicyView), (status = 404, body = ApiError)))]
async fn get_policy(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(identity): PathParams<String>,
) -> Result<Json<PolicyView>, Refusal> {
    Ok(Json(state.exchange.read(caller.0, move |t| t.policy(&identity)).await?))
}

/// `Set-CsTeamsCallParkPolicy`: only the given fields change. A new range applies to
/// new parks; parked calls keep their codes.
#[utoipa::path(patch, path = "/api/v1/policies/{identity}", request_body = PolicyFields, tag = "policies",
    params(("identity" = String, Path)),
    responses((status = 200, body = PolicyView), (status = 400, body = ApiError), (status = 404, body = ApiError)))]
async fn set_policy(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(identity): PathParams<String>,
    Body(fields): Body<PolicyFields>,
) -> Result<Json<PolicyView>, Refusal> {
    Ok(Json(state.exchange.change(caller.0, move |t, _| t.set_policy(&identity, &fields)).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RemoveOptions {
    /// Remove even if still granted; its users fall back to the next policy in line.
    #[serde(default)]
    force: bool,
}

/// `Remove-CsTeamsCallParkPolicy`: Global cannot be removed; a policy still granted
/// is refused unless `force=true`.
#[utoipa::path(delete, path = "/api/v1/policies/{identity}", tag = "policies",
    params(("identity" = String, Path), RemoveOptions),
    responses((status = 204), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
async fn remove_policy(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(identity): PathParams<String>,
    QueryParams(options): QueryParams<RemoveOptions>,
) -> Result<StatusCode, Refusal> {
    let force = options.force;
    state.exchange.change(caller.0, move |t, _| t.remove_policy(&identity, force)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `Grant-CsTeamsCallParkPolicy`: to a user, to a group with a rank, or as the
/// tenant default (`global`); a null policy removes the grant.
#[utoipa::path(post, path = "/api/v1/grants", request_body = GrantRequest, tag = "policies",
    responses((status = 200, body = GrantReply), (status = 400, body = ApiError), (status = 404, body = ApiError)))]
async fn grant(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<GrantRequest>,
) -> Result<Json<GrantReply>, Refusal> {
    Ok(Json(state.exchange.change(caller.0, move |t, _| t.grant(&request)).await?))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = Vec<UserView>), (status = 403, body = ApiError)))]
async fn get_users(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<UserView>>, Refusal> {
    Ok(Json(state.exchange.read(caller.0, Tenant::users).await?))
}

/// Adds a user. Forwarding unanswered calls to a login that does not exist is 404.
#[utoipa::path(post, path = "/api/v1/users", request_body = NewUser, tag = "users",
    responses((status = 201, body = UserView), (status = 400, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError)))]
async fn new_user(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewUser>,
) -> Response {
    let reply = async {
        let password_hash = hashed(&state, new.password).await?;
        let account = NewAccount {
            login: new.login,
            display_name: new.display_name,
            password_hash,
            admin: new.admin,
            enterprise_voice: new.enterprise_voice,
            unanswered: new.unanswered,
            unanswered_delay_seconds: new.unanswered_delay_seconds,
        };
        Ok::<_, Refusal>(state.exchange.change(caller.0, move |t, _| t.new_user(account)).await?)
    };
    created(reply.await)
}

#[utoipa::path(get, path = "/api/v1/users/{login}", tag = "users",
    params(("login" = String, Path)),
    responses((status = 200, body = UserView), (status = 404, body = ApiError)))]
async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(login): PathParams<String>,
) -> Result<Json<UserView>, Refusal> {
    Ok(Json(state.exchange.read(caller.0, move |t| t.user(&login)).await?))
}

#[utoipa::path(patch, path = "/api/v1/users/{login}", request_body = UserChanges, tag = "users",
    params(("login" = String, Path)),
    responses((status = 200, body = UserView), (status = 400, body = ApiError), (status = 404, body = ApiError)))]
async fn set_user(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(login): PathParams<String>,
    Body(mut changes): Body<UserChanges>,
) -> Result<Json<UserView>, Refusal> {
    let password_hash = match changes.password.take() {
        Some(password) => Some(hashed(&state, password).await?),
        None => None,
    };
    let change = move |t: &mut Tenant, _| t.set_user(&login, &changes, password_hash);
    Ok(Json(state.exchange.change(caller.0, change).await?))
}

/// Removes an account: its devices leave their calls; calls it parked stay
/// retrievable.
#[utoipa::path(delete, path = "/api/v1/users/{login}", tag = "users",
    params(("login" = String, Path)),
    responses((status = 204), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
async fn remove_user(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(login): PathParams<String>,
) -> Result<StatusCode, Refusal> {
    let target = state.exchange.credentials(&login).await.map(|(user, _)| user);
    let files = match target {
        Some(user) => state.store.voicemail_files_of(user).await.map_err(store_failed)?,
        None => Vec::new(),
    };
    // Committed with the removal: the user's sessions and message list are gone.
    let actor = caller.0;
    state.exchange.change(actor, move |t, now| t.remove_user(now, actor, &login)).await?;
    if let Some(user) = target {
        state.revoke_sessions(user, "Your account was removed.").await?;
    }
    for file in files {
        if let Err(error) = tokio::fs::remove_file(state.voicemail_dir.join(&file)).await {
            tracing::warn!(%file, %error, "a removed user's voicemail file could not be deleted");
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Signs a user out everywhere: every token of theirs stops working and their
/// connections close, saying an admin signed them out.
#[utoipa::path(delete, path = "/api/v1/users/{login}/sessions", tag = "users",
    params(("login" = String, Path)),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn revoke_user_sessions(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(login): PathParams<String>,
) -> Result<StatusCode, Refusal> {
    authorize(&state, caller).await?;
    let (user, _) = state.exchange.credentials(&login).await.ok_or_else(|| {
        Refusal::not_found("user_not_found", format!("There is no user with login {login:?}."))
    })?;
    state.revoke_sessions(user, "An admin signed you out; sign in again.").await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/groups", tag = "groups",
    responses((status = 200, body = Vec<GroupView>), (status = 403, body = ApiError)))]
async fn get_groups(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<GroupView>>, Refusal> {
    Ok(Json(state.exchange.read(caller.0, Tenant::groups).await?))
}

/// Adds a group, with its first members (existing users: an unknown login is 404).
#[utoipa::path(post, path = "/api/v1/groups", request_body = NewGroup, tag = "groups",
    responses((status = 201, body = GroupView), (status = 400, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError)))]
async fn new_group(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewGroup>,
) -> Response {
    created(state.exchange.change(caller.0, move |t, _| t.new_group(&new)).await)
}

#[utoipa::path(get, path = "/api/v1/groups/{name}", tag = "groups",
    params(("name" = String, Path)),
    responses((status = 200, body = GroupView), (status = 404, body = ApiError)))]
async fn get_group(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(name): PathParams<String>,
) -> Result<Json<GroupView>, Refusal> {
    Ok(Json(state.exchange.read(caller.0, move |t| t.group(&name)).await?))
}

/// Removes a group, its memberships and its policy assignment.
#[utoipa::path(delete, path = "/api/v1/groups/{name}", tag = "groups",
    params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = ApiError)))]
async fn remove_group(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(name): PathParams<String>,
) -> Result<StatusCode, Refusal> {
    state.exchange.change(caller.0, move |t, _| t.remove_group(&name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/groups/{name}/members/{login}", tag = "groups",
    params(("name" = String, Path),
        ("login" = String, Path)),
    responses((status = 200, body = GroupView), (status = 404, body = ApiError)))]
async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    PathParams((name, login)): PathParams<(String, String)>,
) -> Result<Json<GroupView>, Refusal> {
    Ok(Json(state.exchange.change(caller.0, move |t, _| t.add_member(&name, &login)).await?))
}

#[utoipa::path(delete, path = "/api/v1/groups/{name}/members/{login}", tag = "groups",
    params(("name" = String, Path),
        ("login" = String, Path)),
    responses((status = 200, body = GroupView), (status = 404, body = ApiError)))]
async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    PathParams((name, login)): PathParams<(String, String)>,
) -> Result<Json<GroupView>, Refusal> {
    let change = move |t: &mut Tenant, _| t.remove_member(&name, &login);
    Ok(Json(state.exchange.change(caller.0, change).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// At most this many lines (1–1000, default 100), newest first.
    #[param(minimum = 1, maximum = 1000, nullable = false)]
    limit: Option<i64>,
    /// Only lines older than this id (for paging: the last id of the previous page).
    #[param(minimum = 1, nullable = false)]
    before: Option<i64>,
    /// Only this kind.
    #[param(inline, nullable = false)]
    kind: Option<AuditKindName>,
    /// Only this policy: `Global`, `Tag:<Name>` or the bare name, any case.
    #[param(nullable = false)]
    policy: Option<String>,
}

/// The park audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", params(AuditParams), tag = "audit",
    responses((status = 200, body = Vec<AuditEntry>), (status = 400, body = ApiError), (status = 403, body = ApiError)))]
async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<AuditParams>,
) -> Result<Json<Vec<AuditEntry>>, Refusal> {
    authorize(&state, caller).await?;
    // What happened before this query (a park a moment ago) is committed first.
    if !state.exchange.flush().await {
        return Err(Refusal::internal("The audit log could not be brought up to date."));
    }
    let limit = params.limit.unwrap_or(100);
    let limit = u32::try_from(limit).ok().filter(|l| (1..=AUDIT_PAGE_MAX).contains(l)).ok_or_else(
        || {
            Refusal::invalid(
                "bad_request",
                "limit",
                format!("limit {limit} is not allowed: it must be between 1 and {AUDIT_PAGE_MAX}."),
            )
        },
    )?;
    if let Some(before) = params.before.filter(|before| *before < 1) {
        return Err(Refusal::invalid(
            "bad_request",
            "before",
            format!("before {before} is not allowed: audit line ids start at 1."),
        ));
    }
    // Lines name the policy by identity (`Tag:Sales`, `Global`); a bare name, any
    // case, means the same policy.
    let policy = params
        .policy
        .map(|policy| callpark_park::PolicyIdentity::parse_new(&policy))
        .transpose()
        .map_err(|error| Refusal::invalid("bad_request", "policy", error.to_string()))?
        .map(|identity| identity.to_string());
    let kind = params.kind.map(|kind| kind.as_str().to_owned());
    let query = AuditQuery { limit, before: params.before, kind, policy };
    state
        .store
        .audit(&query)
        .await
        .map(Json)
        .map_err(|error| Refusal::internal(format!("Reading the audit log failed: {error}")))
}

fn store_failed(error: crate::store::StoreError) -> Refusal {
    Refusal::internal(format!("Reading voicemail failed: {error}"))
}

fn no_such_voicemail(id: u64) -> Refusal {
    Refusal::not_found(
        "voicemail_not_found",
        format!("You have no voicemail message {id}; GET /api/v1/voicemail lists yours."),
    )
}

/// The signed-in user's voicemail messages, newest first.
#[utoipa::path(get, path = "/api/v1/voicemail", tag = "voicemail",
    responses((status = 200, body = Vec<VoicemailEntry>), (status = 401, body = ApiError)))]
async fn list_voicemail(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<VoicemailEntry>>, Refusal> {
    state.store.voicemails(caller.0).await.map(Json).map_err(store_failed)
}

/// One of the signed-in user's messages, as Ogg Opus audio.
#[utoipa::path(get, path = "/api/v1/voicemail/{id}/audio", tag = "voicemail",
    params(("id" = u64, Path, description = "The message's id")),
    responses((status = 200, content_type = "audio/ogg", body = Vec<u8>), (status = 404, body = ApiError)))]
async fn voicemail_audio(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<u64>,
) -> Result<Response, Refusal> {
    let file = state.store.voicemail_file(caller.0, id).await.map_err(store_failed)?;
    let file = file.ok_or_else(|| no_such_voicemail(id))?;
    let audio = tokio::fs::read(state.voicemail_dir.join(&file)).await.map_err(|error| {
        Refusal::internal(format!("The audio of voicemail message {id} cannot be read: {error}"))
    })?;
    Ok(([(axum::http::header::CONTENT_TYPE, "audio/ogg")], audio).into_response())
}

/// Deletes one of the signed-in user's messages.
#[utoipa::path(delete, path = "/api/v1/voicemail/{id}", tag = "voicemail",
    params(("id" = u64, Path, description = "The message's id")),
    responses((status = 204), (status = 404, body = ApiError)))]
async fn delete_voicemail(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<u64>,
) -> Result<StatusCode, Refusal> {
    let file = state.store.delete_voicemail(caller.0, id).await.map_err(store_failed)?;
    let file = file.ok_or_else(|| no_such_voicemail(id))?;
    if let Err(error) = tokio::fs::remove_file(state.voicemail_dir.join(&file)).await {
        tracing::warn!(voicemail = id, %error, "voicemail file not removed");
    }
    Ok(StatusCode::NO_CONTENT)
}
