//! The `callpark` binary against a real service on 127.0.0.1 (demo tenant, real
//! SQLite): admin commands with their refusals and exit codes, and a call parked by
//! one softphone and picked up by another.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use callpark_service::config::ServiceConfig;
use callpark_service::startup::start;
use callpark_service::tls::TlsFiles;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

struct World {
    server: String,
    dir: tempfile::TempDir,
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

impl World {
    async fn start() -> World {
        let dir = tempfile::tempdir().unwrap();
        World::start_in(dir, None, 1).await
    }

    /// A service whose park timers run `speedup` times faster than the wall clock.
    async fn start_fast(speedup: u32) -> World {
        let dir = tempfile::tempdir().unwrap();
        World::start_in(dir, None, speedup).await
    }

    /// A service that speaks only https, with a certificate from a private CA.
    async fn start_tls() -> (World, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let (ca, files) = private_pki(dir.path(), "ca");
        (World::start_in(dir, Some(files), 1).await, ca)
    }

    async fn start_in(dir: tempfile::TempDir, tls: Option<TlsFiles>, speedup: u32) -> World {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let mut config = ServiceConfig::for_tests(&dir.path().join("data"));
        config.tls = tls;
        config.test_clock_speedup = speedup;
        let started = start(&config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = format!("{scheme}://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let serving =
            callpark_service::run(listener, started.tls, started.state, std::future::pending());
        tokio::spawn(serving);
        World { server, dir }
    }

    fn session(&self, login: &str) -> PathBuf {
        self.dir.path().join(format!("{login}.session.json"))
    }

    fn command(&self, login: &str, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_callpark"));
        command
            .args(args)
            .env("CALLPARK_SERVER", &self.server)
            .env("CALLPARK_SESSION", self.session(login))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    async fn run(&self, login: &str, args: &[&str]) -> Output {
        let output =
            tokio::time::timeout(Duration::from_secs(30), self.command(login, args).output())
                .await
                .unwrap()
                .unwrap();
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    async fn login(&self, login: &str) {
        let password = format!("--password={login}-demo");
        let out = self.run(login, &["login", login, &password]).await;
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
}

/// A private CA (`<name>.pem`) and a certificate for 127.0.0.1 signed by it.
fn private_pki(dir: &Path, name: &str) -> (PathBuf, TlsFiles) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf =
        CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap().signed_by(&key, &ca).unwrap();
    let ca_path = dir.join(format!("{name}.pem"));
    let files = TlsFiles {
        certificate: dir.join(format!("{name}-service.pem")),
        key: dir.join(format!("{name}-service.key")),
    };
    std::fs::write(&ca_path, ca.pem()).unwrap();
    std::fs::write(&files.certificate, leaf.pem()).unwrap();
    std::fs::write(&files.key, key.serialize_pem()).unwrap();
    (ca_path, files)
}

/// What a spawned command prints, line by line (read through one buffer, so no
/// line is lost between two waits).
type Says = tokio::io::Lines<BufReader<tokio::process::ChildStdout>>;

fn says(child: &mut Child) -> Says {
    BufReader::new(child.stdout.take().unwrap()).lines()
}

/// The next JSON line that has the field `wanted`.
async fn first_json_line(says: &mut Says, wanted: &str) -> Value {
    loop {
        let line = tokio::time::timeout(Duration::from_secs(20), says.next_line())
            .await
            .unwrap()
            .unwrap()
            .expect("the process printed what was expected before exiting");
        if let Ok(value) = serde_json::from_str::<Value>(&line)
            && value.get(wanted).is_some()
        {
            return value;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_mirror_the_cmdlets_with_clear_refusals_and_exit_codes() {
    let world = World::start().await;
    let out = world.run("alice", &["policy", "get"]).await;
    assert_eq!(out.code, 3, "not signed in: {}", out.stderr);
    assert!(out.stderr.contains("callpark login"), "{}", out.stderr);

    let wrong = world.run("alice", &["login", "alice", "--password=nope-nope"]).await;
    assert_eq!(wrong.code, 1);
    assert!(wrong.stderr.contains("Wrong login name or password"), "{}", wrong.stderr);
    world.login("alice").await;

    let bad = world
        .run(
            "alice",
            &[
                "policy",
                "new",
                "Lobby",
                "--allow-call-park",
                "true",
                "--park-timeout-seconds",
                "60",
            ],
        )
        .await;
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("ParkTimeoutSeconds 60")
            && bad.stderr.contains("between 120 and 1800")
            && bad.stderr.contains("(policy_invalid)"),
        "{}",
        bad.stderr
    );
    let none = world.run("alice", &["policy", "get", "Lobby"]).await;
    assert_eq!(none.code, 1, "the refused policy was not created");

    let made = world
        .run(
            "alice",
            &[
                "--json",
                "policy",
                "new",
                "Lobby",
                "--allow-call-park",
                "true",
                "--pickup-range-start",
                "200",
                "--pickup-range-end",
                "299",
            ],
        )
        .await;
    assert_eq!(made.code, 0, "{}", made.stderr);
    let made: Value = serde_json::from_str(&made.stdout).unwrap();
    assert_eq!(made["identity"], "Tag:Lobby");
    assert_eq!(made["park_timeout_seconds"], 300);

    let table = world.run("alice", &["policy", "get"]).await;
    assert_eq!(table.code, 0);
    assert!(table.stdout.starts_with("IDENTITY"), "{}", table.stdout);
    assert!(
        table.stdout.contains("Tag:Lobby") && table.stdout.contains("200-299"),
        "{}",
        table.stdout
    );

    let granted = world
        .run("alice", &["policy", "grant", "Lobby", "--group", "Front desk", "--rank", "1"])
        .await;
    assert_eq!(
        (granted.code, granted.stdout.trim()),
        (0, "Granted (rank 1)."),
        "{}",
        granted.stderr
    );
    let user = world.run("alice", &["--json", "user", "get", "bob"]).await;
    let user: Value = serde_json::from_str(&user.stdout).unwrap();
    assert_eq!(user["effective_policy"]["policy"], "Tag:Lobby");

    let in_use = world.run("alice", &["policy", "remove", "Lobby"]).await;
    assert_eq!(in_use.code, 1);
    assert!(in_use.stderr.contains("(policy_in_use)"), "{}", in_use.stderr);
    let usage = world.run("alice", &["policy", "grant", "Lobby"]).await;
    assert_eq!(usage.code, 1, "a grant with no target is refused by the service: {}", usage.stderr);
    assert!(usage.stderr.contains("exactly one"), "{}", usage.stderr);

    let group = world.run("alice", &["group", "new", "Night", "--member", "dave"]).await;
    assert_eq!(group.code, 0, "{}", group.stderr);
    assert!(group.stdout.contains("Night") && group.stdout.contains("dave"), "{}", group.stdout);

    world.login("bob").await;
    let forbidden = world.run("bob", &["user", "list"]).await;
    assert_eq!(forbidden.code, 1);
    assert!(forbidden.stderr.contains("(forbidden)"), "{}", forbidden.stderr);
    let clap = world.run("bob", &["policy", "new"]).await;
    assert_eq!(clap.code, 2, "usage errors exit 2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_softphone_parks_and_another_picks_up_with_the_shared_link() {
    let world = World::start().await;
    for login in ["alice", "bob", "carol", "dave"] {
        world.login(login).await;
    }
    // Bob waits for a call and parks it as soon as it connects.
    let mut bob =
        world.command("bob", &["--json", "answer", "--park", "--timeout", "20"]).spawn().unwrap();
    let mut bob_says = says(&mut bob);
    first_json_line(&mut bob_says, "waiting").await;
    // Dave calls bob and stays on the line.
    let dave = world.command("dave", &["--json", "call", "bob"]).spawn().unwrap();
    let parked = first_json_line(&mut bob_says, "code").await;
    let code = parked["code"].as_u64().unwrap().to_string();
    let link = format!("callpark://pickup/{code}");
    assert_eq!(parked["link"], link.as_str(), "{parked}");
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(10), bob.wait()).await.unwrap().unwrap().code(),
        Some(0)
    );

    // The live list shows it to the group.
    let list = world.run("alice", &["--json", "parked", "--once"]).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    let list: Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(list[0]["code"].to_string(), code);
    assert_eq!(list[0]["parked_by"]["name"], "Bob Okafor");
    let table = world.run("alice", &["parked", "--once"]).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    let mut lines = table.stdout.lines();
    assert_eq!(lines.next(), Some("Front desk"), "the group as people name it: {}", table.stdout);
    assert!(
        lines.any(|row| row.starts_with(&code) && row.contains("Dave Park-less")),
        "{}",
        table.stdout
    );
    let off = world.run("dave", &["parked", "--once"]).await;
    assert_eq!(off.code, 0, "{}", off.stderr);
    assert!(
        off.stdout.starts_with("Call park is not enabled for you. Ask your admin"),
        "why Dave sees no calls: {}",
        off.stdout
    );

    // The people list: Dave waits in a call, Carol has no device on, Alice asks.
    let people = world.run("alice", &["--json", "people", "--once"]).await;
    assert_eq!(people.code, 0, "{}", people.stderr);
    let people: Value = serde_json::from_str(&people.stdout).unwrap();
    let presence_of = |login: &str| {
        people
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["login"] == login)
            .map(|p| p["presence"].clone())
    };
    assert_eq!(presence_of("dave"), Some("in_call".into()), "{people}");
    assert_eq!(presence_of("carol"), Some("offline".into()), "{people}");
    assert_eq!(presence_of("alice"), Some("available".into()), "{people}");

    // Dave is not in a park group: refused, with why.
    let refused = world.run("dave", &["retrieve", &code]).await;
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("not enabled"), "{}", refused.stderr);

    // Carol picks it up with the link Bob shared, talks a second, hangs up; Dave's
    // softphone sees the end.
    let carol = world.run("carol", &["--json", "retrieve", &link, "--hangup-after", "1"]).await;
    assert_eq!(carol.code, 0, "{}", carol.stderr);
    assert_eq!(carol.stdout.matches("\"peer\":\"Dave Park-less\"").count(), 1, "{}", carol.stdout);
    let dave_out = tokio::time::timeout(Duration::from_secs(10), dave.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dave_out.status.code(), Some(0));
    let dave_said: Vec<Value> = String::from_utf8_lossy(&dave_out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let said = |key: &str| dave_said.iter().position(|line| line.get(key).is_some());
    let (held, ended) = (said("on_hold"), said("ended"));
    let with_carol = dave_said.iter().position(|line| line["peer"] == "Carol Lindqvist");
    assert!(held.is_some() && held < with_carol && with_carol < ended, "{dave_said:?}");
    assert_eq!(dave_said[ended.unwrap()]["reason"], "peer_hung_up", "{dave_said:?}");

    let again = world.run("carol", &["retrieve", &code]).await;
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("Picked up by Carol"), "{}", again.stderr);

    let audit = world.run("alice", &["--json", "audit"]).await;
    let audit: Value = serde_json::from_str(&audit.stdout).unwrap();
    let kinds: Vec<&str> =
        audit.as_array().unwrap().iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"parked") && kinds.contains(&"retrieved"), "{kinds:?}");

    // Bob's softphone had exited when Carol picked up: he learns it on his next
    // look, and looking twice (as a one-shot command does) takes nothing away.
    for _ in 0..2 {
        let ended = world.run("bob", &["ended"]).await;
        assert_eq!(ended.code, 0, "{}", ended.stderr);
        let said = format!("Carol Lindqvist picked up Dave Park-less (code {code}).");
        assert!(ended.stdout.contains(&said), "{}", ended.stdout);
    }
    let listed = world.run("bob", &["--json", "ended"]).await;
    let listed: Value = serde_json::from_str(&listed.stdout).unwrap();
    let call = listed[0]["call"].as_u64().unwrap().to_string();
    assert_eq!(listed[0]["outcome"], "retrieved", "{listed}");
    let stranger = world.run("alice", &["ended", "--dismiss", &call]).await;
    assert_eq!(stranger.code, 1, "not Alice's to dismiss");
    assert!(stranger.stderr.contains("No ended park of yours"), "{}", stranger.stderr);
    let dismissed = world.run("bob", &["ended", "--dismiss", &call]).await;
    assert_eq!(dismissed.code, 0, "{}", dismissed.stderr);
    let after = world.run("bob", &["ended"]).await;
    assert!(after.stdout.starts_with("None of your parked calls has ended"), "{}", after.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parked_caller_hears_of_the_hold_and_of_the_parker_answering_the_ringback() {
    // The demo policy rings back after 300 s: 5 s here.
    let world = World::start_fast(60).await;
    for login in ["bob", "dave"] {
        world.login(login).await;
    }
    let mut bob =
        world.command("bob", &["--json", "answer", "--park", "--timeout", "20"]).spawn().unwrap();
    let mut bob_says = says(&mut bob);
    first_json_line(&mut bob_says, "waiting").await;
    let mut dave = world.command("dave", &["--json", "call", "bob"]).spawn().unwrap();
    let mut dave_says = says(&mut dave);
    assert_eq!(first_json_line(&mut dave_says, "connected").await["peer"], "Bob Okafor");
    first_json_line(&mut dave_says, "on_hold").await;
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(10), bob.wait()).await.unwrap().unwrap().code(),
        Some(0)
    );

    // Nobody picks up: the call rings Bob back, he answers, Dave is told.
    let mut bob_again =
        world.command("bob", &["--json", "answer", "--timeout", "20"]).spawn().unwrap();
    let mut bob_again_says = says(&mut bob_again);
    let again = first_json_line(&mut bob_again_says, "connected").await;
    assert_eq!(again["peer"], "Dave Park-less");
    assert_eq!(first_json_line(&mut dave_says, "connected").await["peer"], "Bob Okafor");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_the_cli_trusts_the_named_ca_and_nothing_else() {
    let (world, ca) = World::start_tls().await;
    let ca = ca.to_str().unwrap();
    let password = "--password=carol-demo";

    let untrusted = world.run("carol", &["login", "carol", password]).await;
    assert_eq!(untrusted.code, 3, "the private CA is not a system root: {}", untrusted.stderr);
    assert!(untrusted.stderr.contains("--ca-file"), "{}", untrusted.stderr);

    let (other_ca, _) = private_pki(world.dir.path(), "other");
    let other_ca = other_ca.to_str().unwrap();
    let wrong = world.run("carol", &["--ca-file", other_ca, "login", "carol", password]).await;
    assert_eq!(wrong.code, 3, "signed by another CA: {}", wrong.stderr);
    assert!(wrong.stderr.contains("certificate"), "{}", wrong.stderr);

    let not_a_ca = world.dir.path().join("notes.txt");
    std::fs::write(&not_a_ca, "hello").unwrap();
    let unusable =
        world.run("carol", &["--ca-file", not_a_ca.to_str().unwrap(), "login", "carol"]).await;
    assert_eq!(unusable.code, 2, "{}", unusable.stderr);
    assert!(unusable.stderr.contains("notes.txt"), "{}", unusable.stderr);

    let plain_url = world.server.replace("https://", "http://");
    let plain_login = ["--server", &plain_url, "--ca-file", ca, "login", "carol", password];
    let plain = world.run("carol", &plain_login).await;
    assert_eq!(plain.code, 3, "plain http to the https port: {}", plain.stderr);

    let signed_in = world.run("carol", &["--ca-file", ca, "login", "carol", password]).await;
    assert_eq!(signed_in.code, 0, "{}", signed_in.stderr);
    // The session remembers the CA: the signaling socket (wss) and the REST calls use it.
    let parked = world.run("carol", &["--json", "parked", "--once"]).await;
    assert_eq!(parked.code, 0, "{}", parked.stderr);
    assert_eq!(parked.stdout.trim(), "[]");
    let policy = world.run("carol", &["--json", "policy", "get"]).await;
    assert_eq!(policy.code, 1, "signed in over https, refused as a non-admin: {}", policy.stderr);
    assert!(policy.stderr.contains("\"forbidden\""), "{}", policy.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_softphone_plays_a_file_and_the_other_records_it_and_exits_when_the_call_ends() {
    use callpark_client::audio::io::{FRAME_SAMPLES, SAMPLE_RATE};
    use callpark_client::audio::{
        AudioSink, AudioSource, ToneSource, WavSink, WavSource, tone_present,
    };
    use tokio::io::AsyncWriteExt;

    let world = World::start().await;
    world.login("bob").await;
    world.login("dave").await;
    let said = world.dir.path().join("said.wav");
    let heard = world.dir.path().join("heard.wav");
    {
        let mut file = WavSink::create(&said).unwrap();
        let mut tone = ToneSource::new(700.0, SAMPLE_RATE, 0.3);
        let mut frame = [0.0; FRAME_SAMPLES];
        for _ in 0..150 {
            tone.read_frame(&mut frame);
            file.write_frame(&frame);
        }
    }

    let heard_arg = heard.to_str().unwrap();
    // Bob's standard input stays open and silent, as a terminal nobody types in: his
    // softphone must still exit by itself when the call ends.
    let mut bob = world
        .command("bob", &["--json", "answer", "--timeout", "20", "--record", heard_arg])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let _bob_keyboard = bob.stdin.take().unwrap();
    let mut bob_says = says(&mut bob);
    first_json_line(&mut bob_says, "waiting").await;
    let mut dave = world
        .command("dave", &["--json", "call", "bob", "--play", said.to_str().unwrap()])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    first_json_line(&mut bob_says, "connected").await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let mut stdin = dave.stdin.take().unwrap();
    stdin.write_all(b"hangup\n").await.unwrap();
    let bob_done = tokio::time::timeout(Duration::from_secs(10), bob.wait()).await.unwrap();
    assert_eq!(bob_done.unwrap().code(), Some(0));
    let _ = tokio::time::timeout(Duration::from_secs(10), dave.wait()).await.unwrap();

    let mut recording = WavSource::open(&heard).unwrap();
    assert!(recording.duration_secs() > 2.0, "{} s recorded", recording.duration_secs());
    let mut samples = Vec::new();
    let mut frame = [0.0; FRAME_SAMPLES];
    while !recording.finished() {
        recording.read_frame(&mut frame);
        samples.extend_from_slice(&frame);
    }
    // The file starts when the call connects: its three seconds outlast the call.
    let call = &samples[SAMPLE_RATE as usize / 5..SAMPLE_RATE as usize * 2];
    assert!(tone_present(call, 700.0, SAMPLE_RATE, FRAME_SAMPLES, 0.9), "Dave's file is heard");

    let missing = world.run("dave", &["call", "bob", "--play", "/nonexistent/said.wav"]).await;
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains("/nonexistent/said.wav"), "{}", missing.stderr);
    let both = world.run("dave", &["call", "bob", "--tone", "440", "--play", "x.wav"]).await;
    assert_eq!(both.code, 2, "one source at a time: {}", both.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_ended_at_the_service_asks_to_sign_in_again_and_a_gone_service_says_so() {
    let world = World::start().await;
    world.login("carol").await;
    let listed = world.run("carol", &["--json", "parked", "--once"]).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert_eq!(listed.stdout.trim(), "[]");
    // The token ends at the service while this copy of the session file keeps it.
    let saved = std::fs::read(world.session("carol")).unwrap();
    assert_eq!(world.run("carol", &["logout"]).await.code, 0);
    std::fs::write(world.session("carol"), &saved).unwrap();
    for args in [&["people", "--once"][..], &["call", "bob"][..]] {
        let refused = world.run("carol", args).await;
        assert_eq!(refused.code, 3, "{args:?}: {}", refused.stderr);
        assert!(refused.stderr.contains("Sign in again"), "{args:?}: {}", refused.stderr);
    }
    // A service that is not there: the saved session points at a closed port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut session: Value = serde_json::from_slice(&saved).unwrap();
    session["server"] = Value::from(format!("http://{closed}"));
    std::fs::write(world.session("carol"), session.to_string()).unwrap();
    let mut command = world.command("carol", &["people", "--once"]);
    command.env_remove("CALLPARK_SERVER");
    let output =
        tokio::time::timeout(Duration::from_secs(30), command.output()).await.unwrap().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("Cannot reach the service"), "{stderr}");
}
