//! The admin API against its own OpenAPI document: schemathesis, a property-based API
//! fuzzer, runs every check it has (server errors, undocumented statuses, response
//! schemas, schema-valid data refused, invalid data accepted, auth ignored, methods,
//! use after delete, ...) in every phase, bounded in time. Any finding fails the test.
//!
//! `cargo xtask test` installs schemathesis (target/tools/schemathesis) and names it in
//! CALLPARK_SCHEMATHESIS; the settings and hooks are in tests/fuzz/.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::{Server, TestServer};
use serde_json::json;

/// The fuzzer's time budget; the test gives it this plus start-up and shutdown.
const FUZZ_SECONDS: u64 = 100;
const FUZZ_LOGIN: &str = "fuzz-admin";
const FUZZ_PASSWORD: &str = "fuzz-admin-password";

fn schemathesis() -> PathBuf {
    let default = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/tools/schemathesis")
        .join(if cfg!(windows) { "Scripts/st.exe" } else { "bin/st" });
    let st = std::env::var_os("CALLPARK_SCHEMATHESIS").map_or(default, PathBuf::from);
    assert!(
        st.is_file(),
        "schemathesis is not installed at {}: `cargo xtask test` installs it (or set CALLPARK_SCHEMATHESIS to its `st`)",
        st.display()
    );
    st
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_keeps_every_promise_of_its_openapi_document_under_fuzzing() {
    let st = schemathesis();
    let server = Server(TestServer::start().await);
    let alice = server.token("alice").await;
    let created = reqwest::Client::new()
        .post(server.0.http("/api/v1/users"))
        .bearer_auth(&alice)
        .json(&json!({
            "login": FUZZ_LOGIN,
            "display_name": "Fuzzer",
            "password": FUZZ_PASSWORD,
            "admin": true
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());

    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let scratch = tempfile::tempdir().unwrap();
    let max_time = FUZZ_SECONDS.to_string();
    // Into files, not pipes: the report is larger than a pipe holds.
    let stdout = std::fs::File::create(scratch.path().join("report.txt")).unwrap();
    let stderr = std::fs::File::create(scratch.path().join("errors.txt")).unwrap();
    // One worker: schemathesis' workers are threads, and Python 3.11's `ast` module
    // keeps its recursion depth per interpreter, so two threads describing Hypothesis
    // strategies at once fail the run with "AST constructor recursion depth mismatch"
    // (CPython issue 106905; it failed CI once). The run is bounded by time either way.
    let mut child = std::process::Command::new(&st)
        .arg("--config-file")
        .arg(fuzz.join("schemathesis.toml"))
        .arg("run")
        .arg(server.0.http("/api/v1/openapi.json"))
        .args(["--checks", "all", "--mode", "all", "--max-time", &max_time, "--workers", "1"])
        .args(["--generation-database", "none", "--no-color", "--output-truncate", "false"])
        .env("CALLPARK_FUZZ_HOOKS", fuzz.join("hooks.py"))
        .env("CALLPARK_FUZZ_LOGIN", FUZZ_LOGIN)
        .env("CALLPARK_FUZZ_PASSWORD", FUZZ_PASSWORD)
        .current_dir(scratch.path())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(FUZZ_SECONDS + 120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if tokio::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let report = std::fs::read_to_string(scratch.path().join("report.txt")).unwrap_or_default();
    let errors = std::fs::read_to_string(scratch.path().join("errors.txt")).unwrap_or_default();
    server.stop().await;
    let status = status.unwrap_or_else(|| {
        panic!("schemathesis overran its time budget by two minutes:\n{report}\n{errors}")
    });
    assert!(status.success(), "schemathesis found problems ({status}):\n{report}\n{errors}");
    // A run that tested nothing would also exit 0.
    assert!(report.contains(" passed"), "schemathesis ran no test case:\n{report}");
    assert!(!report.contains(" 0 passed"), "schemathesis ran no test case:\n{report}");
}
