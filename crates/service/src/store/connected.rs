//! The `connected_calls` table: calls connected between two devices, kept so that
//! they go on after a restart when both devices come back.

use std::collections::HashMap;

use callpark_park::{CallId, DeviceId, UserId};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::{ROWS_PER_STATEMENT, StoreError, delete_calls, from_sql, sql_int};

/// One side of a kept call: the user, their device, and the digest of the device's
/// resume token (by which it comes back after a restart).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallSide {
    pub user: UserId,
    pub device: DeviceId,
    pub resume_digest: Option<String>,
}

/// A connected call as the store keeps it. `a` called, `b` answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectedRow {
    pub call: CallId,
    pub a: CallSide,
    pub b: CallSide,
}

/// The net effect of a batch on one call: keep this row, or forget the call.
pub(super) type ConnectedChanges<'a> = HashMap<CallId, Option<&'a ConnectedRow>>;

pub(super) async fn write_connected(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    changes: ConnectedChanges<'_>,
) -> Result<(), StoreError> {
    let (kept, forgotten): (Vec<_>, Vec<_>) =
        changes.into_iter().partition(|(_, row)| row.is_some());
    let forgotten: Vec<CallId> = forgotten.into_iter().map(|(call, _)| call).collect();
    delete_calls(tx, "connected_calls", &forgotten).await?;
    let kept: Vec<&ConnectedRow> = kept.into_iter().filter_map(|(_, row)| row).collect();
    for chunk in kept.chunks(ROWS_PER_STATEMENT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT OR REPLACE INTO connected_calls (call_id, a_user, a_device, \
             a_resume_digest, b_user, b_device, b_resume_digest) ",
        );
        insert.push_values(chunk, |mut values, row| {
            values.push_bind(sql_int(row.call.0));
            for side in [&row.a, &row.b] {
                values
                    .push_bind(sql_int(side.user.0))
                    .push_bind(sql_int(side.device.0))
                    .push_bind(side.resume_digest.clone());
            }
        });
        insert.build().execute(&mut **tx).await?;
    }
    Ok(())
}

pub(super) async fn read_connected(pool: &SqlitePool) -> Result<Vec<ConnectedRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT call_id, a_user, a_device, a_resume_digest, b_user, b_device, b_resume_digest \
         FROM connected_calls ORDER BY call_id",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let side = |prefix: &str| -> Result<CallSide, StoreError> {
                let user: i64 = row.try_get(format!("{prefix}_user").as_str())?;
                let device: i64 = row.try_get(format!("{prefix}_device").as_str())?;
                Ok(CallSide {
                    user: UserId(from_sql(user, "user")?),
                    device: DeviceId(from_sql(device, "device")?),
                    resume_digest: row.try_get(format!("{prefix}_resume_digest").as_str())?,
                })
            };
            let call: i64 = row.try_get("call_id")?;
            Ok(ConnectedRow { call: CallId(from_sql(call, "call")?), a: side("a")?, b: side("b")? })
        })
        .collect()
}
