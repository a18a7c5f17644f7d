//! Starting the real desktop app under WebDriver: a private Xvfb display, a
//! tauri-driver on free ports, and a session on the freshly built app binary.
//! Every process started here is stopped by PID when the [`Desktop`] is dropped.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use serde_json::json;
use thirtyfour::prelude::*;

use crate::desktop_bus::{Notifications, SessionBus};
use crate::framebuffer::{Area, Screen};
pub use crate::page::{POLL, Page, UI_TIMEOUT};

impl std::ops::Deref for Desktop {
    type Target = Page;

    fn deref(&self) -> &Page {
        &self.page
    }
}

/// A child process that is killed (and reaped) when dropped; with `group`, its whole
/// process group, because tauri-driver does not stop the WebKitWebDriver it starts.
pub struct ChildGuard {
    name: &'static str,
    child: Child,
    group: bool,
}

impl ChildGuard {
    pub fn new(name: &'static str, child: Child, group: bool) -> Self {
        Self { name, child, group }
    }

    #[allow(dead_code)] // the web app's benchmark reads its processes
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let pid = self.child.id();
        #[cfg(unix)]
        if self.group {
            // The group was made with `process_group(0)`, so its id is the child's pid.
            let killed = Command::new("kill").args(["-KILL", "--", &format!("-{pid}")]).status();
            if !killed.is_ok_and(|status| status.success()) {
                eprintln!("stopping {}'s process group {pid} failed", self.name);
            }
        }
        if let Err(error) = self.child.kill()
            && !self.group
        {
            eprintln!("stopping {} (pid {pid}): {error}", self.name);
        }
        let _ = self.child.wait();
    }
}

/// Where the app runs: a private display, a private session bus (with the
/// notification recorder) and private config, data and cache directories in `home`.
pub struct Surroundings {
    /// The native notifications the app raised.
    pub notifications: Notifications,
    /// The X display, as `DISPLAY` names it.
    pub display: String,
    /// Where Xvfb keeps its screen (for screenshots).
    fbdir: PathBuf,
    /// What the app runs with: its display, bus and private directories.
    app_env: Vec<(&'static str, String)>,
    // Dropped in this order: the display, then the session bus.
    _xvfb: ChildGuard,
    _bus: SessionBus,
}

impl Surroundings {
    pub async fn prepare(home: &Path) -> Surroundings {
        let fbdir = home.join("screen");
        let (xvfb, display) = start_xvfb(&fbdir);
        let bus = SessionBus::start(home);
        let notifications = Notifications::serve(&bus).await;
        let directory = |name: &str| home.join(name).display().to_string();
        let app_env = vec![
            ("DISPLAY", display.clone()),
            ("DBUS_SESSION_BUS_ADDRESS", bus.address.clone()),
            ("XDG_CONFIG_HOME", directory("config")),
            ("XDG_DATA_HOME", directory("data")),
            ("XDG_CACHE_HOME", directory("cache")),
        ];
        Surroundings { notifications, display, fbdir, app_env, _xvfb: xvfb, _bus: bus }
    }

    /// The app itself, without WebDriver (what a person starts from the menu).
    pub fn start_app(&self, args: &[&str]) -> tokio::process::Child {
        tokio::process::Command::new(app_binary())
            .args(args)
            .envs(self.app_env.iter().map(|(name, value)| (name, value)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the app binary")
    }
}

/// Waits up to [`UI_TIMEOUT`] for a started app to exit; kills it if it does not.
pub async fn wait_for_exit(mut app: tokio::process::Child, what: &str) -> std::process::ExitStatus {
    match tokio::time::timeout(UI_TIMEOUT, app.wait()).await {
        Ok(status) => status.expect("waiting for the app"),
        Err(_) => {
            let _ = app.kill().await;
            panic!("{what}: the app was still running after {UI_TIMEOUT:?}");
        }
    }
}

/// The app under test, with the processes that host it.
pub struct Desktop {
    /// The app's web view, by `data-testid` (shared with the web app's suite).
    pub page: Page,
    test_name: String,
    // Dropped after `driver`, in this order: tauri-driver, then the display and the
    // session bus, then the app's private config and data directories.
    _tauri_driver: ChildGuard,
    pub place: Surroundings,
    owned_home: Option<tempfile::TempDir>,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("no free port on 127.0.0.1")
}

pub fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + UI_TIMEOUT;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen on port {port}");
        std::thread::sleep(POLL);
    }
}

/// A session bus configuration that starts no services on demand. With the standard
/// one, WebKit's first D-Bus call activates xdg-desktop-portal, whose document
/// portal mounts a FUSE file system under `XDG_RUNTIME_DIR` that outlives the test.
/// The app needs the bus only for its own single-instance name.
pub fn private_bus_config(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("session-bus.conf");
    let config = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;
    std::fs::write(&path, config).expect("writing the session bus configuration");
    path
}

/// A private X display: `Xvfb -displayfd 1` prints the display number it picked;
/// it keeps its screen in a file in `fbdir`.
fn start_xvfb(fbdir: &Path) -> (ChildGuard, String) {
    std::fs::create_dir_all(fbdir).expect("a directory for the X screen");
    let mut command = Command::new("Xvfb");
    command.args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"]);
    let (guard, number) = start_reporting("Xvfb", command.arg("-fbdir").arg(fbdir));
    (guard, format!(":{number}"))
}

/// Starts a daemon that says where to reach it on its first line of output (Xvfb
/// its display number, dbus-daemon its address); stopped by PID when the guard drops.
pub fn start_reporting(name: &'static str, command: &mut Command) -> (ChildGuard, String) {
    let mut child =
        command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap_or_else(|error| {
            panic!(
                "{name} did not start ({error}): run the README's test command, which installs it"
            )
        });
    let stdout = child.stdout.take().expect("a piped stdout");
    let guard = ChildGuard::new(name, child, false);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap_or_else(|error| panic!("reading where {name} is: {error}"));
    let line = line.trim().to_owned();
    assert!(!line.is_empty(), "{name} did not say where it is");
    (guard, line)
}

/// The app binary cargo built for these tests, or the one named by
/// `CALLPARK_APP_BINARY` (the benchmark measures the shipped release build).
pub fn app_binary() -> PathBuf {
    std::env::var_os("CALLPARK_APP_BINARY")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_callpark-desktop")), PathBuf::from)
}

impl Desktop {
    /// Opens the app on its own display and connects a WebDriver session to it.
    pub async fn launch(test_name: &str) -> Desktop {
        Self::launch_with_args(test_name, &[]).await
    }

    /// Opens the app with command-line arguments (a `callpark://` link, say). The
    /// app gets its own config and data directories, and its own session bus (so
    /// the single-instance check sees only this test's app) with a notification
    /// service that records what the app shows.
    pub async fn launch_with_args(test_name: &str, args: &[&str]) -> Desktop {
        let home = tempfile::tempdir().expect("a private directory for the app");
        let mut desktop = Self::launch_at(home.path(), test_name, args).await;
        desktop.owned_home = Some(home);
        desktop
    }

    /// Opens the app with its config and data directories in `home`, which outlives
    /// it (to start the app again where it left off).
    pub async fn launch_at(home: &Path, test_name: &str, args: &[&str]) -> Desktop {
        let place = Surroundings::prepare(home).await;
        let port = free_port();
        let native_port = free_port();
        let mut command = Command::new("tauri-driver");
        command
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .envs(place.app_env.iter().map(|(name, value)| (name, value)))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().expect(
            "tauri-driver is not installed: run the README's test command, which installs it",
        );
        let tauri_driver = ChildGuard::new("tauri-driver", child, cfg!(unix));
        // tauri-driver listens before WebKitWebDriver does: wait for both.
        wait_for_port(port, "tauri-driver");
        wait_for_port(native_port, "WebKitWebDriver");

        let mut capabilities = Capabilities::new();
        capabilities.set("browserName", "wry").expect("capability");
        capabilities
            .set("tauri:options", json!({ "application": app_binary(), "args": args }))
            .expect("capability");
        let driver = WebDriver::new(format!("http://127.0.0.1:{port}"), capabilities)
            .await
            .expect("WebDriver session with the desktop app");
        Desktop {
            page: Page { driver },
            test_name: test_name.to_owned(),
            _tauri_driver: tauri_driver,
            place,
            owned_home: None,
        }
    }

    /// Starts a second copy of the app the way a desktop would for a clicked link,
    /// and returns how it exited (it should hand its arguments to the running app
    /// and exit); killed if it is still running after [`UI_TIMEOUT`].
    pub async fn start_second_copy(&self, args: &[&str]) -> std::process::ExitStatus {
        wait_for_exit(self.place.start_app(args), "the second copy").await
    }

    /// Signs in through the sign-in screen and waits for the home screen.
    pub async fn sign_in(&self, server: &str, login: &str) -> WebDriverResult<()> {
        self.type_into("sign-in-server", server).await?;
        self.type_into("sign-in-login", login).await?;
        self.type_into("sign-in-password", &format!("{login}-demo")).await?;
        self.click("sign-in-submit").await?;
        self.wait_for_text("connection-status", "Online").await?;
        Ok(())
    }

    /// Saves a screenshot under `target/ui-screenshots/<test>-<label>.png`.
    pub async fn screenshot(&self, label: &str) -> PathBuf {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/ui-screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot directory");
        let path = dir.join(format!("{}-{label}.png", self.test_name));
        self.painted().await;
        // The app's window (no window manager: no frame), else the whole screen.
        let area = match self.driver.get_window_rect().await {
            Ok(rect) => Area {
                x: u32::try_from(rect.x).unwrap_or(0),
                y: u32::try_from(rect.y).unwrap_or(0),
                width: u32::try_from(rect.width).unwrap_or(u32::MAX),
                height: u32::try_from(rect.height).unwrap_or(u32::MAX),
            },
            Err(_) => Area { x: 0, y: 0, width: u32::MAX, height: u32::MAX },
        };
        if let Err(error) = Screen::read(&self.place.fbdir).and_then(|s| s.save_png(area, &path)) {
            eprintln!("could not save screenshot {}: {error}", path.display());
        }
        path
    }

    /// Runs a scenario; on failure saves a screenshot and fails the test with it.
    pub async fn run(self, scenario: impl AsyncFnOnce(&Desktop) -> WebDriverResult<()>) {
        let failure = match scenario(&self).await {
            Ok(()) => None,
            Err(error) => Some((error, self.screenshot("failure").await)),
        };
        self.close_after(&self.test_name, failure).await;
    }
}
