//! How long a parked caller goes without hold music when the service restarts: the
//! real `callpark-server` binary (`--demo`, its own data directory) on a free port
//! of 127.0.0.1, and two headless phones (engine, session, str0m, Opus, tone audio)
//! in this process. Each run: Dave calls Bob, Bob parks, Dave hears hold music; the
//! service is stopped (SIGTERM, or `kill -9`) and started again at once on the same
//! port and data directory; the figure is the time from the signal to the first
//! hold-music frame Dave plays again. Dave then hangs up. RUNS runs (default 20) of
//! each way, medians and maxima printed.
//!
//! `scripts/bench-restart.sh` builds the server and runs this
//! (`cargo bench --profile dev -p callpark-client --bench restart`).

#![allow(clippy::unwrap_used)] // a benchmark: a panic is the failure report

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use callpark_client::intent::{HangUp, Park};
use callpark_client::{Connection, ServiceAddress};
use callpark_service::hold_music::SIGNATURE_HZ;

#[path = "../tests/common/mod.rs"]
mod common;

use common::{Phone, WITHIN, connect, tone_back_after_gap};

/// The server binary: `CALLPARK_SERVER`, or the debug build beside this crate.
fn server_binary() -> PathBuf {
    std::env::var_os("CALLPARK_SERVER").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/callpark-server"),
        PathBuf::from,
    )
}

struct Server(Child);

impl Server {
    fn start(address: &str, data: &std::path::Path) -> Server {
        let child = Command::new(server_binary())
            .args(["--demo", "--listen", address])
            .arg("--data-dir")
            .arg(data)
            .env("CALLPARK_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("{}: {error}", server_binary().display()));
        Server(child)
    }

    fn stop(&mut self, graceful: bool) {
        if graceful {
            let pid = self.0.id().to_string();
            assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        } else {
            self.0.kill().unwrap();
        }
        self.0.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_until_healthy(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !reqwest::get(format!("{base}/healthz")).await.is_ok_and(|r| r.status().is_success()) {
        assert!(Instant::now() < deadline, "callpark-server did not become healthy");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn report(what: &str, mut figures: Vec<Duration>) {
    figures.sort_unstable();
    let median = figures[figures.len() / 2];
    let max = figures[figures.len() - 1];
    println!(
        "{what}: hold music again after median {:.0} ms, max {:.0} ms ({} runs)",
        median.as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0,
        figures.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs: usize = std::env::var("RUNS").ok().and_then(|runs| runs.parse().ok()).unwrap_or(20);
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let address = format!("127.0.0.1:{port}");
    let base = format!("http://{address}");
    let mut server = Server::start(&address, data.path());
    wait_until_healthy(&base).await;
    let service = ServiceAddress::parse(&base).unwrap();
    let bob = Phone::sign_in(&service, "bob", 440.0).await;
    for graceful in [true, false] {
        let mut figures = Vec::new();
        for _ in 0..runs {
            bob.engine
                .wait_for(WITHIN, |view| view.connection == Connection::Online)
                .await
                .unwrap();
            let dave = Phone::sign_in(&service, "dave", 880.0).await;
            let call = connect(&dave, &bob, "bob").await;
            bob.ask(Park { call }).await;
            // Hold music playing steadily before the stop.
            let on_hold = Instant::now();
            dave.listen(on_hold, Duration::from_millis(400)).await;
            let stopped = Instant::now();
            server.stop(graceful);
            server = Server::start(&address, data.path());
            let (back, _gap) = tone_back_after_gap(
                &dave.heard,
                (SIGNATURE_HZ, 0.05),
                stopped,
                Duration::from_secs(30),
            )
            .await;
            figures.push(back.duration_since(stopped));
            dave.ask(HangUp { call }).await;
        }
        report(if graceful { "SIGTERM" } else { "kill -9" }, figures);
    }
}
