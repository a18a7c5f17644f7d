//! Why the tenant refused an admin operation. What HTTP status a refusal becomes is
//! the REST edge's business (`refusal.rs`).

use callpark_park::{DirectoryError, PolicyError};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TenantError {
    /// A value the admin sent breaks a rule; `field` names it.
    #[error("{message}")]
    Invalid { code: &'static str, field: &'static str, message: String },
    /// Something the operation names does not exist.
    #[error("{message}")]
    NotFound { code: &'static str, field: Option<&'static str>, message: String },
    /// The operation is well formed but would break the tenant (a name taken, the
    /// last admin removed).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("Only admins may do this; sign in with an admin account.")]
    NotAdmin,
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

impl TenantError {
    /// The stable, machine-readable name of the refusal.
    pub fn code(&self) -> &str {
        match self {
            TenantError::Invalid { code, .. }
            | TenantError::NotFound { code, .. }
            | TenantError::Conflict { code, .. } => code,
            TenantError::NotAdmin => "forbidden",
            TenantError::Policy(error) => error.code(),
            TenantError::Directory(error) => error.code(),
        }
    }

    pub(super) fn invalid(code: &'static str, field: &'static str, message: String) -> Self {
        TenantError::Invalid { code, field, message }
    }

    pub(super) fn conflict(code: &'static str, message: String) -> Self {
        TenantError::Conflict { code, message }
    }

    pub(super) fn no_user(login: &str) -> Self {
        TenantError::NotFound {
            code: "user_not_found",
            field: None,
            message: format!("There is no user with login {login:?}."),
        }
    }

    pub(super) fn no_group(name: &str) -> Self {
        TenantError::NotFound {
            code: "group_not_found",
            field: None,
            message: format!("There is no group named {name:?}."),
        }
    }
}
