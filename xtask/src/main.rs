//! `cargo xtask run` and `cargo xtask test`: the README's two commands. Each installs
//! what is missing on this machine (system packages on Debian/Ubuntu, cargo tools,
//! npm packages), builds the UI, then runs the product or every check and test.
//! Both are safe to run again: installed things are detected and skipped.

use std::env;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod fuzzer;
mod pulse;

/// Debian packages the build, the app and the tests need.
const APT_PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    "cmake",
    "file",
    "libwebkit2gtk-4.1-dev",
    "librsvg2-dev",
    "libasound2-dev",
    "pulseaudio",
    "pulseaudio-utils",
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    // dbus-run-session: each UI test's app gets its own session bus.
    "dbus-daemon",
    // A copy of the app that is not installed registers callpark:// links with these.
    "xdg-utils",
    "desktop-file-utils",
    // The admin API's fuzz test runs schemathesis in a virtual environment.
    "python3",
    "python3-venv",
];

/// Cargo-installed tools: (binary, crate, version requirement).
const CARGO_TOOLS_FOR_TESTS: &[(&str, &str, &str)] =
    &[("tauri-driver", "tauri-driver", "^2"), ("cargo-nextest", "cargo-nextest", "^0.9")];

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("run") => run_product(&args[1..]),
        Some("test") => test_everything(&args[1..]),
        Some("setup") => setup(false),
        Some("pulse") => with_pulse(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <run|test|setup>\n  run    set up, build, start callpark-server --demo and open the desktop app\n  test   set up, then fmt, clippy and every test (nextest)\n  setup  install what is missing, build the UI\n  pulse  -- COMMAND...  run a command with a private PulseAudio daemon (real sound devices)"
            );
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn setup(for_tests: bool) -> Result {
    ensure_system_packages()?;
    if for_tests {
        for (binary, krate, version) in CARGO_TOOLS_FOR_TESTS {
            // The WebDriver UI suite runs on Linux (WebKitWebDriver under Xvfb).
            if *binary == "tauri-driver" && !cfg!(target_os = "linux") {
                continue;
            }
            ensure_cargo_tool(binary, krate, version)?;
        }
    }
    ensure_ui_built()
}

fn run_product(extra: &[String]) -> Result {
    setup(false)?;
    if cfg!(target_os = "linux")
        && env::var_os("DISPLAY").is_none()
        && env::var_os("WAYLAND_DISPLAY").is_none()
    {
        return Err(
            "no display: run this from a desktop session (or set DISPLAY, e.g. under Xvfb)".into(),
        );
    }
    let root = project_root();
    // The same packages and targets as `cargo xtask test` builds, so both resolve the
    // same features and share one build: after the tests, this only links. (Building
    // one package alone resolves fewer features and rebuilds ~150 crates.)
    step("building callpark-server and the desktop app");
    run("cargo", &["build", "--workspace", "--bins", "--tests"], &root)?;
    let target = target_dir(&root);
    let binary =
        |name: &str| target.join("debug").join(format!("{name}{}", env::consts::EXE_SUFFIX));
    let server_binary = binary("callpark-server");
    step("starting callpark-server --demo (users alice, bob, carol, dave; password <login>-demo)");
    let data_dir = target.join("demo-data");
    let mut server = Command::new(&server_binary)
        .arg("--demo")
        .arg("--data-dir")
        .arg(&data_dir)
        .current_dir(&root)
        .spawn()
        .map_err(|error| format!("could not start {}: {error}", server_binary.display()))?;
    let app = run(&binary("callpark-desktop").to_string_lossy(), extra, &root);
    // The service lives as long as the app: stop it by its PID, gracefully where
    // the platform allows, so that it commits its last writes.
    stop_gracefully(&mut server);
    let _ = server.wait();
    app
}

fn test_everything(extra: &[String]) -> Result {
    setup(true)?;
    let root = project_root();
    let target = target_dir(&root);
    std::fs::create_dir_all(&target)
        .map_err(|error| format!("cannot create {}: {error}", target.display()))?;
    let fuzzer = fuzzer::ensure_schemathesis(&target)?;
    step("cargo fmt --check");
    run("cargo", &["fmt", "--all", "--", "--check"], &root)?;
    step("cargo clippy");
    run("cargo", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"], &root)?;
    step("the client session for the browser (wasm32)");
    ensure_rust_target(WEB_TARGET)?;
    run("cargo", &["check", "-p", "callpark-session", "--target", WEB_TARGET], &root)?;
    step("tests");
    // Last, so that the test runner's summary is the last thing printed.
    let mut args = vec!["nextest", "run", "--workspace", "--no-fail-fast"];
    args.extend(extra.iter().map(String::as_str));
    let mut vars = vec![("CALLPARK_SCHEMATHESIS", fuzzer.to_string_lossy().into_owned())];
    // The sound-device tests play and record through it (stopped when dropped).
    let pulse = if cfg!(target_os = "linux") { Some(start_pulse(&root)?) } else { None };
    vars.extend(pulse.iter().flat_map(pulse::PrivatePulse::env));
    run_with_env("cargo", &args, &root, &vars)
}

fn target_dir(root: &Path) -> PathBuf {
    env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

fn start_pulse(root: &Path) -> Result<pulse::PrivatePulse> {
    step("starting a private PulseAudio daemon");
    pulse::PrivatePulse::start(&target_dir(root).join("pulse"))
}

/// `cargo xtask pulse -- COMMAND...`: the command runs with PULSE_SERVER pointing at
/// a private daemon, stopped afterwards (for benchmarks with real sound devices).
fn with_pulse(args: &[String]) -> Result {
    let command: Vec<&str> = args.iter().map(String::as_str).skip_while(|a| *a == "--").collect();
    let Some((program, rest)) = command.split_first() else {
        return Err("usage: cargo xtask pulse -- COMMAND [ARGS...]".into());
    };
    let root = project_root();
    let pulse = start_pulse(&root)?;
    run_with_env(program, rest, &root, &pulse.env())
}

fn step(what: &str) {
    eprintln!("==> {what}");
}

fn run<S: AsRef<OsStr>>(program: &str, args: &[S], dir: &Path) -> Result {
    run_with_env(program, args, dir, &[])
}

fn run_with_env<S: AsRef<OsStr>>(
    program: &str,
    args: &[S],
    dir: &Path,
    vars: &[(&str, String)],
) -> Result {
    let status = Command::new(program)
        .args(args)
        .envs(vars.iter().map(|(name, value)| (*name, value)))
        .current_dir(dir)
        .status()
        .map_err(|error| format!("could not start {program}: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        let shown: Vec<String> =
            args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect();
        Err(format!("`{program} {}` failed ({status})", shown.join(" ")))
    }
}

fn found_on_path(binary: &str) -> bool {
    let Some(path) = env::var_os("PATH") else {
        return false;
    };
    let cargo_bin = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .map(|home| home.join("bin"));
    env::split_paths(&path)
        .chain(cargo_bin)
        .any(|dir| dir.join(binary).is_file() || dir.join(format!("{binary}.exe")).is_file())
}

/// On Debian and Ubuntu, installs the missing packages with apt (as root). Elsewhere
/// it only reminds: the README lists the macOS and Windows prerequisites.
fn ensure_system_packages() -> Result {
    if !cfg!(target_os = "linux") || !found_on_path("dpkg-query") {
        eprintln!("xtask: not a Debian-like system; see the README for prerequisites");
        return Ok(());
    }
    let mut wanted: Vec<&str> = APT_PACKAGES.to_vec();
    if !found_on_path("npm") {
        wanted.extend(["nodejs", "npm"]);
    }
    let missing: Vec<&str> = wanted.into_iter().filter(|p| !apt_installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    step(&format!("installing {}", missing.join(" ")));
    let root = project_root();
    let as_root = is_root();
    // Through `env` so that apt never stops to ask (CI has no terminal).
    let apt = |args: &[&str]| {
        let mut command = vec!["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"];
        command.extend_from_slice(args);
        if as_root { run(command[0], &command[1..], &root) } else { run("sudo", &command, &root) }
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq"];
    install.extend(&missing);
    apt(&install)
}

fn apt_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("install ok installed"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// The web app's target: the client session must build for it.
const WEB_TARGET: &str = "wasm32-unknown-unknown";

/// Adds a compilation target to the active Rust toolchain (rustup) if it is missing.
fn ensure_rust_target(target: &str) -> Result {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(project_root())
        .output()
        .map_err(|error| format!("cannot run rustup: {error}"))?;
    if String::from_utf8_lossy(&installed.stdout).lines().any(|line| line.trim() == target) {
        return Ok(());
    }
    step(&format!("adding the Rust target {target}"));
    run("rustup", &["target", "add", target], &project_root())
}

fn ensure_cargo_tool(binary: &str, krate: &str, version: &str) -> Result {
    if found_on_path(binary) {
        return Ok(());
    }
    step(&format!("installing {krate}"));
    run("cargo", &["install", krate, "--version", version, "--locked"], &project_root())
}

/// Installs the UI's npm packages when node_modules is missing or older than the
/// lock file, then builds ui/dist (the app embeds it, so it must exist before cargo
/// compiles the app). `npm install` rather than `npm ci`: the npm here leaves other
/// platforms' optional packages out of the lock file and `npm ci` then refuses it,
/// while `npm install` follows the lock and leaves it unchanged.
fn ensure_ui_built() -> Result {
    let ui = project_root().join("ui");
    let lock = ui.join("package-lock.json");
    let installed = ui.join("node_modules/.package-lock.json");
    let stale = match (modified(&lock), modified(&installed)) {
        (Some(lock), Some(installed)) => lock > installed,
        _ => true,
    };
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    if stale {
        step("npm install (ui)");
        run(npm, &["install", "--no-audit", "--no-fund"], &ui)?;
    }
    step("building the UI");
    run(npm, &["run", "build"], &ui)
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// SIGTERM (then, after a few seconds, a hard kill) for a child process.
fn stop_gracefully(child: &mut std::process::Child) {
    let pid = child.id().to_string();
    if cfg!(unix) && Command::new("kill").args(["-TERM", &pid]).status().is_ok_and(|s| s.success())
    {
        for _ in 0..50 {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    if let Err(error) = child.kill() {
        eprintln!("xtask: stopping pid {pid}: {error}");
    }
    let _ = child.wait();
}
