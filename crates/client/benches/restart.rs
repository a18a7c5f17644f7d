//! How long a parked caller goes without hold music when the service restarts: the
//! real `callpark-server` binary (`--demo`, its own data directory) on a free port
//! of 127.0.0.1, and two headless phones (engine, session, str0m, Opus, tone audio)
//! in this process. Each run: Dave calls Bob, Bob parks, Dave hears hold music; the
//! service is stopped (SIGTERM, or `kill -9`) and started again at once on the same
//! port and data directory; the figure is the time from the signal until hold music
//! is back for good (the end of the longest stretch without it). Dave then hangs up. Then the same with the
//! call connected instead of parked: the figure is the time from the signal until
//! both hear each other's tone again. RUNS runs (default 20) of each way and case,
//! medians and maxima printed.
//!
//! `scripts/bench-restart.sh` builds the server and runs this
//! (`cargo bench --profile dev -p callpark-client --bench restart`).

#![allow(clippy::unwrap_used)] // a benchmark: a panic is the failure report

use std::time::{Duration, Instant};

use callpark_client::Connection;
use callpark_client::intent::{HangUp, Park};
use callpark_service::hold_music::SIGNATURE_HZ;

#[path = "../tests/common/mod.rs"]
mod common;

use callpark_client::audio::Heard;
use common::server_process::ServerProcess;
use common::{Phone, WITHIN, connect, heard_steadily, longest_gap};

/// How long after `stopped` the sound was back for good: the end of the longest
/// stretch without it from `stopped` until it is heard steadily, at least two seconds
/// after the stop (the client conceals a few lost packets, so the sound may seem to
/// go on for a moment after the stop; a fixed "first frame after a gap" misses it).
async fn back_after(heard: &Heard, sound: (f32, f32), stopped: Instant) -> Duration {
    let not_before = stopped + Duration::from_secs(2);
    let steady = heard_steadily(heard, sound, not_before, Duration::from_secs(30)).await;
    let (back, _gap) = longest_gap(heard, sound, stopped, steady).await;
    back.duration_since(stopped)
}

fn report(what: &str, mut figures: Vec<Duration>) {
    figures.sort_unstable();
    let median = figures[figures.len() / 2];
    let max = figures[figures.len() - 1];
    println!(
        "{what} after median {:.0} ms, max {:.0} ms ({} runs)",
        median.as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0,
        figures.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs: usize = std::env::var("RUNS").ok().and_then(|runs| runs.parse().ok()).unwrap_or(20);
    let data = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(data.path()).await;
    let service = server.service.clone();
    let bob = Phone::sign_in(&service, "bob", 440.0).await;
    for parked in [true, false] {
        for graceful in [true, false] {
            let mut figures = Vec::new();
            for _ in 0..runs {
                bob.engine
                    .wait_for(WITHIN, |view| view.connection == Connection::Online)
                    .await
                    .unwrap();
                let dave = Phone::sign_in(&service, "dave", 880.0).await;
                let call = connect(&dave, &bob, "bob").await;
                if parked {
                    bob.ask(Park { call }).await;
                }
                // Hold music, or each other's tone, playing steadily before the stop.
                dave.listen(Instant::now(), Duration::from_millis(400)).await;
                let stopped = Instant::now();
                server.stop(graceful);
                server.start_again();
                let back = if parked {
                    back_after(&dave.heard, (SIGNATURE_HZ, 0.05), stopped).await
                } else {
                    let at_bob = back_after(&bob.heard, (880.0, 0.7), stopped).await;
                    let at_dave = back_after(&dave.heard, (440.0, 0.7), stopped).await;
                    at_bob.max(at_dave)
                };
                figures.push(back);
                dave.ask(HangUp { call }).await;
            }
            let way = if graceful { "SIGTERM" } else { "kill -9" };
            let what = if parked {
                "hold music again"
            } else {
                "a connected call's parties hear each other again"
            };
            report(&format!("{way}: {what}"), figures);
        }
    }
}
