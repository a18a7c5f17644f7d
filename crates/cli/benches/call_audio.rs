//! Two `callpark` softphones in a call through real sound devices (cpal's PulseAudio
//! host on null sinks, a service on 127.0.0.1): mouth-to-ear delay, a click played
//! into Bob's microphone until it leaves Carol's speaker, and each softphone's CPU.
//!
//! Needs a PulseAudio server: `cargo xtask pulse -- cargo bench -p callpark-cli --bench
//! call_audio`. CLICKS (default 30) sets the sample count.

#![allow(clippy::unwrap_used)] // a benchmark: a panic is the failure report

use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use callpark_client::audio::io::{FRAME_SAMPLES, SAMPLE_RATE};
use callpark_client::audio::{AudioSink, AudioSource, DeviceChoice, Microphone, Speaker};
use callpark_service::config::ServiceConfig;
use callpark_service::startup::start;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

const CLICK_EVERY: Duration = Duration::from_millis(400);
/// A click: 5 ms of 1 kHz, loud enough to stand far above Opus's noise floor.
const CLICK_SAMPLES: usize = 240;
const HEARD_ABOVE: f32 = 0.05;

struct NullSink {
    module: String,
    name: String,
}

impl NullSink {
    fn load(role: &str) -> NullSink {
        let name = format!("callpark_bench_{}_{role}", std::process::id());
        let output = StdCommand::new("pactl")
            .args(["load-module", "module-null-sink", &format!("sink_name={name}")])
            .args(["rate=48000", "channels=1"])
            .output()
            .expect("pactl, and a PulseAudio server (run through `cargo xtask pulse --`)");
        assert!(output.status.success(), "pactl: {}", String::from_utf8_lossy(&output.stderr));
        NullSink { module: String::from_utf8_lossy(&output.stdout).trim().to_owned(), name }
    }

    fn monitor(&self) -> String {
        format!("{}.monitor", self.name)
    }
}

impl Drop for NullSink {
    fn drop(&mut self) {
        let _ = StdCommand::new("pactl").args(["unload-module", &self.module]).status();
    }
}

fn softphone(server: &str, session: &std::path::Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_callpark"));
    command
        .args(args)
        .env("CALLPARK_SERVER", server)
        .env("CALLPARK_SESSION", session)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    command
}

async fn wait_for_line(child: &mut Child, wanted: &str) {
    let mut lines = BufReader::new(child.stdout.as_mut().unwrap()).lines();
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains(wanted) {
                return true;
            }
        }
        false
    })
    .await;
    assert!(matches!(found, Ok(true)), "the softphone never printed {wanted:?}");
}

/// User plus system CPU time of a process so far (Linux /proc).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // Linux reports these in USER_HZ, which is 100 on every architecture it supports.
    Duration::from_millis(ticks * 10)
}

fn click_frame(offset: usize) -> [f32; FRAME_SAMPLES] {
    let mut frame = [0.0; FRAME_SAMPLES];
    for n in 0..CLICK_SAMPLES.min(FRAME_SAMPLES - offset) {
        let phase = std::f32::consts::TAU * 1_000.0 * n as f32 / SAMPLE_RATE as f32;
        frame[offset + n] = 0.5 * phase.sin();
    }
    frame
}

fn percentile(sorted: &[f64], percent: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * percent / 100.0).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let clicks: usize = std::env::var("CLICKS").ok().and_then(|n| n.parse().ok()).unwrap_or(30);
    let dir = tempfile::tempdir().unwrap();
    let started = start(&ServiceConfig::for_tests(&dir.path().join("data"))).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(callpark_service::run(listener, None, started.state, std::future::pending()));

    let sinks = ["bob_mic", "bob_speaker", "carol_mic", "carol_speaker"].map(NullSink::load);
    let [bob_mic, bob_speaker, carol_mic, carol_speaker] = &sinks;
    for login in ["bob", "carol"] {
        let session = dir.path().join(format!("{login}.json"));
        let password = format!("--password={login}-demo");
        let status = softphone(&server, &session, &["login", login, &password])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .await
            .unwrap();
        assert!(status.success());
    }
    let carol_session = dir.path().join("carol.json");
    let mut carol = softphone(
        &server,
        &carol_session,
        &["--json", "answer", "--timeout", "20", "--mic", &carol_mic.monitor()]
            .into_iter()
            .chain(["--speaker", &carol_speaker.name])
            .collect::<Vec<_>>(),
    )
    .spawn()
    .unwrap();
    wait_for_line(&mut carol, "waiting").await;
    let bob_session = dir.path().join("bob.json");
    let mut bob = softphone(
        &server,
        &bob_session,
        &["--json", "call", "carol", "--mic", &bob_mic.monitor(), "--speaker", &bob_speaker.name],
    )
    .spawn()
    .unwrap();
    wait_for_line(&mut carol, "connected").await;
    wait_for_line(&mut bob, "connected").await;

    let mut mouth = Speaker::open(&DeviceChoice::Named(bob_mic.name.clone())).unwrap();
    let mut ear = Microphone::open(&DeviceChoice::Named(carol_speaker.monitor())).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let cpu_from = (Instant::now(), cpu_time(bob.id().unwrap()), cpu_time(carol.id().unwrap()));
    let mut delays = Vec::new();
    let mut raw = Vec::new();
    let mut frame = [0.0; FRAME_SAMPLES];
    let silence = [0.0; FRAME_SAMPLES];
    let mut period = tokio::time::interval(Duration::from_millis(20));
    let frames_per_click = (CLICK_EVERY.as_millis() / 20) as usize;
    for click in 0..clicks {
        // The click's start moves through the frame so that frame alignment averages out.
        let offset = (click * 97) % (FRAME_SAMPLES - CLICK_SAMPLES);
        let mut played = None;
        let mut heard = None;
        for tick in 0..frames_per_click {
            period.tick().await;
            let now = Instant::now();
            if tick == 0 {
                let into_air = mouth.delay();
                mouth.write_frame(&click_frame(offset));
                let at = now + into_air + Duration::from_secs_f64(offset as f64 / 48_000.0);
                played = Some((at, now));
            } else {
                mouth.write_frame(&silence);
            }
            while ear.read_frame(&mut frame) {
                let read_at = Instant::now();
                if heard.is_some() || played.is_none() {
                    continue;
                }
                if let Some(index) = frame.iter().position(|s| s.abs() > HEARD_ABOVE) {
                    let newest = read_at.checked_sub(ear.delay()).unwrap();
                    let behind = (FRAME_SAMPLES - 1 - index) as f64 / 48_000.0;
                    heard = Some((newest - Duration::from_secs_f64(behind), read_at));
                }
            }
        }
        match (played, heard) {
            (Some((played, written)), Some((heard, read))) => {
                delays.push(heard.saturating_duration_since(played).as_secs_f64() * 1000.0);
                raw.push(read.saturating_duration_since(written).as_secs_f64() * 1000.0);
            }
            _ => eprintln!("click {click} was not heard"),
        }
    }
    let cpu_to = (Instant::now(), cpu_time(bob.id().unwrap()), cpu_time(carol.id().unwrap()));
    let wall = cpu_to.0 - cpu_from.0;
    let share =
        |from: Duration, to: Duration| 100.0 * (to - from).as_secs_f64() / wall.as_secs_f64();

    bob.stdin.as_mut().unwrap().write_all(b"hangup\n").await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(10), bob.wait()).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), carol.wait()).await;

    delays.sort_by(f64::total_cmp);
    raw.sort_by(f64::total_cmp);
    assert!(!delays.is_empty(), "no click was heard");
    println!(
        "mouth-to-ear (click into Bob's microphone -> out of Carol's speaker), {} of {clicks} clicks: \
         p50 {:.1} ms, p90 {:.1} ms, min {:.1} ms, max {:.1} ms",
        delays.len(),
        percentile(&delays, 50.0),
        percentile(&delays, 90.0),
        delays[0],
        delays[delays.len() - 1],
    );
    println!(
        "  including the bench's own device queues (write -> read): p50 {:.1} ms",
        percentile(&raw, 50.0)
    );
    println!(
        "client CPU during the call ({:.1} s, real devices both ways): Bob {:.2} % of a core \
         (his microphone is a null-sink monitor fed by the bench), Carol {:.2} %",
        wall.as_secs_f64(),
        share(cpu_from.1, cpu_to.1),
        share(cpu_from.2, cpu_to.2),
    );

    // The same call headless (tones in, nothing played): the client's own share,
    // without the sound system's.
    let mut carol =
        softphone(&server, &carol_session, &["--json", "answer", "--tone", "500"]).spawn().unwrap();
    wait_for_line(&mut carol, "waiting").await;
    let mut bob = softphone(&server, &bob_session, &["--json", "call", "carol", "--tone", "700"])
        .spawn()
        .unwrap();
    wait_for_line(&mut carol, "connected").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let from = (Instant::now(), cpu_time(bob.id().unwrap()), cpu_time(carol.id().unwrap()));
    tokio::time::sleep(Duration::from_secs(10)).await;
    let to = (Instant::now(), cpu_time(bob.id().unwrap()), cpu_time(carol.id().unwrap()));
    bob.stdin.as_mut().unwrap().write_all(b"hangup\n").await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(10), bob.wait()).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), carol.wait()).await;
    let wall = to.0 - from.0;
    let share =
        |from: Duration, to: Duration| 100.0 * (to - from).as_secs_f64() / wall.as_secs_f64();
    println!(
        "client CPU during a headless call ({:.1} s, tones, nothing played): Bob {:.2} % of a core, \
         Carol {:.2} %",
        wall.as_secs_f64(),
        share(from.1, to.1),
        share(from.2, to.2),
    );
}
