//! Calls through restarts of the real `callpark-server` binary (a child process on
//! 127.0.0.1, `kill -9` and SIGTERM): real clients (engine, session, media link
//! with tone audio, str0m, Opus) reconnect, resume and hear each other again, and
//! nobody hears `call_ended`.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::time::{Duration, Instant};

use callpark_client::intent::HangUp;
use callpark_client::{CallPhase, Connection};
use callpark_wire::{CallEndReason, Event};

mod common;

use common::server_process::ServerProcess;
use common::{Phone, WITHIN, calls_ended, connect, heard_steadily, longest_gap};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_call_goes_on_through_kill_9_and_sigterm_of_the_server() {
    let data = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(data.path()).await;
    let bob = Phone::sign_in(&server.service, "bob", 440.0).await;
    let carol = Phone::sign_in(&server.service, "carol", 660.0).await;
    let call = connect(&bob, &carol, "carol").await;
    let (mut bob_events, mut carol_events) = (bob.engine.events(), carol.engine.events());
    let heard = carol.listen(Instant::now() + Duration::from_millis(300), WITHIN / 20).await;
    assert!(common::blocks_with(&heard, 440.0, 0.7) > 0.8, "Carol hears Bob before any restart");

    for graceful in [false, true] {
        let way = if graceful { "SIGTERM" } else { "kill -9" };
        let stopped_at = Instant::now();
        server.stop(graceful);
        server.start_again();
        // Steady sound two seconds after the stop can only come over new peer
        // connections to the new process (the old one died with its media); waiting
        // for each phone to be seen offline and back would race with the watch
        // channel, which keeps only the latest state.
        let not_before = stopped_at + Duration::from_secs(2);
        let at_carol = heard_steadily(&carol.heard, (440.0, 0.7), not_before, WITHIN).await;
        let at_bob = heard_steadily(&bob.heard, (660.0, 0.7), not_before, WITHIN).await;
        let (_, carol_gap) = longest_gap(&carol.heard, (440.0, 0.7), stopped_at, at_carol).await;
        let (_, bob_gap) = longest_gap(&bob.heard, (660.0, 0.7), stopped_at, at_bob).await;
        eprintln!(
            "{way}: Bob's tone steadily back at Carol {:?} after the stop (longest gap \
             {carol_gap:?}); Carol's at Bob {:?} after (gap {bob_gap:?})",
            at_carol.duration_since(stopped_at),
            at_bob.duration_since(stopped_at),
        );
        assert_eq!(calls_ended(&mut bob_events), vec![], "{way}: Bob's call went on");
        assert_eq!(calls_ended(&mut carol_events), vec![], "{way}: Carol's call went on");
        for phone in [&bob, &carol] {
            phone
                .engine
                .wait_for(WITHIN, |view| view.connection == Connection::Online)
                .await
                .unwrap();
            let view = phone.engine.snapshots().borrow().clone();
            assert_eq!(view.calls.get(&call).map(|c| c.phase), Some(CallPhase::Connected));
            assert!(!view.calls[&call].peer_reconnecting, "{way}: {view:?}");
        }
    }
    // The call is the same call: hanging it up ends it at the other side.
    let ended = carol.event(|event| match event {
        Event::CallEnded { call, reason } => Some((*call, *reason)),
        _ => None,
    });
    bob.ask(HangUp { call }).await;
    assert_eq!(ended.await, (call, CallEndReason::PeerHungUp));
}
