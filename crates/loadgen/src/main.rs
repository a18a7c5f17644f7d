//! `callpark-load`: drives a running `callpark-server` for the benchmarks in
//! docs/benchmarks.md (see scripts/bench-load.sh, which pins the server to one core
//! and this tool to another).
//!
//! - `latency`: park → code as the client sees it, at a fixed park rate.
//! - `throughput`: parks and retrieves as fast as the lanes can go.
//! - `idle`: many signed-in, idle connections, and the server memory they cost.
//! - `media-parked`: parked callers hearing hold music from the media anchor.
//! - `media-bridged`: connected calls relayed both ways by the media anchor.
//! - `media-idle`: signed-in devices with their peer connections up and no call.

mod cpu;
mod device;
mod lane;
mod media;
mod media_load;
mod memory;
mod reconnect;
mod setup;
mod stats;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use callpark_client::{ClientError, ServiceAddress};
use clap::{Parser, Subcommand};
use futures_util::{StreamExt, TryStreamExt};

use crate::device::Device;
use crate::lane::{Lane, LaneSamples};
use crate::setup::{LoadUser, load_users};
use crate::stats::Samples;

#[derive(Debug, Parser)]
#[command(name = "callpark-load")]
struct Args {
    /// The service, as http://127.0.0.1:port.
    #[arg(long)]
    server: String,
    /// An admin account, to create the load users.
    #[arg(long, default_value = "admin")]
    admin_login: String,
    #[arg(long)]
    admin_password: String,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Parks at a fixed rate spread over the lanes; reports park → code latency.
    Latency {
        #[arg(long, default_value_t = 1000)]
        parks_per_second: u32,
        #[arg(long, default_value_t = 100)]
        lanes: usize,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
    /// Every lane parks and retrieves back to back; reports operations per second.
    Throughput {
        #[arg(long, default_value_t = 64)]
        lanes: usize,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Not counted: lets caches and the store settle first.
        #[arg(long, default_value_t = 3)]
        warmup_seconds: u64,
    },
    /// Opens signed-in connections that stay idle; reports the server's memory per
    /// connection (Linux: /proc/<pid>/smaps_rollup).
    Idle {
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        /// Users the connections are spread over.
        #[arg(long, default_value_t = 100)]
        users: usize,
        #[arg(long)]
        server_pid: u32,
        #[arg(long, default_value_t = 10)]
        hold_seconds: u64,
    },
    /// Opens signed-in connections, then waits for the service to restart and
    /// reports how the devices come back (the session's jittered backoff, hello with
    /// the resume token).
    Reconnect {
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        #[arg(long, default_value_t = 100)]
        users: usize,
    },
    /// Callers with audio call parkers, who park them; measures the hold music that
    /// reaches every parked caller (loss, gaps) and the server's CPU.
    MediaParked {
        #[arg(long, default_value_t = 2000)]
        calls: usize,
        /// Users whose devices place the calls (each user has calls/users devices).
        #[arg(long, default_value_t = 20)]
        caller_users: usize,
        /// Parkers working in parallel (one device each).
        #[arg(long, default_value_t = 8)]
        parkers: usize,
        /// Parked callers send nothing (by default they keep sending, as phones do).
        #[arg(long)]
        silent_callers: bool,
        #[arg(long)]
        server_pid: u32,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
    /// Signed-in devices with their peer connections up and no call, as idle apps
    /// keep them (ICE consent checks only); measures the server's CPU.
    MediaIdle {
        #[arg(long, default_value_t = 10_000)]
        devices: usize,
        #[arg(long, default_value_t = 100)]
        users: usize,
        #[arg(long)]
        server_pid: u32,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
    /// Connected calls between media peers that both send; measures what the relay
    /// delivers and the server's CPU.
    MediaBridged {
        #[arg(long, default_value_t = 1000)]
        calls: usize,
        #[arg(long, default_value_t = 20)]
        caller_users: usize,
        #[arg(long, default_value_t = 50)]
        callee_users: usize,
        #[arg(long)]
        server_pid: u32,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("cannot connect the signaling socket: {0}")]
    Connect(String),
    #[error("{request} refused: {message} ({code})")]
    Refused { request: &'static str, code: String, message: String },
    #[error("unexpected from the service: {0}")]
    Protocol(String),
    #[error("the service closed the connection")]
    Closed,
    #[error("no {0} within 10 s")]
    Timeout(&'static str),
    #[error("cannot read the server's memory: {0}")]
    Memory(String),
    #[error("cannot read CPU time: {0}")]
    Cpu(String),
}

/// Connections and lanes set up at once.
const CONCURRENT_CONNECTS: usize = 128;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("callpark-load: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), LoadError> {
    let service = ServiceAddress::parse(&args.server)?;
    let websocket_url = format!("ws{}/ws", service.base().strip_prefix("http").unwrap_or(""));
    let users_needed = match &args.scenario {
        Scenario::Latency { lanes, .. } | Scenario::Throughput { lanes, .. } => lanes * 3,
        Scenario::Idle { users, .. }
        | Scenario::MediaIdle { users, .. }
        | Scenario::Reconnect { users, .. } => *users,
        Scenario::MediaParked { caller_users, parkers, .. } => caller_users + parkers,
        Scenario::MediaBridged { caller_users, callee_users, .. } => caller_users + callee_users,
    };
    let setup_started = Instant::now();
    let users = load_users(&service, &args.admin_login, &args.admin_password, users_needed).await?;
    println!(
        "setup: {} users signed in in {:.1} s",
        users.len(),
        setup_started.elapsed().as_secs_f64()
    );
    match args.scenario {
        Scenario::Latency { parks_per_second, lanes: _, seconds } => {
            let lanes = connect_lanes(&websocket_url, &users).await?;
            latency(lanes, parks_per_second, Duration::from_secs(seconds)).await
        }
        Scenario::Throughput { lanes: _, seconds, warmup_seconds } => {
            let lanes = connect_lanes(&websocket_url, &users).await?;
            throughput(lanes, Duration::from_secs(warmup_seconds), Duration::from_secs(seconds))
                .await
        }
        Scenario::Idle { connections, users: _, server_pid, hold_seconds } => {
            idle(&websocket_url, &users, connections, server_pid, Duration::from_secs(hold_seconds))
                .await
        }
        Scenario::Reconnect { connections, users: _ } => {
            reconnect::reconnect(&websocket_url, &users, connections).await
        }
        Scenario::MediaParked {
            calls,
            caller_users: _,
            parkers,
            silent_callers,
            server_pid,
            seconds,
        } => {
            let window = media_window(server_pid, seconds);
            media_load::parked(&websocket_url, &users, calls, parkers, silent_callers, window).await
        }
        Scenario::MediaIdle { devices, users: _, server_pid, seconds } => {
            let window = media_window(server_pid, seconds);
            media_load::idle(&websocket_url, &users, devices, window).await
        }
        Scenario::MediaBridged { calls, caller_users: _, callee_users, server_pid, seconds } => {
            let window = media_window(server_pid, seconds);
            media_load::bridged(&websocket_url, &users, calls, callee_users, window).await
        }
    }
}

fn media_window(server_pid: u32, seconds: u64) -> media_load::Window {
    media_load::Window {
        settle: Duration::from_secs(2),
        measure: Duration::from_secs(seconds),
        server_pid,
    }
}

async fn connect_lanes(websocket_url: &str, users: &[LoadUser]) -> Result<Vec<Lane>, LoadError> {
    let triples: Vec<[LoadUser; 3]> = users
        .chunks_exact(3)
        .map(|three| [three[0].clone(), three[1].clone(), three[2].clone()])
        .collect();
    futures_util::stream::iter(triples.iter().map(|three| Lane::connect(websocket_url, three)))
        .buffer_unordered(CONCURRENT_CONNECTS)
        .try_collect()
        .await
}

/// Each lane parks on its own schedule, offset so the lanes together park at
/// `parks_per_second`.
async fn latency(
    lanes: Vec<Lane>,
    parks_per_second: u32,
    duration: Duration,
) -> Result<(), LoadError> {
    let count = lanes.len();
    let period = Duration::from_secs_f64(count as f64 / f64::from(parks_per_second.max(1)));
    let start = tokio::time::Instant::now() + Duration::from_millis(100);
    let deadline = start + duration;
    let tasks: Vec<_> = lanes
        .into_iter()
        .enumerate()
        .map(|(index, mut lane)| {
            let offset = period.mul_f64(index as f64 / count as f64);
            tokio::spawn(async move {
                let mut samples = LaneSamples::default();
                let mut next = start + offset;
                while next < deadline {
                    tokio::time::sleep_until(next).await;
                    lane.cycle(&mut samples).await?;
                    next += period;
                }
                lane.hang_up().await;
                Ok::<_, LoadError>(samples)
            })
        })
        .collect();
    let mut all = gather(tasks).await?;
    let achieved = all.park.len() as f64 / duration.as_secs_f64();
    println!("latency: {count} lanes, {achieved:.0} parks/s for {} s", duration.as_secs());
    println!("park -> code:        {}", all.park.summary());
    println!("retrieve -> answer:  {}", all.retrieve.summary());
    Ok(())
}

/// Waits for every lane and pools their samples.
async fn gather(
    tasks: Vec<tokio::task::JoinHandle<Result<LaneSamples, LoadError>>>,
) -> Result<LaneSamples, LoadError> {
    let mut all = LaneSamples::default();
    for task in tasks {
        let samples = task.await.map_err(|error| LoadError::Protocol(error.to_string()))??;
        all.park.merge(samples.park);
        all.retrieve.merge(samples.retrieve);
    }
    Ok(all)
}

/// Every lane cycles back to back; samples from the warm-up are dropped.
async fn throughput(
    lanes: Vec<Lane>,
    warmup: Duration,
    duration: Duration,
) -> Result<(), LoadError> {
    let count = lanes.len();
    let measuring_from = Instant::now() + warmup;
    let deadline = measuring_from + duration;
    let tasks: Vec<_> = lanes
        .into_iter()
        .map(|mut lane| {
            tokio::spawn(async move {
                let mut kept = LaneSamples::default();
                let mut warming = LaneSamples::default();
                while Instant::now() < deadline {
                    if Instant::now() < measuring_from {
                        lane.cycle(&mut warming).await?;
                    } else {
                        lane.cycle(&mut kept).await?;
                    }
                }
                lane.hang_up().await;
                Ok::<_, LoadError>(kept)
            })
        })
        .collect();
    let mut all = gather(tasks).await?;
    let operations = all.park.len() + all.retrieve.len();
    let per_second = operations as f64 / duration.as_secs_f64();
    println!(
        "throughput: {count} lanes, {operations} park+retrieve operations in {} s = {per_second:.0} ops/s",
        duration.as_secs()
    );
    let mut both = Samples::default();
    println!("park -> code:        {}", all.park.summary());
    println!("retrieve -> answer:  {}", all.retrieve.summary());
    both.merge(all.park);
    both.merge(all.retrieve);
    println!("either:              {}", both.summary());
    Ok(())
}

async fn idle(
    websocket_url: &str,
    users: &[LoadUser],
    connections: usize,
    server_pid: u32,
    hold: Duration,
) -> Result<(), LoadError> {
    let before = memory::of_process(server_pid)?;
    let opened = Instant::now();
    let devices: Vec<Device> = futures_util::stream::iter((0..connections).map(|n| {
        let user = &users[n % users.len()];
        Device::connect(websocket_url, &user.token, "idle")
    }))
    .buffer_unordered(CONCURRENT_CONNECTS)
    .try_collect()
    .await?;
    println!(
        "idle: {} connections signed in in {:.1} s",
        devices.len(),
        opened.elapsed().as_secs_f64()
    );
    tokio::time::sleep(hold).await;
    let after = memory::of_process(server_pid)?;
    let per_connection =
        |before: u64, after: u64| after.saturating_sub(before) as f64 / devices.len() as f64;
    println!(
        "server memory before: RSS {} KiB, PSS {} KiB; after {} s idle: RSS {} KiB, PSS {} KiB",
        before.rss_kib,
        before.pss_kib,
        hold.as_secs(),
        after.rss_kib,
        after.pss_kib
    );
    println!(
        "per connection: RSS {:.2} KiB, PSS {:.2} KiB",
        per_connection(before.rss_kib, after.rss_kib),
        per_connection(before.pss_kib, after.pss_kib)
    );
    for device in devices {
        device.close().await;
    }
    Ok(())
}
