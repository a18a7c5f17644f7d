//! `callpark://pickup/<code>` links: they open the pickup dialog for that code, in
//! the running app (a second launch hands its link over and exits).

use callpark_client::code_in_pickup_link;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime};
/// The UI's event carrying a code from a link.
pub const PICKUP_EVENT: &str = "pickup-link";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PickupLink {
    /// As written in the link; the pickup dialog and the service check it.
    pub code: String,
}

/// The pickup a link asks for, if it is one.
pub fn pickup_from(link: &str) -> Option<PickupLink> {
    code_in_pickup_link(link).map(|code| PickupLink { code: code.to_owned() })
}

/// Brings the window forward and hands the links' pickups to the UI.
pub fn open<R: Runtime>(app: &AppHandle<R>, links: impl IntoIterator<Item = String>) {
    for link in links {
        let Some(pickup) = pickup_from(&link) else {
            tracing::info!(%link, "not a pickup link; ignored");
            continue;
        };
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.unminimize();
            let _ = window.set_focus();
        }
        remember(app, pickup.clone());
        if let Err(error) = app.emit(PICKUP_EVENT, pickup) {
            tracing::warn!(%error, "cannot hand the pickup link to the window");
        }
    }
}

/// The last link's pickup, for a UI that was not listening yet (a cold start).
#[derive(Debug, Default)]
pub struct PendingPickup(pub std::sync::Mutex<Option<PickupLink>>);

fn remember<R: Runtime>(app: &AppHandle<R>, pickup: PickupLink) {
    if let Ok(mut pending) = app.state::<PendingPickup>().0.lock() {
        *pending = Some(pickup);
    }
}

#[tauri::command]
pub fn take_pickup_link(pending: tauri::State<'_, PendingPickup>) -> Option<PickupLink> {
    pending.0.lock().ok().and_then(|mut pending| pending.take())
}

/// The code in a pickup link pasted into the pickup dialog, if the text is one.
#[tauri::command]
pub fn pickup_code_in(text: String) -> Option<String> {
    code_in_pickup_link(&text).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pickup_link_becomes_the_code_the_ui_gets_and_other_links_nothing() {
        assert_eq!(pickup_from("callpark://pickup/42"), Some(PickupLink { code: "42".into() }));
        assert_eq!(pickup_from("callpark://call/42"), None);
    }
}
