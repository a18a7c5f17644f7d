//! Native notifications for what needs the user while the window may be hidden:
//! an incoming call, a parked call ringing back, a parked call that reached nobody
//! (lost, hung up, sent to voicemail), a new voicemail message.

use std::sync::Arc;

use callpark_client::words::{ended_park_in_words, ended_park_needs_attention};
use callpark_client::{Notice, Softphone};
use callpark_wire::Event;
use tauri::{AppHandle, Runtime};
use tauri_plugin_notification::NotificationExt;

/// The notification for an event, if it gets one: (title, body).
pub fn notification_for(event: &Event) -> Option<(String, String)> {
    match event {
        Event::IncomingCall { from, forwarded_by, .. } => Some((
            format!("Call from {}", from.name),
            match forwarded_by {
                Some(by) => format!("Forwarded by {}. Open Callpark to answer.", by.name),
                None => "Open Callpark to answer.".into(),
            },
        )),
        Event::Ringback { code, caller, .. } => Some((
            format!("{} is still waiting", caller.name),
            format!("Nobody picked up code {code}. Answer to take the call back."),
        )),
        Event::ParkEnded(ended) if ended_park_needs_attention(ended) => {
            Some(("Parked call ended".into(), ended_park_in_words(ended)))
        }
        Event::VoicemailLeft { voicemail } => Some((
            "New voicemail".into(),
            format!(
                "{} left a {} s message.",
                voicemail.caller_name.as_deref().unwrap_or("Someone"),
                voicemail.duration_ms.div_ceil(1000)
            ),
        )),
        _ => None,
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use callpark_wire::UserRef;

    #[test]
    fn ringback_names_the_caller_and_the_code() {
        let event =
            Event::Ringback { call: 1, code: 42, caller: UserRef { id: 4, name: "Dave".into() } };
        let (title, body) = notification_for(&event).unwrap();
        assert_eq!(title, "Dave is still waiting");
        assert!(body.contains("code 42"), "{body}");
        assert_eq!(notification_for(&Event::OnHold { call: 1 }), None);
    }

    #[test]
    fn a_lost_park_is_notified_and_a_picked_up_one_is_not() {
        let dave = UserRef { id: 4, name: "Dave".into() };
        let ended = |outcome, by| {
            Event::ParkEnded(callpark_wire::EndedPark {
                call: 1,
                code: 12,
                outcome,
                by,
                caller: dave.clone(),
                ended_at_ms: 0,
            })
        };
        let (_, body) = notification_for(&ended(callpark_wire::ParkOutcome::Lost, None)).unwrap();
        assert_eq!(body, "Dave's call (code 12) was lost when the service restarted.");
        let carol = Some(UserRef { id: 3, name: "Carol".into() });
        assert_eq!(notification_for(&ended(callpark_wire::ParkOutcome::Retrieved, carol)), None);
    }
}
