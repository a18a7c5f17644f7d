//! The Callpark desktop app: windows and desktop integration around the client
//! engine. Commands only forward to the engine; the UI renders what it is told.

mod commands;
mod deep_link;
mod error;
mod notify;
mod session;
mod settings;

use tauri::Manager;
use tauri_plugin_deep_link::DeepLinkExt;

pub use error::AppError;

static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Marks the process start, for the time-to-interactive the UI reports.
pub fn note_start() {
    STARTED.get_or_init(std::time::Instant::now);
}

/// The UI has rendered its first screen: logged with the time since start (the
/// start-up benchmark reads it).
#[tauri::command]
fn ui_ready() {
    let since_start_ms = STARTED.get().map(|started| started.elapsed().as_secs_f64() * 1e3);
    tracing::info!(since_start_ms, "interactive");
}

/// Builds and runs the app on any Tauri runtime (the real one, or the mock one in tests).
pub fn run_app<R: tauri::Runtime>(builder: tauri::Builder<R>) -> Result<(), AppError> {
    builder
        // First, so that a second launch (a pickup link clicked) hands over and exits.
        .plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            deep_link::open(app, args.into_iter().skip(1));
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .manage(deep_link::PendingPickup::default())
        .setup(|app| {
            let config_dir = app.path().app_config_dir()?;
            app.manage(session::AppState::new(settings::SettingsFile::in_dir(&config_dir)));
            set_up_links(app.handle());
            #[cfg(target_os = "linux")]
            if let Some(window) = app.get_webview_window("main") {
                lighten_web_view(&window);
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::saved_settings,
            commands::sign_in,
            commands::sign_out,
            commands::current_view,
            commands::dial,
            commands::answer,
            commands::decline,
            commands::hang_up,
            commands::park,
            commands::retrieve,
            commands::acknowledge_park_ended,
            commands::set_muted,
            commands::watch_stats,
            commands::voicemails,
            commands::play_voicemail,
            commands::stop_playing,
            commands::test_tone,
            commands::devices,
            commands::choose_devices,
            commands::copy_text,
            commands::copy_pickup_link,
            deep_link::take_pickup_link,
            deep_link::pickup_code_in,
            ui_ready,
        ])
        .run(tauri::generate_context!())
        .map_err(AppError::Tauri)
}

/// WebKitGTK's GPU compositing costs its web process ~80 MiB (docs/benchmarks.md)
/// and buys nothing for a page of text, lists and buttons; nor do the caches of a
/// browser (one page, never navigated away from).
#[cfg(target_os = "linux")]
fn lighten_web_view<R: tauri::Runtime>(window: &tauri::WebviewWindow<R>) {
    let changed = window.with_webview(|webview| {
        use webkit2gtk::{
            CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt,
        };
        let view = webview.inner();
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
        if let Some(context) = view.context() {
            context.set_cache_model(CacheModel::DocumentViewer);
        }
    });
    if let Err(error) = changed {
        tracing::warn!(%error, "cannot set up the web view for low memory");
    }
}

/// Whether this copy came from the Linux packages (`/usr/bin`), whose desktop entry
/// already registers the links.
#[cfg(target_os = "linux")]
fn installed_by_package() -> bool {
    std::env::current_exe().is_ok_and(|exe| exe.starts_with("/usr/"))
}

/// Registers `callpark://` (installers do it on macOS, and the Linux packages through
/// their desktop entry; a portable or development copy registers itself, off the
/// start-up path) and takes the link the app was started with, if any.
fn set_up_links<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    #[cfg(target_os = "linux")]
    let register = !installed_by_package();
    #[cfg(windows)]
    let register = true;
    #[cfg(any(target_os = "linux", windows))]
    if register {
        let handle = app.clone();
        tauri::async_runtime::spawn_blocking(move || {
            if let Err(error) = handle.deep_link().register_all() {
                tracing::info!(%error, "cannot register callpark:// links");
            }
        });
    }
    if let Ok(Some(links)) = app.deep_link().get_current() {
        deep_link::open(app, links.into_iter().map(String::from));
    }
    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        deep_link::open(&handle, event.urls().into_iter().map(String::from));
    });
}
