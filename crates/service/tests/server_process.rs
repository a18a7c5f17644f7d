//! The `callpark-server` binary as a user starts it: `--demo` on a free port,
//! ready to sign in, and a clean exit on SIGTERM.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use callpark_wire::{CallRole, DeviceCall, Event, ReplyBody, ReplyResult, RequestBody, UserRef};
use serde_json::{Value, json};

mod common;
use common::Client;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_until_healthy(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(response) = reqwest::get(format!("{base}/healthz")).await
            && response.status().is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "callpark-server did not become healthy");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_server_starts_signs_users_in_and_stops_on_sigterm() {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let data = tempfile::tempdir().unwrap();
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_callpark-server"))
            .args(["--demo", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data.path())
            .env("CALLPARK_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_until_healthy(&base).await;

    let client = reqwest::Client::new();
    let login = |login: &str, password: &str| {
        client
            .post(format!("{base}/api/v1/login"))
            .json(&json!({"login": login, "password": password}))
            .send()
    };
    let ok: Value = login("alice", "alice-demo").await.unwrap().json().await.unwrap();
    assert_eq!(ok["token"].as_str().unwrap().len(), 64);
    assert_eq!(ok["admin"], true);
    assert_eq!(login("alice", "wrong-password").await.unwrap().status(), 401);

    let pid = server.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "callpark-server did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "exit after SIGTERM: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_settings_the_first_start_creates_an_admin_whose_password_is_in_the_data_dir() {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("callpark.toml");
    std::fs::write(&config, format!("listen = \"127.0.0.1:{port}\"\n")).unwrap();
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_callpark-server"))
            .arg("--config")
            .arg(&config)
            .current_dir(data.path())
            .env("CALLPARK_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_until_healthy(&base).await;
    // The default data directory is ./callpark-data.
    let password_file = data.path().join("callpark-data").join("initial-admin-password");
    let password = std::fs::read_to_string(&password_file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&password_file), 0o600, "only the owner may read the password");
        // The database holds password hashes and token digests: the service's user
        // alone may read it, its journal, or the directory.
        let data_dir = data.path().join("callpark-data");
        assert_eq!(mode(&data_dir), 0o700, "the data directory is the owner's");
        for file in ["callpark.db", "callpark.db-wal", "callpark.db-shm"] {
            assert_eq!(mode(&data_dir.join(file)), 0o600, "{file}");
        }
    }
    let reply: Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"login": "admin", "password": password.trim()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["admin"], true, "{reply}");
}

#[test]
fn a_bad_flag_is_refused_with_what_is_allowed() {
    let output = Command::new(env!("CARGO_BIN_EXE_callpark-server"))
        .args(["--test-clock-speedup", "0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--test-clock-speedup") && stderr.contains("1..=1000"), "{stderr}");
}

/// `callpark-server --demo` on `data`, on a free port; its base address.
async fn start_demo(data: &std::path::Path) -> (Server, String) {
    start_demo_at(data, &format!("127.0.0.1:{}", free_port())).await
}

/// `callpark-server --demo` on `data`, listening on `address`; its base address.
async fn start_demo_at(data: &std::path::Path, address: &str) -> (Server, String) {
    start_demo_with(data, address, &[]).await
}

/// Where the server's log goes: nowhere, or appended to `CALLPARK_TEST_SERVER_LOG`
/// (at `CALLPARK_TEST_SERVER_LOG_LEVEL`, default `warn`) when a failure needs it.
fn server_log() -> Stdio {
    match std::env::var_os("CALLPARK_TEST_SERVER_LOG") {
        Some(path) => {
            std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap().into()
        }
        None => Stdio::null(),
    }
}

/// [`start_demo_at`] with more flags.
async fn start_demo_with(
    data: &std::path::Path,
    address: &str,
    flags: &[&str],
) -> (Server, String) {
    let base = format!("http://{address}");
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_callpark-server"))
            .args(["--demo", "--listen", address])
            .args(flags)
            .arg("--data-dir")
            .arg(data)
            .env(
                "CALLPARK_LOG",
                std::env::var("CALLPARK_TEST_SERVER_LOG_LEVEL").unwrap_or("warn".into()),
            )
            .stdout(server_log())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_until_healthy(&base).await;
    (server, base)
}

/// GET `url` as the holder of `token`; the body as JSON.
async fn get_json(client: &reqwest::Client, url: &str, token: &str) -> Value {
    client.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

async fn token(client: &reqwest::Client, base: &str, login: &str, password: &str) -> String {
    let reply: Value = client
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    reply["token"].as_str().unwrap_or_else(|| panic!("no token: {reply}")).to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_users_id_token_and_voicemail_never_pass_to_a_new_account_even_after_kill_9() {
    use callpark_park::{CallId, Timestamp, UserId};
    use callpark_service::store::{NewVoicemail, Store};

    let data = tempfile::tempdir().unwrap();
    let (mut server, base) = start_demo(data.path()).await;
    let client = reqwest::Client::new();
    let alice = token(&client, &base, "alice", "alice-demo").await;
    let new_user = |login: &str| {
        client
            .post(format!("{base}/api/v1/users"))
            .bearer_auth(&alice)
            .json(&json!({"login": login, "display_name": login, "password": "a-long-password"}))
            .send()
    };
    // zed is the newest account: the highest id, which a derived "next id" reuses.
    let zed: Value = new_user("zed").await.unwrap().json().await.unwrap();
    let zed_id = zed["id"].as_u64().unwrap();
    let zed_token = token(&client, &base, "zed", "a-long-password").await;
    // A message for zed, as the recorder keeps one.
    let voicemail_dir = data.path().join("voicemail");
    std::fs::create_dir_all(&voicemail_dir).unwrap();
    std::fs::write(voicemail_dir.join("zed-message.ogg"), b"OggS").unwrap();
    let store = Store::open(data.path()).await.unwrap();
    store
        .save_voicemail(&NewVoicemail {
            owner: UserId(zed_id),
            caller_id: None,
            caller_name: Some("Someone".into()),
            call: CallId(1),
            recorded_at: Timestamp::from_millis(1),
            duration_ms: 1_000,
            file: "zed-message.ogg".into(),
        })
        .await
        .unwrap();
    store.close().await;
    let messages =
        |token: String| client.get(format!("{base}/api/v1/voicemail")).bearer_auth(token).send();
    let listed: Value = messages(zed_token.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    let removed =
        client.delete(format!("{base}/api/v1/users/zed")).bearer_auth(&alice).send().await.unwrap();
    assert_eq!(removed.status(), 204);
    // Killed the moment the removal is answered: what was answered is committed.
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    assert!(!voicemail_dir.join("zed-message.ogg").exists(), "zed's message went with zed");

    let (_server, base) = start_demo(data.path()).await;
    let alice = token(&client, &base, "alice", "alice-demo").await;
    let yan: Value = client
        .post(format!("{base}/api/v1/users"))
        .bearer_auth(&alice)
        .json(&json!({"login": "yan", "display_name": "Yan", "password": "a-long-password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(yan["id"].as_u64().unwrap() > zed_id, "ids are never given twice: {yan}");
    let old_token = client
        .get(format!("{base}/api/v1/voicemail"))
        .bearer_auth(&zed_token)
        .send()
        .await
        .unwrap();
    assert_eq!(old_token.status(), 401, "zed's token signs nobody in");
    let yan_token = token(&client, &base, "yan", "a-long-password").await;
    let listed = get_json(&client, &format!("{base}/api/v1/voicemail"), &yan_token).await;
    assert_eq!(listed, json!([]), "the new account has no one else's messages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_park_answered_just_before_kill_9_is_kept_and_its_call_id_never_names_another_call() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, base) = start_demo(data.path()).await;
    let client = reqwest::Client::new();
    let bob = token(&client, &base, "bob", "bob-demo").await;
    let dave = token(&client, &base, "dave", "dave-demo").await;
    let mut parked: Vec<(u64, u16)> = Vec::new();
    for round in 0..4 {
        let address = base.trim_start_matches("http://").to_owned();
        let (mut bob_phone, _) = Client::greeted(&address, &bob).await;
        // Every park answered before a kill is still parked, under its code.
        let mut events = Vec::new();
        let subscribed = bob_phone.ask(RequestBody::SubscribeParked, &mut events).await;
        assert_eq!(subscribed, ReplyResult::Ok(ReplyBody::Done));
        if events.is_empty() {
            events.push(bob_phone.event().await);
        }
        let Some(Event::ParkedList { calls, .. }) = events.pop() else { panic!("{events:?}") };
        let mut listed: Vec<(u64, u16)> = calls.iter().map(|p| (p.call, p.code)).collect();
        listed.sort_unstable();
        assert_eq!(listed, parked, "round {round}: the parks answered before the kills");
        if round == 3 {
            break;
        }
        let (mut dave_phone, _) = Client::greeted(&address, &dave).await;
        let call = dave_phone.call_answered_by(&mut bob_phone, "bob").await;
        assert!(
            parked.iter().all(|&(earlier, _)| call > earlier),
            "round {round}: call id {call} was given before ({parked:?})"
        );
        let reply = bob_phone.ask(RequestBody::Park { call }, &mut Vec::new()).await;
        // Killed the moment the code arrives.
        server.0.kill().unwrap();
        server.0.wait().unwrap();
        let ReplyResult::Ok(ReplyBody::Parked { code, .. }) = reply else { panic!("{reply:?}") };
        assert!(parked.iter().all(|&(_, earlier)| code != earlier), "code {code} given twice");
        parked.push((call, code));
        (server, _) = start_demo_at(data.path(), &address).await;
    }
    let alice = token(&client, &base, "alice", "alice-demo").await;
    let lost = get_json(&client, &format!("{base}/api/v1/audit?kind=lost"), &alice).await;
    assert_eq!(lost, json!([]), "no park was lost");
    drop(server);
}

/// Stops the server: `kill -9`, or SIGTERM and a wait for its exit.
async fn stop_server(server: &mut Server, graceful: bool) {
    if graceful {
        let pid = server.0.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let deadline = Instant::now() + Duration::from_secs(15);
        while server.0.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "callpark-server did not stop on SIGTERM");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    } else {
        server.0.kill().unwrap();
        server.0.wait().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parked_calls_keep_their_codes_through_kill_9_and_sigterm_which_says_it_is_restarting() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, base) = start_demo(data.path()).await;
    let address = base.trim_start_matches("http://").to_owned();
    let client = reqwest::Client::new();
    let bob = token(&client, &base, "bob", "bob-demo").await;
    let carol = token(&client, &base, "carol", "carol-demo").await;
    let dave = token(&client, &base, "dave", "dave-demo").await;
    for graceful in [false, true] {
        let (mut bob_phone, _) = Client::greeted(&address, &bob).await;
        let (mut dave_phone, welcome, _) = Client::resuming(&address, &dave, None).await;
        let call = dave_phone.call_answered_by(&mut bob_phone, "bob").await;
        let reply = bob_phone.ask(RequestBody::Park { call }, &mut Vec::new()).await;
        let ReplyResult::Ok(ReplyBody::Parked { code, .. }) = reply else { panic!("{reply:?}") };
        stop_server(&mut server, graceful).await;
        if graceful {
            // Told, not reset: both devices read that the service is restarting.
            for phone in [&mut dave_phone, &mut bob_phone] {
                let (code, reason) = phone.close_frame().await.expect("a close frame");
                assert_eq!(code, callpark_wire::CLOSE_RESTARTING, "{reason}");
                assert!(reason.contains("restarting"), "{reason}");
            }
        }
        dave_phone.break_off();
        (server, _) = start_demo_at(data.path(), &address).await;

        // Dave's device comes back with its token: the same device, on hold.
        let (mut dave_phone, back, _) =
            Client::resuming(&address, &dave, Some(welcome.resume.clone())).await;
        assert!(back.resumed, "graceful {graceful}: {back:?}");
        assert_eq!(back.device, welcome.device);
        assert_eq!(
            back.calls,
            [DeviceCall {
                call,
                role: CallRole::OnHold,
                peer: Some(UserRef { id: 2, name: "Bob Okafor".into() }),
                code: None,
                peer_reconnecting: false
            }],
            "graceful {graceful}"
        );
        // The same code picks up the same caller.
        let (mut carol_phone, _) = Client::greeted(&address, &carol).await;
        let picked = carol_phone
            .ask(RequestBody::Retrieve { code: code.to_string() }, &mut Vec::new())
            .await;
        assert!(
            matches!(&picked, ReplyResult::Ok(ReplyBody::Retrieved { call: c, caller, .. })
                if *c == call && caller.name.starts_with("Dave")),
            "graceful {graceful}: {picked:?}"
        );
        let connected = dave_phone.event().await;
        assert!(
            matches!(&connected, Event::Connected { peer, .. } if peer.name.starts_with("Carol")),
            "{connected:?}"
        );
        let hung_up = carol_phone.ask(RequestBody::Hangup { call }, &mut Vec::new()).await;
        assert_eq!(hung_up, ReplyResult::Ok(ReplyBody::Done));
    }
    drop(server);
}

/// What the clients of the crash loop were answered.
#[derive(Debug, Default)]
struct Answered {
    dialed: Vec<u64>,
    parked: Vec<(u64, u16)>,
}

/// Dave calls Bob, Bob parks, Carol picks up and hangs up, over and over, keeping
/// every call id and code the service gave, until the service is killed (the test
/// client then panics, which ends this task).
async fn park_and_retrieve_until_killed(
    address: String,
    [bob, carol, dave]: [String; 3],
    answered: std::sync::Arc<std::sync::Mutex<Answered>>,
) {
    let (mut bob, _) = Client::greeted(&address, &bob).await;
    let (mut carol, _) = Client::greeted(&address, &carol).await;
    let (mut dave, _) = Client::greeted(&address, &dave).await;
    let mut events = Vec::new();
    loop {
        let dialed = dave.ask(RequestBody::Dial { to: "bob".into() }, &mut events).await;
        let ReplyResult::Ok(ReplyBody::Dialing { call }) = dialed else { return };
        answered.lock().unwrap().dialed.push(call);
        bob.ask(RequestBody::Answer { call }, &mut events).await;
        let parked = bob.ask(RequestBody::Park { call }, &mut events).await;
        let ReplyResult::Ok(ReplyBody::Parked { code, .. }) = parked else { return };
        answered.lock().unwrap().parked.push((call, code));
        carol.ask(RequestBody::Retrieve { code: code.to_string() }, &mut events).await;
        carol.ask(RequestBody::Hangup { call }, &mut events).await;
        events.clear();
    }
}

/// Every audit line, oldest first.
async fn whole_audit(client: &reqwest::Client, base: &str, admin: &str) -> Vec<Value> {
    let mut lines = Vec::new();
    let mut url = format!("{base}/api/v1/audit");
    loop {
        let page = get_json(client, &url, admin).await;
        let page = page.as_array().unwrap().clone();
        let Some(oldest) = page.last().map(|line| line["id"].as_i64().unwrap()) else { break };
        lines.extend(page);
        url = format!("{base}/api/v1/audit?before={oldest}");
    }
    lines.reverse();
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_kill_9s_under_park_and_retrieve_load_lose_no_acknowledged_park() {
    const ROUNDS: u64 = 100;
    // Callers who never come back (their clients die with each round) end their
    // parks after 10 s, so that 100 rounds never run out of codes.
    let flags = ["--parked-caller-grace-seconds", "10"];
    let data = tempfile::tempdir().unwrap();
    let address = format!("127.0.0.1:{}", free_port());
    let (mut server, base) = start_demo_with(data.path(), &address, &flags).await;
    let client = reqwest::Client::new();
    let tokens = [
        token(&client, &base, "bob", "bob-demo").await,
        token(&client, &base, "carol", "carol-demo").await,
        token(&client, &base, "dave", "dave-demo").await,
    ];
    let answered = std::sync::Arc::new(std::sync::Mutex::new(Answered::default()));
    let started = Instant::now();
    for round in 0..ROUNDS {
        let load = tokio::spawn(park_and_retrieve_until_killed(
            address.clone(),
            tokens.clone(),
            answered.clone(),
        ));
        // Killed at a different moment of the load each round (0-90 ms in).
        tokio::time::sleep(Duration::from_millis(round * 37 % 91)).await;
        server.0.kill().unwrap();
        server.0.wait().unwrap();
        let _ = load.await;
        (server, _) = start_demo_with(data.path(), &address, &flags).await;
        assert!(started.elapsed() < Duration::from_secs(240), "round {round}: too slow");
    }
    let answered = std::mem::take(&mut *answered.lock().unwrap());
    eprintln!(
        "{ROUNDS} kill -9 rounds in {:?}: {} calls dialed, {} parks answered",
        started.elapsed(),
        answered.dialed.len(),
        answered.parked.len()
    );
    assert!(answered.parked.len() >= ROUNDS as usize / 2, "the load hardly ran: {answered:?}");

    // No call id was given twice.
    let mut dialed = answered.dialed.clone();
    dialed.sort_unstable();
    dialed.dedup();
    assert_eq!(dialed.len(), answered.dialed.len(), "a call id was given twice");

    // Every park answered is recorded under its code, and is either still parked
    // or ended in the audit log (retrieved, the caller left, lost): never silently gone.
    let alice = token(&client, &base, "alice", "alice-demo").await;
    let audit = whole_audit(&client, &base, &alice).await;
    let (mut bob_phone, _) = Client::greeted(&address, &tokens[0]).await;
    let mut events = Vec::new();
    bob_phone.ask(RequestBody::SubscribeParked, &mut events).await;
    if events.is_empty() {
        events.push(bob_phone.event().await);
    }
    let Some(Event::ParkedList { calls: still_parked, .. }) = events.pop() else {
        panic!("{events:?}")
    };
    let parked_lines: std::collections::HashMap<u64, &Value> = audit
        .iter()
        .filter(|line| line["kind"] == "parked")
        .map(|line| (line["call"].as_u64().unwrap(), line))
        .collect();
    let ends = ["retrieved", "ringback_answered", "fell_back", "caller_left", "lost"];
    let ended: std::collections::HashMap<u64, u64> = audit
        .iter()
        .filter(|line| ends.contains(&line["kind"].as_str().unwrap()))
        .map(|line| (line["call"].as_u64().unwrap(), line["at_ms"].as_u64().unwrap()))
        .collect();
    for &(call, code) in &answered.parked {
        let line =
            parked_lines.get(&call).unwrap_or_else(|| panic!("park of call {call} not kept"));
        assert_eq!(line["code"], code, "call {call}");
        let listed = still_parked.iter().any(|park| park.call == call && park.code == code);
        assert!(listed || ended.contains_key(&call), "call {call} (code {code}) silently gone");
    }
    // Every park the service recorded, answered or not, is accounted for too, and
    // no code was held by two parks at once.
    let mut by_code: std::collections::BTreeMap<u64, Vec<(u64, u64)>> = Default::default();
    for (call, line) in &parked_lines {
        let listed = still_parked.iter().any(|park| park.call == *call);
        let end = match ended.get(call) {
            Some(&at) => at,
            None if listed => u64::MAX,
            None => panic!("call {call} was parked and then silently gone: {line}"),
        };
        let start = line["at_ms"].as_u64().unwrap();
        by_code.entry(line["code"].as_u64().unwrap()).or_default().push((start, end));
    }
    for (code, mut spans) in by_code {
        spans.sort_unstable();
        for pair in spans.windows(2) {
            assert!(pair[1].0 >= pair[0].1, "code {code} given while still held: {spans:?}");
        }
    }
    drop(server);
}
