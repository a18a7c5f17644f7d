use std::path::PathBuf;

use serde::Serialize;

/// Errors the desktop app reports, to the user (as `{code, message}`) or at start-up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    #[error("the desktop runtime failed: {0}")]
    Tauri(#[from] tauri::Error),
    #[error(transparent)]
    Client(#[from] callpark_client::ClientError),
    #[error("You are not signed in.")]
    NotSignedIn,
    #[error("Cannot save the settings to {}: {message}", .path.display())]
    Settings { path: PathBuf, message: String },
    #[error("{0}")]
    Sound(String),
    #[error("Cannot copy to the clipboard: {0}")]
    Clipboard(String),
    #[error("{0}")]
    Invalid(String),
}

impl AppError {
    /// Stable machine code for the UI and for tests: the service's own code for its
    /// refusals.
    pub fn code(&self) -> &str {
        match self {
            AppError::Tauri(_) => "app_runtime",
            AppError::Client(error) => error.code(),
            AppError::NotSignedIn => "not_signed_in",
            AppError::Settings { .. } => "settings",
            AppError::Sound(_) => "sound",
            AppError::Clipboard(_) => "clipboard",
            AppError::Invalid(_) => "invalid",
        }
    }
}

impl Serialize for AppError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut state = serializer.serialize_struct("AppError", 2)?;
        state.serialize_field("code", self.code())?;
        state.serialize_field("message", &self.to_string())?;
        state.end()
    }
}
