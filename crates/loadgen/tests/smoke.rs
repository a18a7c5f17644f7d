//! The load generator against a real service on 127.0.0.1, briefly, so the
//! benchmark tool cannot rot between benchmark runs: each scenario sets up its users
//! through the admin API, runs, and reports figures.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::time::Duration;

use callpark_service::config::ServiceConfig;
use callpark_service::startup::start;

async fn service() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let started = start(&ServiceConfig::for_tests(dir.path())).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(callpark_service::run(listener, None, started.state, std::future::pending()));
    (server, dir)
}

async fn load(server: &str, scenario: &[&str]) -> String {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_callpark-load"));
    command
        .args(["--server", server, "--admin-login", "alice", "--admin-password", "alice-demo"])
        .args(scenario)
        .kill_on_drop(true);
    let output =
        tokio::time::timeout(Duration::from_secs(60), command.output()).await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

/// The number right after `label` in `text`.
fn figure(text: &str, label: &str) -> f64 {
    let rest =
        &text[text.find(label).unwrap_or_else(|| panic!("no {label:?} in {text}")) + label.len()..];
    let number: String =
        rest.trim_start().chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    number.parse().unwrap_or_else(|_| panic!("no number after {label:?} in {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_runs_and_reports_its_figures() {
    let (server, _data) = service().await;

    let throughput =
        load(&server, &["throughput", "--lanes", "2", "--seconds", "1", "--warmup-seconds", "0"])
            .await;
    assert!(figure(&throughput, "= ") > 0.0, "{throughput}");
    assert!(throughput.contains("park -> code:") && throughput.contains("p99"), "{throughput}");

    let latency =
        load(&server, &["latency", "--parks-per-second", "40", "--lanes", "2", "--seconds", "1"])
            .await;
    let parks = figure(&latency, "park -> code:        n=");
    assert!((30.0..=50.0).contains(&parks), "about 40 parks in 1 s: {latency}");

    let pid = std::process::id().to_string();
    let idle = load(
        &server,
        &[
            "idle",
            "--connections",
            "50",
            "--users",
            "3",
            "--server-pid",
            &pid,
            "--hold-seconds",
            "0",
        ],
    )
    .await;
    assert_eq!(figure(&idle, "idle:"), 50.0, "{idle}");
    assert!(idle.contains("per connection: RSS"), "{idle}");
}
