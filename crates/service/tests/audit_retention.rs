//! Old audit lines are deleted, the newest always kept, on a real SQLite store.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use callpark_park::{CallId, Timestamp};
use callpark_service::store::{AuditQuery, AuditRow, Store, Write};

fn line(at_ms: u64, call: u64) -> Write {
    Write::Audit(AuditRow {
        at: Timestamp::from_millis(at_ms),
        kind: "parked",
        detail: None,
        user_login: Some("alice".into()),
        policy: Some("Global".into()),
        call: Some(CallId(call)),
        code: Some(10),
    })
}

async fn calls_kept(store: &Store) -> Vec<u64> {
    let query = AuditQuery { limit: 100_000, ..AuditQuery::default() };
    let mut calls: Vec<u64> =
        store.audit(&query).await.unwrap().iter().filter_map(|entry| entry.call).collect();
    calls.sort_unstable();
    calls
}

#[tokio::test]
async fn lines_older_than_the_retention_go_in_chunks_and_the_newest_stays() {
    let data = tempfile::tempdir().unwrap();
    let store = Store::open(data.path()).await.unwrap();
    // 25,000 old lines (more than one chunk), then 3 recent ones.
    let old: Vec<Write> = (1..=25_000).map(|n| line(1_000 + n, n)).collect();
    for batch in old.chunks(5_000) {
        store.apply(batch).await.unwrap();
    }
    store
        .apply(&[line(900_000, 25_001), line(900_001, 25_002), line(900_002, 25_003)])
        .await
        .unwrap();

    let deleted = store.prune_audit(Timestamp::from_millis(500_000)).await.unwrap();
    assert_eq!(deleted, 25_000);
    assert_eq!(calls_kept(&store).await, vec![25_001, 25_002, 25_003]);

    // Everything is old now: the newest line stays, so the last call id is known.
    let deleted = store.prune_audit(Timestamp::from_millis(10_000_000)).await.unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(calls_kept(&store).await, vec![25_003]);
    assert_eq!(store.last_audited_call().await.unwrap(), Some(25_003));
    store.close().await;
}
