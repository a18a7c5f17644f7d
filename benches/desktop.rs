//! The desktop app's start-up and memory, on a private Xvfb display (Linux):
//!
//! - time to interactive: from spawning the app binary to the UI's first screen
//!   (the app logs "interactive" when the UI says so), `RUNS` times (default 10);
//! - idle memory: the whole process tree (the app and its WebKit web and network
//!   processes), PSS from /proc/<pid>/smaps_rollup, signed in to a real service
//!   through the UI (WebDriver) and left idle for `IDLE_SECONDS` (default 5), three
//!   times.
//!
//! `CALLPARK_APP_BINARY=target/release/callpark-desktop cargo xtask pulse -- cargo
//! bench --profile dev --bench desktop` measures the shipped build (made by `npx
//! --prefix ui tauri build`); without the variable, the bench profile's own build.
//! The private PulseAudio daemon gives the app sound devices once signed in. Prints
//! medians.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is the failure report

#[cfg(target_os = "linux")]
#[path = "../tests/ui/desktop_bus.rs"]
#[allow(dead_code)]
mod desktop_bus;
#[cfg(target_os = "linux")]
#[path = "../tests/ui/framebuffer.rs"]
#[allow(dead_code)]
mod framebuffer;
#[cfg(target_os = "linux")]
#[path = "../tests/ui/parties.rs"]
#[allow(dead_code)]
mod parties;
#[cfg(target_os = "linux")]
#[path = "../tests/ui/support.rs"]
#[allow(dead_code)]
mod support;

#[cfg(target_os = "linux")]
mod linux {
    use super::{parties, support};

    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// Far beyond the 1 s target: a start that takes longer is a failure.
    const STARTUP_LIMIT: Duration = Duration::from_secs(30);

    fn env_number(name: &str, default: u64) -> u64 {
        std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
    }

    fn median(values: &mut [f64]) -> f64 {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    }

    /// Every process whose parent chain reaches `root`, and `root`.
    fn process_tree(root: u32) -> Vec<u32> {
        let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter_map(|pid| {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
                // The command name is in parentheses and may hold spaces: the fields
                // after the last ')' are state, then the parent's pid.
                let after = &stat[stat.rfind(')')? + 2..];
                let parent = after.split_whitespace().nth(1)?.parse().ok()?;
                Some((pid, parent))
            })
            .collect();
        let mut tree = vec![root];
        let mut index = 0;
        while index < tree.len() {
            let parent = tree[index];
            tree.extend(parents.iter().filter(|(_, p)| *p == parent).map(|(pid, _)| *pid));
            index += 1;
        }
        tree
    }

    /// Proportional set size of the processes, in MiB.
    fn pss_mib(pids: &[u32]) -> f64 {
        let kib: u64 = pids
            .iter()
            .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok())
            .filter_map(|rollup| {
                let line = rollup.lines().find(|line| line.starts_with("Pss:"))?;
                line.split_whitespace().nth(1)?.parse::<u64>().ok()
            })
            .sum();
        kib as f64 / 1024.0
    }

    fn start_xvfb() -> (support::ChildGuard, String) {
        let mut command = Command::new("Xvfb");
        command.args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"]);
        let (guard, number) = support::start_reporting("Xvfb", &mut command);
        (guard, format!(":{number}"))
    }

    /// Spawns the app and waits for its "interactive" log line: (wall ms, in-app ms).
    fn time_to_interactive(display: &str) -> (f64, f64) {
        let home = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let mut command = Command::new("dbus-run-session");
        command
            .arg(format!("--config-file={}", support::private_bus_config(home.path()).display()))
            .arg("--")
            .arg(support::app_binary())
            .env("DISPLAY", display)
            .env("RUST_LOG", "callpark_desktop=info")
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn().expect("the app");
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let _app = support::ChildGuard::new("callpark-desktop", child, true);
        let (lines, received) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    return;
                }
            }
        });
        let deadline = started + STARTUP_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match received.recv_timeout(left) {
                Ok(line) => line,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    panic!("the app was not interactive within {STARTUP_LIMIT:?}")
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("the app exited before it was interactive")
                }
            };
            if line.contains("interactive") {
                let wall = started.elapsed().as_secs_f64() * 1e3;
                let inside = line
                    .split("since_start_ms=")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|ms| ms.parse().ok())
                    .unwrap_or(f64::NAN);
                return (wall, inside);
            }
        }
    }

    fn app_pid() -> u32 {
        let binary = std::fs::canonicalize(support::app_binary()).unwrap();
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .find(|pid| {
                std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == binary)
            })
            .expect("the running app")
    }

    async fn signed_in_idle_pss(idle: Duration) -> f64 {
        let service = parties::Service::start().await;
        let app = support::Desktop::launch("bench-memory").await;
        app.sign_in(&service.address, "bob").await.expect("signed in");
        tokio::time::sleep(idle).await;
        let tree = process_tree(app_pid());
        let pss = pss_mib(&tree);
        for pid in &tree {
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            println!("  {pid} {}: {:.1} MiB", name.trim(), pss_mib(&[*pid]));
        }
        app.run(async |_| Ok(())).await;
        pss
    }

    pub fn main() {
        if std::env::args().any(|arg| arg == "--list") {
            return;
        }
        let runs = env_number("RUNS", 10);
        let idle = Duration::from_secs(env_number("IDLE_SECONDS", 5));
        let (_xvfb, display) = start_xvfb();
        let (mut walls, mut insides) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let (wall, inside) = time_to_interactive(&display);
            println!("time to interactive: {wall:.0} ms (in-app {inside:.0} ms)");
            walls.push(wall);
            insides.push(inside);
        }
        println!(
            "time to interactive, median of {runs}: {:.0} ms (in-app {:.0} ms)",
            median(&mut walls),
            median(&mut insides)
        );
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        let mut memory: Vec<f64> = (0..3)
            .map(|_| {
                let pss = runtime.block_on(signed_in_idle_pss(idle));
                println!("idle, signed in: {pss:.1} MiB PSS");
                pss
            })
            .collect();
        println!("idle memory (PSS, process tree), median of 3: {:.1} MiB", median(&mut memory));
    }
}

fn main() {
    #[cfg(target_os = "linux")]
    linux::main();
    #[cfg(not(target_os = "linux"))]
    println!("the desktop benchmark runs on Linux (Xvfb, /proc)");
}
