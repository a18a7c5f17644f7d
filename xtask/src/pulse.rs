//! A private PulseAudio daemon for tests and benchmarks that use real sound devices:
//! its own runtime folder and socket (no D-Bus, no session), stopped by its PID when
//! dropped. Tests create their own null sinks on it with `pactl`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Result, stop_gracefully};

const READY_WITHIN: Duration = Duration::from_secs(10);

pub struct PrivatePulse {
    daemon: Child,
    runtime: PathBuf,
    socket: PathBuf,
}

impl PrivatePulse {
    /// Starts the daemon with its files under `dir` and waits until it answers.
    pub fn start(dir: &Path) -> Result<PrivatePulse> {
        let runtime = dir.join("runtime");
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(&runtime)
            .map_err(|error| format!("cannot create {}: {error}", runtime.display()))?;
        restrict_to_owner(&runtime)?;
        let socket = runtime.join("native");
        let daemon = Command::new("pulseaudio")
            .args(["-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit"])
            .args(["--use-pid-file=no", "--system=no"])
            .arg(format!("--log-target=file:{}", dir.join("pulse.log").display()))
            .arg(format!(
                "--load=module-native-protocol-unix socket={} auth-anonymous=1",
                socket.display()
            ))
            .arg("--load=module-null-sink sink_name=callpark_default rate=48000 channels=1")
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("HOME", dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| {
                format!("cannot start pulseaudio (apt package pulseaudio): {error}")
            })?;
        let mut pulse = PrivatePulse { daemon, runtime, socket };
        pulse.wait_ready(dir)?;
        Ok(pulse)
    }

    /// The environment that points PulseAudio clients (cpal, pactl) at this daemon.
    pub fn env(&self) -> [(&'static str, String); 2] {
        [
            ("PULSE_SERVER", format!("unix:{}", self.socket.display())),
            ("XDG_RUNTIME_DIR", self.runtime.display().to_string()),
        ]
    }

    fn wait_ready(&mut self, dir: &Path) -> Result {
        let started = Instant::now();
        while started.elapsed() < READY_WITHIN {
            if let Ok(Some(status)) = self.daemon.try_wait() {
                return Err(format!(
                    "pulseaudio exited ({status}); see {}",
                    dir.join("pulse.log").display()
                ));
            }
            let answered = Command::new("pactl")
                .arg("info")
                .envs(self.env())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            if answered {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("pulseaudio did not answer within {} s", READY_WITHIN.as_secs()))
    }
}

impl Drop for PrivatePulse {
    fn drop(&mut self) {
        stop_gracefully(&mut self.daemon);
    }
}

#[cfg(unix)]
fn restrict_to_owner(dir: &Path) -> Result {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|error| format!("cannot restrict {}: {error}", dir.display()))
}

#[cfg(not(unix))]
fn restrict_to_owner(_dir: &Path) -> Result {
    Ok(())
}
