//! Tauri commands: one-liners forwarding to the client engine (through the session).

use callpark_client::audio::{DeviceList, ToneSource, decode_ogg_opus, io::SAMPLE_RATE};
use callpark_client::media::MediaStats;
use callpark_client::{Parked, Retrieved};
use callpark_wire::admin::VoicemailEntry;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_clipboard_manager::ClipboardExt;

use crate::AppError;
use crate::session::{Account, AppState, Snapshot};
use crate::settings::Settings;

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

#[tauri::command]
pub fn saved_settings(state: State<'_, AppState>) -> Settings {
    state.settings()
}

#[tauri::command]
pub async fn sign_in<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    server: String,
    login: String,
    password: String,
) -> Result<Account, AppError> {
    state.sign_in(&app, &server, &login, &password).await
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> Result<(), AppError> {
    state.sign_out().await;
    Ok(())
}

#[tauri::command]
pub async fn current_view(state: State<'_, AppState>) -> Result<Option<Snapshot>, AppError> {
    Ok(state.snapshot().await)
}

#[tauri::command]
pub async fn dial(state: State<'_, AppState>, to: String) -> Result<u64, AppError> {
    Ok(state.phone().await?.dial(to.trim()).await?)
}

#[tauri::command]
pub async fn answer(state: State<'_, AppState>, call: u64) -> Result<(), AppError> {
    Ok(state.phone().await?.answer(call).await?)
}

#[tauri::command]
pub async fn decline(state: State<'_, AppState>, call: u64) -> Result<(), AppError> {
    Ok(state.phone().await?.decline(call).await?)
}

#[tauri::command]
pub async fn hang_up(state: State<'_, AppState>, call: u64) -> Result<(), AppError> {
    Ok(state.phone().await?.hang_up(call).await?)
}

#[tauri::command]
pub async fn park(state: State<'_, AppState>, call: u64) -> Result<Parked, AppError> {
    Ok(state.phone().await?.park(call).await?)
}

#[tauri::command]
pub async fn retrieve(state: State<'_, AppState>, code: String) -> Result<Retrieved, AppError> {
    Ok(state.phone().await?.retrieve(&code).await?)
}

#[tauri::command]
pub async fn acknowledge_park_ended(state: State<'_, AppState>, call: u64) -> Result<(), AppError> {
    Ok(state.phone().await?.acknowledge_park_ended(call).await?)
}

#[tauri::command]
pub async fn set_muted(state: State<'_, AppState>, muted: bool) -> Result<(), AppError> {
    state.phone().await?.set_muted(muted);
    Ok(())
}

/// Call statistics and levels, as they change, until the channel closes.
#[tauri::command]
pub async fn watch_stats(
    state: State<'_, AppState>,
    on_stats: Channel<MediaStats>,
) -> Result<(), AppError> {
    let mut stats = state.phone().await?.stats();
    tauri::async_runtime::spawn(async move {
        loop {
            let latest = stats.borrow_and_update().clone();
            if on_stats.send(latest).is_err() || stats.changed().await.is_err() {
                return;
            }
        }
    });
    Ok(())
}

#[tauri::command]
pub async fn voicemails(state: State<'_, AppState>) -> Result<Vec<VoicemailEntry>, AppError> {
    Ok(state.phone().await?.voicemails().await?)
}

/// Plays a voicemail message on the chosen speaker; returns its length in ms.
#[tauri::command]
pub async fn play_voicemail(state: State<'_, AppState>, id: u64) -> Result<u64, AppError> {
    let file = state.phone().await?.voicemail_audio(id).await?;
    let samples = decode_ogg_opus(&file).map_err(|e| AppError::Sound(e.to_string()))?;
    state.play(samples)
}

#[tauri::command]
pub fn stop_playing(state: State<'_, AppState>) {
    state.stop_playing();
}

/// One second of 440 Hz on the chosen speaker.
#[tauri::command]
pub fn test_tone(state: State<'_, AppState>) -> Result<u64, AppError> {
    let mut samples = vec![0.0; SAMPLE_RATE as usize];
    ToneSource::new(440.0, SAMPLE_RATE, 0.3).fill(&mut samples);
    state.play(samples)
}

#[tauri::command]
pub fn devices() -> Result<DeviceList, AppError> {
    callpark_client::audio::list_devices().map_err(|e| AppError::Sound(e.to_string()))
}

/// Switches devices (`null` is the system default); returns what could not be opened.
#[tauri::command]
pub async fn choose_devices(
    state: State<'_, AppState>,
    microphone: Option<String>,
    speaker: Option<String>,
) -> Result<Vec<String>, AppError> {
    state.choose_devices(microphone, speaker).await
}

#[tauri::command]
pub fn copy_text<R: Runtime>(app: AppHandle<R>, text: String) -> Result<(), AppError> {
    app.clipboard().write_text(text).map_err(|e| AppError::Clipboard(e.to_string()))
}

/// Copies the `callpark://pickup/<code>` link that picks up the call parked under
/// `code`, for sharing.
#[tauri::command]
pub fn copy_pickup_link<R: Runtime>(app: AppHandle<R>, code: u16) -> Result<(), AppError> {
    copy_text(app, callpark_client::pickup_link(code))
}
