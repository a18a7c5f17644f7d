//! What the app remembers between runs: the last server and user, and the chosen
//! sound devices. A JSON file in the app's config directory; never the password.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::AppError;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub server: Option<String>,
    pub login: Option<String>,
    /// A device id from the device list; `None` is the system default.
    pub microphone: Option<String>,
    pub speaker: Option<String>,
}

#[derive(Debug)]
pub struct SettingsFile {
    path: PathBuf,
}

impl SettingsFile {
    pub fn in_dir(dir: &Path) -> Self {
        Self { path: dir.join("settings.json") }
    }

    /// The saved settings; a missing or unreadable file gives the defaults (logged).
    pub fn load(&self) -> Settings {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|error| {
                tracing::warn!(path = %self.path.display(), %error, "unreadable settings; using defaults");
                Settings::default()
            }),
            Err(_) => Settings::default(),
        }
    }

    pub fn save(&self, settings: &Settings) -> Result<(), AppError> {
        let failed = |error: &dyn std::fmt::Display| AppError::Settings {
            path: self.path.clone(),
            message: error.to_string(),
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| failed(&e))?;
        }
        let text = serde_json::to_string_pretty(settings).map_err(|e| failed(&e))?;
        std::fs::write(&self.path, text).map_err(|e| failed(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_survive_a_save_and_a_missing_file_is_the_default() {
        let dir = std::env::temp_dir().join(format!("callpark-settings-{}", std::process::id()));
        let file = SettingsFile::in_dir(&dir);
        assert_eq!(file.load(), Settings::default());
        let settings = Settings {
            server: Some("http://127.0.0.1:7300".into()),
            login: Some("bob".into()),
            microphone: None,
            speaker: Some("callpark_default".into()),
        };
        file.save(&settings).unwrap();
        assert_eq!(file.load(), settings);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
