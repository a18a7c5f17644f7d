use serde::Serialize;

/// Errors the desktop app reports, to the user (as `{code, message}`) or at start-up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    #[error("the desktop runtime failed: {0}")]
    Tauri(#[from] tauri::Error),
}

impl AppError {
    /// Stable machine code for the UI and for tests.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Tauri(_) => "app_runtime",
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
