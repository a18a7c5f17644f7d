//! Tauri commands: one-liners forwarding to the engine.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct AppInfo {
    pub name: &'static str,
    pub version: &'static str,
}

/// What the About line in the UI shows.
#[tauri::command]
pub fn app_info() -> AppInfo {
    AppInfo { name: "Callpark", version: env!("CARGO_PKG_VERSION") }
}
