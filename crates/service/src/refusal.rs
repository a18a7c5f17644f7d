//! A refused REST request: an HTTP status and the `{code, message, field}` body.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use callpark_park::{DirectoryError, PolicyError};
use callpark_wire::admin::ApiError;

use crate::exchange::AdminError;
use crate::tenant::TenantError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub body: ApiError,
}

impl Refusal {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ApiError { code: code.to_owned(), message: message.into(), field: None },
        }
    }

    pub fn invalid(code: &str, field: &str, message: impl Into<String>) -> Self {
        let mut refusal = Self::new(StatusCode::BAD_REQUEST, code, message);
        refusal.body.field = Some(field.to_owned());
        refusal
    }

    pub fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_stopping",
            "The service is shutting down; try again in a moment.",
        )
    }
}

impl From<TenantError> for Refusal {
    fn from(error: TenantError) -> Self {
        let (status, field) = match error {
            TenantError::Policy(error) => return error.into(),
            TenantError::Directory(error) => return error.into(),
            TenantError::Invalid { field, .. } => (StatusCode::BAD_REQUEST, Some(field)),
            TenantError::NotFound { field, .. } => (StatusCode::NOT_FOUND, field),
            TenantError::Conflict { .. } => (StatusCode::CONFLICT, None),
            TenantError::NotAdmin => (StatusCode::FORBIDDEN, None),
        };
        let mut refusal = Refusal::new(status, error.code(), error.to_string());
        refusal.body.field = field.map(str::to_owned);
        refusal
    }
}

impl From<AdminError> for Refusal {
    fn from(error: AdminError) -> Self {
        match error {
            AdminError::Refused(error) => error.into(),
            AdminError::Stopping => Refusal::unavailable(),
            AdminError::NotSaved(why) => Refusal::internal(format!(
                "The change was made but could not be saved: {why}. It will be lost on restart."
            )),
        }
    }
}

impl From<PolicyError> for Refusal {
    fn from(error: PolicyError) -> Self {
        let status = match &error {
            PolicyError::NotFound { .. } => StatusCode::NOT_FOUND,
            PolicyError::AlreadyExists { .. }
            | PolicyError::StillGranted { .. }
            | PolicyError::GlobalIsPermanent => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        };
        let mut refusal = Refusal::new(status, error.code(), capitalised(&error.to_string()));
        refusal.body.field = error.field().map(str::to_owned);
        refusal
    }
}

impl From<DirectoryError> for Refusal {
    fn from(error: DirectoryError) -> Self {
        if let DirectoryError::Policy(error) = error {
            return error.into();
        }
        let (status, field) = match &error {
            DirectoryError::UserNotFound(_) | DirectoryError::GroupNotFound(_) => {
                (StatusCode::NOT_FOUND, None)
            }
            DirectoryError::UserExists(_) | DirectoryError::GroupExists(_) => {
                (StatusCode::CONFLICT, None)
            }
            DirectoryError::UnansweredDelayOutOfBounds { .. } => {
                (StatusCode::BAD_REQUEST, Some("unanswered_delay_seconds"))
            }
            DirectoryError::InvalidRank(_) => (StatusCode::BAD_REQUEST, Some("rank")),
            _ => (StatusCode::BAD_REQUEST, Some("unanswered")),
        };
        let mut refusal = Refusal::new(status, error.code(), capitalised(&error.to_string()));
        refusal.body.field = field.map(str::to_owned);
        refusal
    }
}

fn capitalised(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>() + ".",
        None => String::new(),
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// A refusal as a response, for the places that answer before a handler runs (an
/// unknown address, a method an address does not take, a throttled sign-in).
pub(crate) fn response(
    status: axum::http::StatusCode,
    code: &str,
    message: impl Into<String>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    (status, axum::Json(callpark_wire::ErrorBody::new(code, message))).into_response()
}
