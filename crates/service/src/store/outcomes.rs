//! The `park_outcomes` table: how each park ended, until its parker acknowledges it.

use std::collections::HashMap;

use callpark_park::{CallId, ParkEndRecord, ParkOutcome, Timestamp, UnansweredAction, UserId};
use sqlx::{QueryBuilder, Row, Sqlite};

use super::{ROWS_PER_STATEMENT, StoreError, from_sql, sql_int};

/// What the net effect of a batch does to one (parker, call) outcome: keep this
/// record, or forget it.
pub(super) type OutcomeChanges = HashMap<(UserId, CallId), Option<ParkEndRecord>>;

fn outcome_columns(outcome: ParkOutcome) -> (&'static str, Option<UserId>) {
    match outcome {
        ParkOutcome::Retrieved { by } => ("retrieved", Some(by)),
        ParkOutcome::RingbackAnswered => ("ringback_answered", None),
        ParkOutcome::CallerLeft => ("caller_left", None),
        ParkOutcome::FellBack(UnansweredAction::Voicemail) => ("voicemail", None),
        ParkOutcome::FellBack(UnansweredAction::Forward(to)) => ("forwarded", Some(to)),
        ParkOutcome::FellBack(UnansweredAction::Disconnect) => ("disconnected", None),
        ParkOutcome::Lost => ("lost", None),
    }
}

fn outcome_from_columns(kind: &str, by: Option<UserId>) -> Result<ParkOutcome, StoreError> {
    Ok(match (kind, by) {
        ("retrieved", Some(by)) => ParkOutcome::Retrieved { by },
        ("ringback_answered", _) => ParkOutcome::RingbackAnswered,
        ("caller_left", _) => ParkOutcome::CallerLeft,
        ("voicemail", _) => ParkOutcome::FellBack(UnansweredAction::Voicemail),
        ("forwarded", Some(to)) => ParkOutcome::FellBack(UnansweredAction::Forward(to)),
        ("disconnected", _) => ParkOutcome::FellBack(UnansweredAction::Disconnect),
        ("lost", _) => ParkOutcome::Lost,
        (other, by) => {
            return Err(StoreError::Corrupt(format!("park outcome {other:?} by {by:?}")));
        }
    })
}

pub(super) async fn write_outcomes(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    changes: OutcomeChanges,
) -> Result<(), StoreError> {
    let (kept, forgotten): (Vec<_>, Vec<_>) =
        changes.into_iter().partition(|(_, record)| record.is_some());
    for chunk in forgotten.chunks(ROWS_PER_STATEMENT) {
        // Terms joined by OR, each a primary-key lookup: SQLite scans the whole
        // table for `(parked_by, call_id) IN (VALUES ...)`.
        let mut delete = QueryBuilder::<Sqlite>::new("DELETE FROM park_outcomes WHERE ");
        let mut terms = delete.separated(" OR ");
        for ((parked_by, call), _) in chunk {
            terms
                .push("(parked_by = ")
                .push_bind_unseparated(sql_int(parked_by.0))
                .push_unseparated(" AND call_id = ")
                .push_bind_unseparated(sql_int(call.0))
                .push_unseparated(")");
        }
        delete.build().execute(&mut **tx).await?;
    }
    let kept: Vec<ParkEndRecord> = kept.into_iter().filter_map(|(_, record)| record).collect();
    for chunk in kept.chunks(ROWS_PER_STATEMENT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT OR REPLACE INTO park_outcomes \
             (parked_by, call_id, code, caller, outcome, by_user, ended_at_ms) ",
        );
        insert.push_values(chunk, |mut values, record| {
            let (kind, by) = outcome_columns(record.outcome);
            values
                .push_bind(sql_int(record.parked_by.0))
                .push_bind(sql_int(record.call.0))
                .push_bind(i64::from(record.code))
                .push_bind(sql_int(record.caller.0))
                .push_bind(kind)
                .push_bind(by.map(|by| sql_int(by.0)))
                .push_bind(sql_int(record.ended_at.as_millis()));
        });
        insert.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Every kept outcome, oldest first.
pub(super) async fn read_outcomes(
    pool: &sqlx::SqlitePool,
) -> Result<Vec<ParkEndRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT parked_by, call_id, code, caller, outcome, by_user, ended_at_ms \
         FROM park_outcomes ORDER BY ended_at_ms, call_id",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let by: Option<i64> = row.try_get("by_user")?;
            let by = by.map(|by| from_sql(by, "user").map(UserId)).transpose()?;
            let kind: String = row.try_get("outcome")?;
            Ok(ParkEndRecord {
                call: CallId(from_sql(row.try_get("call_id")?, "call")?),
                code: from_sql(row.try_get("code")?, "code")?,
                caller: UserId(from_sql(row.try_get("caller")?, "caller")?),
                parked_by: UserId(from_sql(row.try_get("parked_by")?, "parker")?),
                outcome: outcome_from_columns(&kind, by)?,
                ended_at: Timestamp::from_millis(from_sql(row.try_get("ended_at_ms")?, "time")?),
            })
        })
        .collect()
}
