//! The app's private session bus, and on it the desktop's notification service as
//! a recorder: the test's stand-in for the notification daemon of a real desktop,
//! so a test can see which native notifications the app raised.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use thirtyfour::error::{WebDriverError, WebDriverResult};

use crate::support::{ChildGuard, POLL, UI_TIMEOUT, private_bus_config, start_reporting};

/// A notification as the app asked the desktop to show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub title: String,
    pub body: String,
}

/// A `dbus-daemon` of the test's own, stopped by PID when dropped.
pub struct SessionBus {
    pub address: String,
    _daemon: ChildGuard,
}

impl SessionBus {
    pub fn start(dir: &Path) -> SessionBus {
        let mut command = Command::new("dbus-daemon");
        command.arg(format!("--config-file={}", private_bus_config(dir).display()));
        let (daemon, address) =
            start_reporting("dbus-daemon", command.args(["--nofork", "--print-address=1"]));
        SessionBus { address, _daemon: daemon }
    }
}

/// Owns `org.freedesktop.Notifications` on the bus and keeps what it is asked to show.
pub struct Notifications {
    shown: Arc<Mutex<Vec<Shown>>>,
    _connection: zbus::Connection,
}

struct Recorder {
    shown: Arc<Mutex<Vec<Shown>>>,
    next_id: u32,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Recorder {
    #[allow(clippy::too_many_arguments)] // the method's signature is the specification's
    fn notify(
        &mut self,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, zbus::OwnedVariant>,
        _expire_timeout: i32,
    ) -> u32 {
        self.shown.lock().expect("notifications lock").push(Shown { title: summary, body });
        self.next_id += 1;
        self.next_id
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        ("callpark-ui-tests".into(), "callpark".into(), "1".into(), "1.2".into())
    }

    fn close_notification(&self, _id: u32) {}
}

impl Notifications {
    pub async fn serve(bus: &SessionBus) -> Notifications {
        let shown = Arc::new(Mutex::new(Vec::new()));
        let recorder = Recorder { shown: shown.clone(), next_id: 0 };
        let connection = zbus::connection::Builder::address(bus.address.as_str())
            .name("org.freedesktop.Notifications")
            .serve_at("/org/freedesktop/Notifications", recorder)
            .build()
            .await
            .expect("the notification service on the private bus");
        Notifications { shown, _connection: connection }
    }

    /// Waits for a notification whose title contains `title`.
    pub async fn wait_for(&self, title: &str) -> WebDriverResult<Shown> {
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            let shown = self.shown.lock().expect("notifications lock").clone();
            if let Some(found) = shown.iter().find(|n| n.title.contains(title)) {
                return Ok(found.clone());
            }
            if Instant::now() > deadline {
                return Err(WebDriverError::Timeout(format!(
                    "no notification titled \"{title}\"; shown: {shown:?}"
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }
}
