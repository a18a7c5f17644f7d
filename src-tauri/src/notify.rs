//! Native notifications for what needs the user while the window may be hidden:
//! an incoming call, a parked call ringing back, a parked call that reached nobody
//! (lost, hung up, sent to voicemail), a new voicemail message.

use std::sync::Arc;

pub use callpark_client::words::notification_for;
use callpark_client::{Notice, Softphone};
use tauri::{AppHandle, Runtime};
use tauri_plugin_notification::NotificationExt;

pub async fn raise_notifications<R: Runtime>(app: AppHandle<R>, phone: Arc<Softphone>) {
    let mut events = phone.engine().events();
    loop {
        match events.recv().await {
            Ok(Notice::Event(event)) => {
                if let Some((title, body)) = notification_for(&event) {
                    show(&app, title, body);
                }
            }
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "notifications fell behind");
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Shows a notification off the async runtime: the desktop's notification service
/// may be slow or absent (the app's own view shows the same thing).
fn show<R: Runtime>(app: &AppHandle<R>, title: String, body: String) {
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        if let Err(error) = app.notification().builder().title(&title).body(&body).show() {
            tracing::info!(%error, %title, "no native notification");
        }
    });
}
