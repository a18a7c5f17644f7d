//! The Callpark desktop app: windows and desktop integration around the client
//! engine. Commands only forward to the engine; the UI renders what it is told.

mod commands;
mod error;

pub use error::AppError;

/// Builds and runs the app on any Tauri runtime (the real one, or the mock one in tests).
pub fn run_app<R: tauri::Runtime>(builder: tauri::Builder<R>) -> Result<(), AppError> {
    builder
        .invoke_handler(tauri::generate_handler![commands::app_info])
        .run(tauri::generate_context!())
        .map_err(AppError::Tauri)
}
