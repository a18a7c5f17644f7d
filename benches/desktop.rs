//! The desktop app's start-up and memory, on a private Xvfb display (Linux):
//!
//! - time to interactive: from spawning the app binary to the UI's first screen
//!   (the app logs "interactive" when the UI says so), `RUNS` times (default 10);
//! - idle memory: the whole process tree (the app and its WebKit web and network
//!   processes), PSS from /proc/<pid>/smaps_rollup, signed in to a real service
//!   through the UI (WebDriver) and left idle for `IDLE_SECONDS` (default 5), three
//!   times; each time beside a minimal Tauri app of the same Tauri build (one window,
//!   one static page: this binary run with `--minimal-shell`) measured the same way,
//!   and the ratio of the two;
//! - idle CPU: the process tree's CPU time while signed in and idle (no call, so no
//!   sound device open) over `IDLE_CPU_SECONDS` (default 60), as a share of a core.
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
#[path = "../tests/ui/page.rs"]
#[allow(dead_code)]
mod page;
#[cfg(target_os = "linux")]
#[path = "../tests/ui/parties.rs"]
#[allow(dead_code)]
mod parties;
#[cfg(target_os = "linux")]
#[path = "common/proc_stats.rs"]
mod proc_stats;
#[cfg(target_os = "linux")]
#[path = "../tests/ui/support.rs"]
#[allow(dead_code)]
mod support;

#[cfg(target_os = "linux")]
mod linux {
    use super::proc_stats::{cpu_time, env_number, median, process_tree, pss_mib};
    use super::{parties, support};

    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// Far beyond the 1 s target: a start that takes longer is a failure.
    const STARTUP_LIMIT: Duration = Duration::from_secs(30);

    fn start_xvfb() -> (support::ChildGuard, String) {
        let mut command = Command::new("Xvfb");
        command.args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"]);
        let (guard, number) = support::start_reporting("Xvfb", &mut command);
        (guard, format!(":{number}"))
    }

    /// Spawns the app and waits for its "interactive" log line: (wall ms, in-app ms).
    /// A program started on `display` in a private session bus and home of its own
    /// (in its own process group): its guard, its pid, and the lines it writes to
    /// standard error (`log_on_stderr`) or standard output, as they come.
    struct InSession {
        _guard: support::ChildGuard,
        _home: tempfile::TempDir,
        pid: u32,
        lines: std::sync::mpsc::Receiver<String>,
    }

    fn start_in_session(
        name: &'static str,
        display: &str,
        program: &std::path::Path,
        args: &[&str],
        log_on_stderr: bool,
    ) -> InSession {
        let home = tempfile::tempdir().unwrap();
        let mut command = Command::new("dbus-run-session");
        command
            .arg(format!("--config-file={}", support::private_bus_config(home.path()).display()))
            .arg("--")
            .arg(program)
            .args(args)
            .env("DISPLAY", display)
            .env("RUST_LOG", "callpark_desktop=info")
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_CACHE_HOME", home.path().join("cache"));
        if log_on_stderr {
            command.stdout(Stdio::null()).stderr(Stdio::piped());
        } else {
            command.stdout(Stdio::piped()).stderr(Stdio::null());
        }
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn().expect(name);
        let output: Box<dyn std::io::Read + Send> = if log_on_stderr {
            Box::new(child.stderr.take().unwrap())
        } else {
            Box::new(child.stdout.take().unwrap())
        };
        let pid = child.id();
        let guard = support::ChildGuard::new(name, child, true);
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(output).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        InSession { _guard: guard, _home: home, pid, lines }
    }

    fn time_to_interactive(display: &str) -> (f64, f64) {
        let started = Instant::now();
        let app = start_in_session("callpark-desktop", display, &support::app_binary(), &[], true);
        let received = &app.lines;
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

    fn print_tree(tree: &[u32]) {
        for pid in tree {
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            println!("  {pid} {}: {:.1} MiB", name.trim(), pss_mib(&[*pid]));
        }
    }

    /// Signed in through the UI and idle for `idle`: the tree's PSS, and its share of
    /// a core over `cpu_window` after that (none measured when zero).
    async fn signed_in_idle(idle: Duration, cpu_window: Duration) -> (f64, Option<f64>) {
        let service = parties::Service::start().await;
        let app = support::Desktop::launch("bench-memory").await;
        app.sign_in(&service.address, "bob").await.expect("signed in");
        tokio::time::sleep(idle).await;
        let tree = process_tree(app_pid());
        let pss = pss_mib(&tree);
        print_tree(&tree);
        let mut cpu = None;
        if !cpu_window.is_zero() {
            let before: Vec<Duration> = tree.iter().map(|pid| cpu_time(&[*pid])).collect();
            tokio::time::sleep(cpu_window).await;
            let share = |used: Duration| 100.0 * used.as_secs_f64() / cpu_window.as_secs_f64();
            let mut total = Duration::ZERO;
            for (pid, before) in tree.iter().zip(before) {
                let used = cpu_time(&[*pid]).saturating_sub(before);
                total += used;
                let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                println!("  {pid} {}: {:.3} % of a core", name.trim(), share(used));
            }
            // Processes started during the window count whole.
            for pid in process_tree(app_pid()).iter().filter(|pid| !tree.contains(pid)) {
                total += cpu_time(&[*pid]);
            }
            cpu = Some(share(total));
        }
        app.run(async |_| Ok(())).await;
        (pss, cpu)
    }

    /// The minimal Tauri app (this binary with `--minimal-shell`), idle for `idle`
    /// after its page loaded: its tree's PSS.
    fn minimal_shell_idle_pss(display: &str, idle: Duration) -> f64 {
        let own = std::env::current_exe().unwrap();
        let app = start_in_session("minimal-shell", display, &own, &["--minimal-shell"], false);
        let root = app.pid;
        // It prints its pid once the page has loaded.
        let loaded = app.lines.recv_timeout(STARTUP_LIMIT).expect("the minimal app's page loads");
        assert!(loaded.starts_with("loaded"), "{loaded}");
        std::thread::sleep(idle);
        let tree = process_tree(root);
        print_tree(&tree);
        pss_mib(&tree)
    }

    /// One window, one static page: what any Tauri app of this build costs.
    pub fn minimal_shell() {
        const PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\">\
            <title>Minimal</title></head><body><p>A minimal Tauri app.</p></body></html>";
        let mut context = tauri::generate_context!();
        context.config_mut().app.windows.clear();
        tauri::Builder::default()
            .register_uri_scheme_protocol("minimal", |_, _| {
                tauri::http::Response::builder()
                    .header("Content-Type", "text/html")
                    .body(PAGE.as_bytes().to_vec())
                    .unwrap()
            })
            .setup(|app| {
                let url = tauri::WebviewUrl::CustomProtocol("minimal://localhost/".parse()?);
                tauri::WebviewWindowBuilder::new(app, "main", url)
                    .title("Minimal")
                    .on_page_load(|_, payload| {
                        if payload.event() == tauri::webview::PageLoadEvent::Finished {
                            println!("loaded {}", std::process::id());
                        }
                    })
                    .build()?;
                Ok(())
            })
            .run(context)
            .expect("the minimal app runs");
    }

    pub fn main() {
        if std::env::args().any(|arg| arg == "--list") {
            return;
        }
        if std::env::args().any(|arg| arg == "--minimal-shell") {
            minimal_shell();
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
        let (mut memory, mut minimal, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..3 {
            let baseline = minimal_shell_idle_pss(&display, idle);
            println!("minimal Tauri app, idle: {baseline:.1} MiB PSS");
            let (pss, _) = runtime.block_on(signed_in_idle(idle, Duration::ZERO));
            println!("idle, signed in: {pss:.1} MiB PSS ({:.2} × the minimal app)", pss / baseline);
            memory.push(pss);
            minimal.push(baseline);
            ratios.push(pss / baseline);
        }
        println!(
            "idle memory (PSS, process tree), median of 3: {:.1} MiB; minimal Tauri app {:.1} MiB; \
             ratio {:.2}",
            median(&mut memory),
            median(&mut minimal),
            median(&mut ratios)
        );
        let cpu_window = Duration::from_secs(env_number("IDLE_CPU_SECONDS", 60));
        if !cpu_window.is_zero() {
            let (_, cpu) = runtime.block_on(signed_in_idle(idle, cpu_window));
            println!(
                "idle CPU, signed in, no call, over {} s: {:.2} % of a core (process tree)",
                cpu_window.as_secs(),
                cpu.unwrap_or(f64::NAN)
            );
        }
    }
}

fn main() {
    #[cfg(target_os = "linux")]
    linux::main();
    #[cfg(not(target_os = "linux"))]
    println!("the desktop benchmark runs on Linux (Xvfb, /proc)");
}
