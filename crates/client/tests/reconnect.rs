//! Calls ride out signaling drops: real clients (engine, session, media link with
//! tone audio) whose signaling goes through a TCP relay the test cuts, to a real
//! service in process and to the real `callpark-server` binary as a child process.
//! The call must go on, audio must come back at both ends, and nobody may hear
//! `call_ended`.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::time::{Duration, Instant};

use callpark_client::intent::{Park, Retrieve};
use callpark_client::{CallPhase, Connection, ServiceAddress};
use callpark_service::hold_music::SIGNATURE_HZ;
use callpark_wire::Event;

mod common;

use common::relay::Relay;
use common::server_process::ServerProcess;
use common::{Phone, WITHIN, calls_ended, connect, heard_steadily, longest_gap, service_listening};

/// Where the service runs: in this process, or as the server binary.
#[derive(Clone, Copy, Debug)]
enum Host {
    InProcess,
    Process,
}

/// What keeps a service alive: its data directory, and its process.
struct Running {
    _data: tempfile::TempDir,
    _process: Option<ServerProcess>,
}

/// A service, and the same service through a relay.
async fn service_and_relay(host: Host) -> (ServiceAddress, ServiceAddress, Relay, Running) {
    let (direct, socket, running) = match host {
        Host::InProcess => {
            let (direct, socket, data, _media) = service_listening().await;
            (direct, socket, Running { _data: data, _process: None })
        }
        Host::Process => {
            let data = tempfile::tempdir().unwrap();
            let process = ServerProcess::start(data.path()).await;
            let socket = process.address.parse().unwrap();
            (process.service.clone(), socket, Running { _data: data, _process: Some(process) })
        }
    };
    let relay = Relay::start(socket).await;
    let relayed = ServiceAddress::parse(&format!("http://{}", relay.address)).unwrap();
    (direct, relayed, relay, running)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_call_rides_out_signaling_drops_of_250_ms_2_s_and_20_s() {
    connected_call_through_drops(Host::InProcess).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_call_rides_out_signaling_drops_to_the_server_process() {
    connected_call_through_drops(Host::Process).await;
}

async fn connected_call_through_drops(host: Host) {
    let (direct, relayed, relay, _running) = service_and_relay(host).await;
    let bob = Phone::sign_in(&relayed, "bob", 440.0).await;
    let carol = Phone::sign_in(&direct, "carol", 660.0).await;
    let call = connect(&bob, &carol, "carol").await;
    let (mut bob_events, mut carol_events) = (bob.engine.events(), carol.engine.events());
    let talking = Instant::now() + Duration::from_millis(300);
    let heard = carol.listen(talking, Duration::from_millis(600)).await;
    assert!(common::blocks_with(&heard, 440.0, 0.7) > 0.8, "Carol hears Bob before any drop");

    for drop in [Duration::from_millis(250), Duration::from_secs(2), Duration::from_secs(20)] {
        let reconnecting = carol.event(move |event| {
            matches!(event, Event::PeerReconnecting { call: c, peer } if *c == call && peer.name.starts_with("Bob"))
                .then_some(())
        });
        let back = carol.event_within(drop + WITHIN, move |event| {
            matches!(event, Event::PeerReconnected { call: c, .. } if *c == call).then_some(())
        });
        let cut_at = Instant::now();
        relay.cut(drop);
        reconnecting.await;
        back.await;
        // The audio gap is the longest stretch without the other's tone from the cut
        // until it is heard steadily again, at least a second after Bob is back (the
        // media path may ride out the drop, and the new peer connection after it may
        // leave a gap of its own, later on a busy machine).
        let not_before = Instant::now() + Duration::from_secs(1);
        let at_carol = heard_steadily(&carol.heard, (440.0, 0.7), not_before, WITHIN).await;
        let at_bob = heard_steadily(&bob.heard, (660.0, 0.7), not_before, WITHIN).await;
        let (carol_gap_end, carol_gap) =
            longest_gap(&carol.heard, (440.0, 0.7), cut_at, at_carol).await;
        let (bob_gap_end, bob_gap) = longest_gap(&bob.heard, (660.0, 0.7), cut_at, at_bob).await;
        eprintln!(
            "{host:?}, signaling drop of {drop:?}: longest gap in Bob's tone at Carol \
             {carol_gap:?}, ending {:?} after the cut; in Carol's at Bob {bob_gap:?}, ending \
             {:?} after",
            carol_gap_end.duration_since(cut_at),
            bob_gap_end.duration_since(cut_at),
        );
        assert_eq!(calls_ended(&mut bob_events), vec![], "Bob's call went on");
        assert_eq!(calls_ended(&mut carol_events), vec![], "Carol's call went on");
        for phone in [&bob, &carol] {
            let view = phone.engine.snapshots().borrow().clone();
            assert_eq!(view.calls.get(&call).map(|c| c.phase), Some(CallPhase::Connected));
            assert!(!view.calls[&call].peer_reconnecting, "{view:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parked_caller_who_drops_for_250_ms_2_s_and_20_s_is_still_parked_hears_hold_music_and_is_retrieved()
 {
    parked_caller_through_drops(Host::InProcess).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parked_caller_rides_out_signaling_drops_to_the_server_process() {
    parked_caller_through_drops(Host::Process).await;
}

async fn parked_caller_through_drops(host: Host) {
    let (direct, relayed, relay, _running) = service_and_relay(host).await;
    let dave = Phone::sign_in(&relayed, "dave", 880.0).await;
    let bob = Phone::sign_in(&direct, "bob", 440.0).await;
    let carol = Phone::sign_in(&direct, "carol", 660.0).await;
    let call = connect(&dave, &bob, "bob").await;
    let code = bob.ask(Park { call }).await.code;
    let mut dave_events = dave.engine.events();
    let on_hold = dave.listen(Instant::now() + Duration::from_millis(300), WITHIN / 10).await;
    assert!(common::blocks_with(&on_hold, SIGNATURE_HZ, 0.05) > 0.8, "hold music before the drop");

    for drop in [Duration::from_millis(250), Duration::from_secs(2), Duration::from_secs(20)] {
        let cut_at = Instant::now();
        relay.cut(drop);
        let mut snapshots = dave.engine.snapshots();
        let online_again = async {
            snapshots.wait_for(|view| view.connection != Connection::Online).await.unwrap();
            snapshots.wait_for(|view| view.connection == Connection::Online).await.unwrap();
        };
        tokio::time::timeout(drop + Duration::from_secs(10), online_again)
            .await
            .expect("Dave's device is back within 10 s of the link");
        let back_at = Instant::now();
        let music = (SIGNATURE_HZ, 0.05);
        let steady =
            heard_steadily(&dave.heard, music, back_at + Duration::from_secs(1), WITHIN).await;
        let (gap_end, gap) = longest_gap(&dave.heard, music, cut_at, steady).await;
        eprintln!(
            "{host:?}, parked caller dropped for {drop:?}: back {:?} after the cut; longest hold-music \
             gap {gap:?}, ending {:?} after the cut",
            back_at.duration_since(cut_at),
            gap_end.duration_since(cut_at)
        );
    }
    let view = dave.engine.snapshots().borrow().clone();
    assert_eq!(view.calls.get(&call).map(|c| c.phase), Some(CallPhase::OnHold), "{view:?}");

    let retrieved = carol.ask(Retrieve { code: code.to_string() }).await;
    assert_eq!(retrieved.call, call, "the same code picks up the same caller");
    let picked_up = Instant::now() + Duration::from_millis(300);
    let talking = carol.listen(picked_up, Duration::from_millis(800)).await;
    let voice = common::blocks_with(&talking, 880.0, 0.7);
    assert!(voice > 0.8, "Carol hears Dave's tone in {voice:.2} of blocks");
    assert_eq!(calls_ended(&mut dave_events), vec![], "Dave's call never ended");
}
