//! Schemathesis, the property-based API fuzzer the admin API test runs: a Python
//! package, installed from the package registry into its own virtual environment
//! under the target directory (nothing system-wide), once.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Result, run, step};

/// The version the fuzz test's settings are written for.
const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// The `st` program, installing it first if it is missing or another version.
pub fn ensure_schemathesis(target: &Path) -> Result<PathBuf> {
    let venv = target.join("tools").join("schemathesis");
    let bin = venv.join(if cfg!(windows) { "Scripts" } else { "bin" });
    let st = bin.join(if cfg!(windows) { "st.exe" } else { "st" });
    if installed_version(&st).is_some_and(|version| version.contains(SCHEMATHESIS_VERSION)) {
        return Ok(st);
    }
    step(&format!("installing schemathesis {SCHEMATHESIS_VERSION} (the API fuzzer)"));
    let python = if cfg!(windows) { "python" } else { "python3" };
    let venv_arg = venv.to_string_lossy().into_owned();
    run(python, &["-m", "venv", "--clear", &venv_arg], target)?;
    let pip = bin.join(if cfg!(windows) { "pip.exe" } else { "pip" });
    let requirement = format!("schemathesis=={SCHEMATHESIS_VERSION}");
    run(
        &pip.to_string_lossy(),
        &["install", "--quiet", "--disable-pip-version-check", &requirement],
        target,
    )?;
    installed_version(&st)
        .map(|_| st.clone())
        .ok_or_else(|| format!("schemathesis was installed but {} does not run", st.display()))
}

fn installed_version(st: &Path) -> Option<String> {
    let output = Command::new(st).arg("--version").output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}
