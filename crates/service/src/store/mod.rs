//! The durable store: SQLite through sqlx, with the schema in `migrations/`.
//!
//! The exchange keeps the tenant in memory; the store holds the copy that survives a
//! restart. All writes go through one writer task ([`StoreWriter`]) in the order the
//! exchange made them, batched into one transaction per burst.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use callpark_park::{
    CallId, DeviceId, GroupId, ParkEndRecord, Policy, PolicyIdentity, Timestamp, UnansweredAction,
    UserId,
};
use callpark_wire::admin::{AuditEntry, VoicemailEntry};

use crate::accounts::Session;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use tokio::sync::{mpsc, oneshot};

/// Audit lines deleted per transaction when pruning.
const AUDIT_PRUNE_CHUNK: i64 = 10_000;
/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "callpark.db";
/// The `counters` row of the call id reservation.
const CALL_IDS_RESERVED: &str = "call_ids_reserved_through";

/// Most writes one transaction takes.
const WRITE_BATCH: usize = 1024;

/// How long the writer waits for the rest of a step it has the start of.
const STEP_WAIT: Duration = Duration::from_millis(20);
/// Rows per multi-row statement: 7 bound values each, well under SQLite's limit.
const ROWS_PER_STATEMENT: usize = 128;

mod connected;
mod outcomes;

pub use connected::{CallSide, ConnectedRow};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot prepare the data directory {path}: {source}")]
    DataDirectory { path: PathBuf, source: std::io::Error },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot upgrade the database schema: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("the database holds a value this version cannot read: {0}")]
    Corrupt(String),
    #[error("the store writer has stopped")]
    WriterStopped,
}

/// An account as stored: sign-in data and the user's call settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRow {
    pub id: UserId,
    pub login: String,
    pub display_name: String,
    pub password_hash: String,
    pub admin: bool,
    pub enterprise_voice: bool,
    pub unanswered: UnansweredAction,
    pub unanswered_delay_seconds: u32,
    /// The policy granted directly, by identity.
    pub policy: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRow {
    pub id: GroupId,
    pub name: String,
    pub members: Vec<UserId>,
}

/// The whole tenant directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantSnapshot {
    pub users: Vec<UserRow>,
    pub groups: Vec<GroupRow>,
    /// In creation order, `Global` first.
    pub policies: Vec<Policy>,
    /// Group assignments in rank order (rank 1 first), policy by identity.
    pub group_grants: Vec<(GroupId, String)>,
    pub tenant_default: String,
    /// The ids the next new user and group get: never one given before.
    pub next_user_id: u64,
    pub next_group_id: u64,
}

/// A parked call as the registry keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParkRow {
    pub call: CallId,
    pub policy: String,
    pub code: u16,
    pub caller: UserId,
    pub parked_by: UserId,
    pub parked_at: Timestamp,
    /// When it rings back; for a lost park, when it was found lost.
    pub ringback_at: Timestamp,
    /// The caller's device and the digest of its resume token, by which it comes
    /// back after a restart (none in lost parks and rows from before they were kept).
    pub caller_device: Option<(DeviceId, String)>,
}

/// One line for the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    pub at: Timestamp,
    pub kind: &'static str,
    pub detail: Option<String>,
    pub user_login: Option<String>,
    pub policy: Option<String>,
    pub call: Option<CallId>,
    pub code: Option<u16>,
}

/// Which audit lines to read: newest first, at most `limit`, older than `before`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub limit: u32,
    pub before: Option<i64>,
    pub kind: Option<String>,
    pub policy: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    Tenant(Box<TenantSnapshot>),
    SaveParked(ParkRow),
    /// The call left park: its parked row goes, and how it ended is kept.
    ParkEnded(ParkEndRecord),
    /// The parker acknowledged how this park ended (or newer ones pushed it out).
    ForgetParkOutcome {
        parked_by: UserId,
        call: CallId,
    },
    Audit(AuditRow),
    /// Two devices are connected: the call goes on after a restart.
    SaveConnected(ConnectedRow),
    /// The call is no longer connected.
    ForgetConnected(CallId),
    /// Call ids up to this one may be in use: a restart starts above it.
    ReserveCallIds(CallId),
    /// A sign-in: the token's digest and whose it is until when.
    SaveSession {
        digest: String,
        session: Session,
    },
    /// A user's sessions end (removed, or signed out by an admin).
    RevokeSessions(UserId),
    /// One session ends (logout).
    RevokeSession(String),
    /// Nothing: confirming it tells that every earlier write is committed.
    Flush,
}

/// The database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

fn sql_int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn from_sql<T: TryFrom<i64>>(value: i64, what: &str) -> Result<T, StoreError> {
    T::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value}")))
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir` and brings its schema
    /// up to date.
    pub async fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let failed = |source| StoreError::DataDirectory { path: data_dir.to_owned(), source };
        crate::private_files::create_dir(data_dir).map_err(failed)?;
        let database = data_dir.join(DATABASE_FILE);
        crate::private_files::prepare(&database).map_err(failed)?;
        for companion in ["-wal", "-shm"] {
            let mut path = database.clone().into_os_string();
            path.push(companion);
            crate::private_files::restrict(std::path::Path::new(&path)).map_err(failed)?;
        }
        let options = SqliteConnectOptions::new()
            .filename(data_dir.join(DATABASE_FILE))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL loses at most the last transactions on power loss, never
            // consistency; FULL would fsync on every park.
            .synchronous(SqliteSynchronous::Normal)
            // A checkpoint inside a commit (SQLite's default, every 1,000 pages) holds
            // that commit, and every reply waiting on it, for the checkpoint's fsync:
            // the p99 of park -> code was 4 ms at 1,000 parks/s. `checkpoint` runs
            // them beside the writer instead.
            .pragma("wal_autocheckpoint", "0")
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool })
    }

    /// Copies what the write-ahead log holds into the database without waiting for
    /// writers or readers (a passive checkpoint); the writer goes on meanwhile.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The stored tenant, or `None` for a new database.
    pub async fn load_tenant(&self) -> Result<Option<TenantSnapshot>, StoreError> {
        let Some(tenant) = sqlx::query(
            "SELECT default_policy, next_user_id, next_group_id FROM tenant WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let tenant_default: String = tenant.try_get("default_policy")?;
        // Past every id the database still names anywhere, whatever was kept: a
        // database from before the ids were kept has only these to go by.
        let highest_user: i64 = sqlx::query_scalar(
            "SELECT MAX(id) FROM (SELECT MAX(id) AS id FROM users \
             UNION ALL SELECT MAX(user_id) FROM sessions \
             UNION ALL SELECT MAX(owner_id) FROM voicemails \
             UNION ALL SELECT MAX(caller_id) FROM voicemails \
             UNION ALL SELECT MAX(user_id) FROM group_members \
             UNION ALL SELECT MAX(caller) FROM parked_calls \
             UNION ALL SELECT MAX(parked_by) FROM parked_calls \
             UNION ALL SELECT MAX(caller) FROM lost_parks \
             UNION ALL SELECT MAX(parked_by) FROM lost_parks \
             UNION ALL SELECT MAX(caller) FROM park_outcomes \
             UNION ALL SELECT MAX(parked_by) FROM park_outcomes \
             UNION ALL SELECT MAX(by_user) FROM park_outcomes)",
        )
        .fetch_one(&self.pool)
        .await
        .map(|highest: Option<i64>| highest.unwrap_or(0))?;
        let highest_group: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM park_groups")
            .fetch_one(&self.pool)
            .await?;
        let next_user_id = from_sql::<u64>(tenant.try_get("next_user_id")?, "next user id")?
            .max(from_sql::<u64>(highest_user, "user id")? + 1);
        let next_group_id = from_sql::<u64>(tenant.try_get("next_group_id")?, "next group id")?
            .max(from_sql::<u64>(highest_group, "group id")? + 1);
        let mut users = Vec::new();
        for row in sqlx::query(
            "SELECT id, login, display_name, password_hash, admin, enterprise_voice, unanswered, \
             forward_to, unanswered_delay_seconds, policy FROM users ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?
        {
            let unanswered: String = row.try_get("unanswered")?;
            let forward_to: Option<i64> = row.try_get("forward_to")?;
            let unanswered = match (unanswered.as_str(), forward_to) {
                ("voicemail", _) => UnansweredAction::Voicemail,
                ("disconnect", _) => UnansweredAction::Disconnect,
                ("forward", Some(target)) => {
                    UnansweredAction::Forward(UserId(from_sql(target, "forward target")?))
                }
                (other, _) => return Err(StoreError::Corrupt(format!("unanswered {other:?}"))),
            };
            users.push(UserRow {
                id: UserId(from_sql(row.try_get("id")?, "user id")?),
                login: row.try_get("login")?,
                display_name: row.try_get("display_name")?,
                password_hash: row.try_get("password_hash")?,
                admin: row.try_get("admin")?,
                enterprise_voice: row.try_get("enterprise_voice")?,
                unanswered,
                unanswered_delay_seconds: from_sql(
                    row.try_get("unanswered_delay_seconds")?,
                    "unanswered delay",
                )?,
                policy: row.try_get("policy")?,
            });
        }
        let mut groups = Vec::new();
        for row in sqlx::query("SELECT id, name FROM park_groups ORDER BY id")
            .fetch_all(&self.pool)
            .await?
        {
            let id: i64 = row.try_get("id")?;
            let members = sqlx::query(
                "SELECT user_id FROM group_members WHERE group_id = ? ORDER BY user_id",
            )
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|member| Ok(UserId(from_sql(member.try_get("user_id")?, "member")?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
            groups.push(GroupRow {
                id: GroupId(from_sql(id, "group id")?),
                name: row.try_get("name")?,
                members,
            });
        }
        let mut policies = Vec::new();
        for row in sqlx::query(
            "SELECT identity, description, allow_call_park, pickup_range_start, pickup_range_end, \
             park_timeout_seconds FROM policies ORDER BY position",
        )
        .fetch_all(&self.pool)
        .await?
        {
            let identity: String = row.try_get("identity")?;
            let identity = PolicyIdentity::parse(&identity)
                .map_err(|error| StoreError::Corrupt(format!("policy {identity:?}: {error}")))?;
            policies.push(Policy {
                identity,
                description: row.try_get("description")?,
                allow_call_park: row.try_get("allow_call_park")?,
                pickup_range_start: from_sql(row.try_get("pickup_range_start")?, "range start")?,
                pickup_range_end: from_sql(row.try_get("pickup_range_end")?, "range end")?,
                park_timeout_seconds: from_sql(row.try_get("park_timeout_seconds")?, "timeout")?,
            });
        }
        let group_grants =
            sqlx::query("SELECT group_id, policy FROM group_grants ORDER BY group_rank")
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|row| {
                    Ok((
                        GroupId(from_sql(row.try_get("group_id")?, "group")?),
                        row.try_get("policy")?,
                    ))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(TenantSnapshot {
            users,
            groups,
            policies,
            group_grants,
            tenant_default,
            next_user_id,
            next_group_id,
        }))
    }

    /// The calls parked when the service stopped, with their callers' devices.
    pub async fn parked_calls(&self) -> Result<Vec<ParkRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT call_id, policy, code, caller, parked_by, parked_at_ms, ringback_at_ms, \
             caller_device, resume_digest FROM parked_calls ORDER BY call_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let device: Option<i64> = row.try_get("caller_device")?;
                let digest: Option<String> = row.try_get("resume_digest")?;
                let caller_device = match (device, digest) {
                    (Some(device), Some(digest)) => {
                        Some((DeviceId(from_sql(device, "device")?), digest))
                    }
                    _ => None,
                };
                Ok(ParkRow { caller_device, ..park_row(row, "ringback_at_ms")? })
            })
            .collect()
    }

    /// Records the parked calls `lost` (parked when the service stopped, and not
    /// restored) as lost: an audit line, an outcome for the parker, and a hold on the
    /// code. Returns the parks lost at or after `held_since` (those lost earlier
    /// are no longer held and are forgotten here), for their codes to be held again.
    pub async fn take_parked_as_lost(
        &self,
        now: Timestamp,
        lost: &[CallId],
        held_since: Timestamp,
    ) -> Result<Vec<ParkRow>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Each takes the lost time and the call: an audit line, the code's hold, and
        // the parker's outcome.
        const RECORD_LOST: [&str; 3] = [
            "INSERT INTO audit_events (at_ms, kind, detail, user_login, policy, call_id, code) \
             SELECT ?, 'lost', 'service restarted', users.login, parked_calls.policy, \
             parked_calls.call_id, parked_calls.code FROM parked_calls \
             LEFT JOIN users ON users.id = parked_calls.parked_by \
             WHERE parked_calls.call_id = ?",
            "INSERT OR REPLACE INTO lost_parks \
             (call_id, policy, code, caller, parked_by, parked_at_ms, lost_at_ms) \
             SELECT call_id, policy, code, caller, parked_by, parked_at_ms, ? FROM parked_calls \
             WHERE call_id = ?",
            "INSERT OR REPLACE INTO park_outcomes \
             (parked_by, call_id, code, caller, outcome, by_user, ended_at_ms) \
             SELECT parked_by, call_id, code, caller, 'lost', NULL, ? FROM parked_calls \
             WHERE call_id = ?",
        ];
        for call in lost {
            for statement in RECORD_LOST {
                sqlx::query(statement)
                    .bind(sql_int(now.as_millis()))
                    .bind(sql_int(call.0))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        delete_calls(&mut tx, "parked_calls", lost).await?;
        sqlx::query("DELETE FROM lost_parks WHERE lost_at_ms < ?")
            .bind(sql_int(held_since.as_millis()))
            .execute(&mut *tx)
            .await?;
        let rows = sqlx::query(
            "SELECT call_id, policy, code, caller, parked_by, parked_at_ms, lost_at_ms \
             FROM lost_parks ORDER BY call_id",
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(|row| park_row(row, "lost_at_ms")).collect()
    }

    /// The calls connected when the service stopped, with both devices.
    pub async fn connected_calls(&self) -> Result<Vec<ConnectedRow>, StoreError> {
        connected::read_connected(&self.pool).await
    }

    /// How parks ended, for parkers who have not acknowledged it yet, oldest first.
    pub async fn park_outcomes(&self) -> Result<Vec<ParkEndRecord>, StoreError> {
        outcomes::read_outcomes(&self.pool).await
    }

    /// Commits writes in one transaction. Only their net effect is written: a call
    /// parked and picked up within the batch leaves no row, and rows of one kind go
    /// in one statement, since every statement is a round trip to SQLite's thread.
    pub async fn apply(&self, writes: &[Write]) -> Result<(), StoreError> {
        let mut parked: HashMap<CallId, Option<&ParkRow>> = HashMap::new();
        let mut outcome_changes = outcomes::OutcomeChanges::new();
        let mut connected_changes = connected::ConnectedChanges::new();
        let mut audit = Vec::new();
        let mut call_ids_reserved = None;
        let mut tx = self.pool.begin().await?;
        for write in writes {
            match write {
                Write::Tenant(snapshot) => write_tenant(&mut tx, snapshot).await?,
                Write::SaveParked(park) => {
                    parked.insert(park.call, Some(park));
                }
                Write::ParkEnded(record) => {
                    parked.insert(record.call, None);
                    outcome_changes.insert((record.parked_by, record.call), Some(*record));
                }
                Write::ForgetParkOutcome { parked_by, call } => {
                    outcome_changes.insert((*parked_by, *call), None);
                }
                Write::SaveConnected(row) => {
                    connected_changes.insert(row.call, Some(row));
                }
                Write::ForgetConnected(call) => {
                    connected_changes.insert(*call, None);
                }
                Write::ReserveCallIds(through) => {
                    call_ids_reserved = call_ids_reserved.max(Some(through.0));
                }
                Write::SaveSession { digest, session } => {
                    sqlx::query(
                        "INSERT INTO sessions (token_digest, user_id, expires_at_ms) VALUES (?, ?, ?)",
                    )
                    .bind(digest)
                    .bind(sql_int(session.user.0))
                    .bind(sql_int(session.expires_at.as_millis()))
                    .execute(&mut *tx)
                    .await?;
                }
                Write::RevokeSessions(user) => {
                    sqlx::query("DELETE FROM sessions WHERE user_id = ?")
                        .bind(sql_int(user.0))
                        .execute(&mut *tx)
                        .await?;
                }
                Write::RevokeSession(digest) => {
                    sqlx::query("DELETE FROM sessions WHERE token_digest = ?")
                        .bind(digest)
                        .execute(&mut *tx)
                        .await?;
                }
                Write::Audit(row) => audit.push(row),
                Write::Flush => {}
            }
        }
        if let Some(through) = call_ids_reserved {
            sqlx::query(
                "INSERT INTO counters (name, value) VALUES (?, ?) \
                 ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)",
            )
            .bind(CALL_IDS_RESERVED)
            .bind(sql_int(through))
            .execute(&mut *tx)
            .await?;
        }
        let (saved, deleted): (Vec<_>, Vec<_>) =
            parked.into_iter().partition(|(_, row)| row.is_some());
        let deleted: Vec<CallId> = deleted.into_iter().map(|(call, _)| call).collect();
        delete_calls(&mut tx, "parked_calls", &deleted).await?;
        outcomes::write_outcomes(&mut tx, outcome_changes).await?;
        connected::write_connected(&mut tx, connected_changes).await?;
        let saved: Vec<&ParkRow> = saved.into_iter().filter_map(|(_, row)| row).collect();
        for chunk in saved.chunks(ROWS_PER_STATEMENT) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO parked_calls (call_id, policy, code, caller, parked_by, parked_at_ms, \
                 ringback_at_ms, caller_device, resume_digest) ",
            );
            insert.push_values(chunk, |mut values, park| {
                let (device, digest) =
                    park.caller_device.as_ref().map_or((None, None), |(device, digest)| {
                        (Some(sql_int(device.0)), Some(digest))
                    });
                values
                    .push_bind(sql_int(park.call.0))
                    .push_bind(&park.policy)
                    .push_bind(i64::from(park.code))
                    .push_bind(sql_int(park.caller.0))
                    .push_bind(sql_int(park.parked_by.0))
                    .push_bind(sql_int(park.parked_at.as_millis()))
                    .push_bind(sql_int(park.ringback_at.as_millis()))
                    .push_bind(device)
                    .push_bind(digest);
            });
            insert.push(
                " ON CONFLICT (call_id) DO UPDATE SET policy = excluded.policy, code = excluded.code, \
                 caller = excluded.caller, parked_by = excluded.parked_by, \
                 parked_at_ms = excluded.parked_at_ms, ringback_at_ms = excluded.ringback_at_ms, \
                 caller_device = excluded.caller_device, resume_digest = excluded.resume_digest",
            );
            insert.build().execute(&mut *tx).await?;
        }
        for chunk in audit.chunks(ROWS_PER_STATEMENT) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO audit_events (at_ms, kind, detail, user_login, policy, call_id, code) ",
            );
            insert.push_values(chunk, |mut values, row| {
                values
                    .push_bind(sql_int(row.at.as_millis()))
                    .push_bind(row.kind)
                    .push_bind(&row.detail)
                    .push_bind(&row.user_login)
                    .push_bind(&row.policy)
                    .push_bind(row.call.map(|call| sql_int(call.0)))
                    .push_bind(row.code.map(i64::from));
            });
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sessions that have not expired by `now`; expired ones are deleted.
    pub async fn take_live_sessions(
        &self,
        now: Timestamp,
    ) -> Result<Vec<(String, Session)>, StoreError> {
        let now = sql_int(now.as_millis());
        sqlx::query("DELETE FROM sessions WHERE expires_at_ms <= ?")
            .bind(now)
            .execute(&self.pool)
            .await?;
        let rows = sqlx::query("SELECT token_digest, user_id, expires_at_ms FROM sessions")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let session = Session {
                    user: UserId(from_sql(row.try_get("user_id")?, "user")?),
                    expires_at: Timestamp::from_millis(from_sql(
                        row.try_get("expires_at_ms")?,
                        "time",
                    )?),
                };
                Ok((row.try_get("token_digest")?, session))
            })
            .collect()
    }

    /// The highest call id the audit log names.
    /// The highest call id reserved before the last stop, if any.
    pub async fn call_ids_reserved(&self) -> Result<Option<u64>, StoreError> {
        let row = sqlx::query("SELECT value FROM counters WHERE name = ?")
            .bind(CALL_IDS_RESERVED)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| from_sql(row.try_get("value")?, "call id reservation")).transpose()
    }

    pub async fn last_audited_call(&self) -> Result<Option<u64>, StoreError> {
        let row = sqlx::query("SELECT max(call_id) AS last FROM audit_events")
            .fetch_one(&self.pool)
            .await?;
        let last: Option<i64> = row.try_get("last")?;
        last.map(|last| from_sql(last, "call")).transpose()
    }

    /// Saves a voicemail message; returns it with its id.
    pub async fn save_voicemail(&self, new: &NewVoicemail) -> Result<VoicemailEntry, StoreError> {
        let result = sqlx::query(
            "INSERT INTO voicemails (owner_id, caller_id, caller_name, call_id, recorded_at_ms, duration_ms, file) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind(sql_int(new.owner.0))
        .bind(new.caller_id.map(sql_int))
        .bind(&new.caller_name)
        .bind(sql_int(new.call.0))
        .bind(sql_int(new.recorded_at.as_millis()))
        .bind(sql_int(new.duration_ms))
        .bind(&new.file)
        .execute(&self.pool)
        .await?;
        Ok(VoicemailEntry {
            id: from_sql(result.last_insert_rowid(), "voicemail")?,
            caller_id: new.caller_id,
            caller_name: new.caller_name.clone(),
            call: new.call.0,
            recorded_at_ms: new.recorded_at.as_millis(),
            duration_ms: new.duration_ms,
        })
    }

    /// A user's voicemail messages, newest first.
    pub async fn voicemails(&self, owner: UserId) -> Result<Vec<VoicemailEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, caller_id, caller_name, call_id, recorded_at_ms, duration_ms FROM voicemails \
             WHERE owner_id = ?1 ORDER BY id DESC",
        )
        .bind(sql_int(owner.0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(voicemail_entry).collect()
    }

    /// The file holding one of `owner`'s messages.
    pub async fn voicemail_file(
        &self,
        owner: UserId,
        id: u64,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT file FROM voicemails WHERE owner_id = ?1 AND id = ?2")
            .bind(sql_int(owner.0))
            .bind(sql_int(id))
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| row.try_get("file")).transpose().map_err(StoreError::from)
    }

    /// The audio files of every message `owner` has.
    pub async fn voicemail_files_of(&self, owner: UserId) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT file FROM voicemails WHERE owner_id = ?")
            .bind(sql_int(owner.0))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| row.try_get("file").map_err(StoreError::from)).collect()
    }

    /// Deletes one of `owner`'s messages; returns its file, if it existed.
    pub async fn delete_voicemail(
        &self,
        owner: UserId,
        id: u64,
    ) -> Result<Option<String>, StoreError> {
        let row =
            sqlx::query("DELETE FROM voicemails WHERE owner_id = ?1 AND id = ?2 RETURNING file")
                .bind(sql_int(owner.0))
                .bind(sql_int(id))
                .fetch_optional(&self.pool)
                .await?;
        row.map(|row| row.try_get("file")).transpose().map_err(StoreError::from)
    }

    /// Deletes audit lines recorded before `before`, a chunk per transaction so
    /// writers never wait long; the newest line always stays (it carries the last
    /// call id, which new calls must go past). Returns how many were deleted.
    pub async fn prune_audit(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut deleted = 0;
        loop {
            let chunk = sqlx::query(
                "DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events \
                 WHERE at_ms < ?1 AND id < (SELECT MAX(id) FROM audit_events) LIMIT ?2)",
            )
            .bind(sql_int(before.as_millis()))
            .bind(AUDIT_PRUNE_CHUNK)
            .execute(&self.pool)
            .await?
            .rows_affected();
            deleted += chunk;
            if chunk < AUDIT_PRUNE_CHUNK as u64 {
                return Ok(deleted);
            }
        }
    }

    /// Audit lines, newest first.
    pub async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at_ms, kind, detail, user_login, policy, call_id, code FROM audit_events \
             WHERE (?1 IS NULL OR id < ?1) AND (?2 IS NULL OR kind = ?2) \
             AND (?3 IS NULL OR lower(policy) = lower(?3)) ORDER BY id DESC LIMIT ?4",
        )
        .bind(query.before)
        .bind(&query.kind)
        .bind(&query.policy)
        .bind(i64::from(query.limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let call: Option<i64> = row.try_get("call_id")?;
                let code: Option<i64> = row.try_get("code")?;
                Ok(AuditEntry {
                    id: row.try_get("id")?,
                    at_ms: from_sql(row.try_get("at_ms")?, "time")?,
                    kind: row.try_get("kind")?,
                    detail: row.try_get("detail")?,
                    user: row.try_get("user_login")?,
                    policy: row.try_get("policy")?,
                    call: call.map(|call| from_sql(call, "call")).transpose()?,
                    code: code.map(|code| from_sql(code, "code")).transpose()?,
                })
            })
            .collect()
    }
}

fn voicemail_entry(row: &sqlx::sqlite::SqliteRow) -> Result<VoicemailEntry, StoreError> {
    let caller: Option<i64> = row.try_get("caller_id")?;
    Ok(VoicemailEntry {
        id: from_sql(row.try_get("id")?, "voicemail")?,
        caller_id: caller.map(|caller| from_sql(caller, "user")).transpose()?,
        caller_name: row.try_get("caller_name")?,
        call: from_sql(row.try_get("call_id")?, "call")?,
        recorded_at_ms: from_sql(row.try_get("recorded_at_ms")?, "time")?,
        duration_ms: from_sql(row.try_get("duration_ms")?, "duration")?,
    })
}

/// A voicemail message to save; `file` is its name in the voicemail directory.
#[derive(Clone, Debug)]
pub struct NewVoicemail {
    pub owner: UserId,
    pub caller_id: Option<u64>,
    pub caller_name: Option<String>,
    pub call: CallId,
    pub recorded_at: Timestamp,
    pub duration_ms: u64,
    pub file: String,
}

/// A row of `parked_calls` or `lost_parks`, its time column (`ringback_at_ms`, or
/// `lost_at_ms` for a lost one) as the ringback time, without the caller's device.
fn park_row(row: &sqlx::sqlite::SqliteRow, time_column: &str) -> Result<ParkRow, StoreError> {
    let time = |column: &str| -> Result<Timestamp, StoreError> {
        Ok(Timestamp::from_millis(from_sql(row.try_get(column)?, "time")?))
    };
    Ok(ParkRow {
        call: CallId(from_sql(row.try_get("call_id")?, "call")?),
        policy: row.try_get("policy")?,
        code: from_sql(row.try_get("code")?, "code")?,
        caller: UserId(from_sql(row.try_get("caller")?, "caller")?),
        parked_by: UserId(from_sql(row.try_get("parked_by")?, "parker")?),
        parked_at: time("parked_at_ms")?,
        ringback_at: time(time_column)?,
        caller_device: None,
    })
}

async fn delete_calls(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    table: &str,
    calls: &[CallId],
) -> Result<(), StoreError> {
    for chunk in calls.chunks(ROWS_PER_STATEMENT) {
        let mut delete =
            QueryBuilder::<Sqlite>::new(format!("DELETE FROM {table} WHERE call_id IN ("));
        let mut list = delete.separated(", ");
        for call in chunk {
            list.push_bind(sql_int(call.0));
        }
        delete.push(")");
        delete.build().execute(&mut **tx).await?;
    }
    Ok(())
}

async fn write_tenant(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    snapshot: &TenantSnapshot,
) -> Result<(), StoreError> {
    for table in [
        "DELETE FROM users",
        "DELETE FROM park_groups",
        "DELETE FROM group_members",
        "DELETE FROM policies",
        "DELETE FROM group_grants",
        "DELETE FROM tenant",
    ] {
        sqlx::query(table).execute(&mut **tx).await?;
    }
    for user in &snapshot.users {
        let (unanswered, forward_to) = match user.unanswered {
            UnansweredAction::Voicemail => ("voicemail", None),
            UnansweredAction::Disconnect => ("disconnect", None),
            UnansweredAction::Forward(target) => ("forward", Some(sql_int(target.0))),
        };
        sqlx::query(
            "INSERT INTO users (id, login, login_key, display_name, password_hash, admin, \
             enterprise_voice, unanswered, forward_to, unanswered_delay_seconds, policy) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(sql_int(user.id.0))
        .bind(&user.login)
        .bind(user.login.to_lowercase())
        .bind(&user.display_name)
        .bind(&user.password_hash)
        .bind(user.admin)
        .bind(user.enterprise_voice)
        .bind(unanswered)
        .bind(forward_to)
        .bind(i64::from(user.unanswered_delay_seconds))
        .bind(&user.policy)
        .execute(&mut **tx)
        .await?;
    }
    for group in &snapshot.groups {
        sqlx::query("INSERT INTO park_groups (id, name, name_key) VALUES (?, ?, ?)")
            .bind(sql_int(group.id.0))
            .bind(&group.name)
            .bind(group.name.to_lowercase())
            .execute(&mut **tx)
            .await?;
        for member in &group.members {
            sqlx::query("INSERT INTO group_members (group_id, user_id) VALUES (?, ?)")
                .bind(sql_int(group.id.0))
                .bind(sql_int(member.0))
                .execute(&mut **tx)
                .await?;
        }
    }
    for (position, policy) in snapshot.policies.iter().enumerate() {
        sqlx::query(
            "INSERT INTO policies (position, identity, description, allow_call_park, \
             pickup_range_start, pickup_range_end, park_timeout_seconds) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(sql_int(position as u64))
        .bind(policy.identity.to_string())
        .bind(&policy.description)
        .bind(policy.allow_call_park)
        .bind(i64::from(policy.pickup_range_start))
        .bind(i64::from(policy.pickup_range_end))
        .bind(i64::from(policy.park_timeout_seconds))
        .execute(&mut **tx)
        .await?;
    }
    for (index, (group, policy)) in snapshot.group_grants.iter().enumerate() {
        sqlx::query("INSERT INTO group_grants (group_rank, group_id, policy) VALUES (?, ?, ?)")
            .bind(sql_int(index as u64 + 1))
            .bind(sql_int(group.0))
            .bind(policy)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO tenant (id, default_policy, next_user_id, next_group_id) VALUES (1, ?, ?, ?)",
    )
    .bind(&snapshot.tenant_default)
    .bind(sql_int(snapshot.next_user_id))
    .bind(sql_int(snapshot.next_group_id))
    .execute(&mut **tx)
    .await?;
    // What belonged to a removed user goes in the same transaction as the user: a
    // crash cannot leave their sessions working or their messages behind.
    sqlx::query("DELETE FROM sessions WHERE user_id NOT IN (SELECT id FROM users)")
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM voicemails WHERE owner_id NOT IN (SELECT id FROM users)")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Answers a confirmed write once it is committed (or failed).
pub type Ack = oneshot::Sender<Result<(), String>>;

/// The one writer: takes writes in order and commits them in batches.
#[derive(Clone, Debug)]
pub struct StoreWriter {
    writes: mpsc::UnboundedSender<(Write, Option<Ack>)>,
}

impl StoreWriter {
    /// Starts the writer task; it stops when every handle is dropped, after writing
    /// what it was given.
    pub fn spawn(store: Store) -> (StoreWriter, tokio::task::JoinHandle<()>) {
        let (writes, receiver) = mpsc::unbounded_channel();
        let task = tokio::spawn(write_loop(store, receiver));
        (StoreWriter { writes }, task)
    }

    /// A writer whose writes arrive on the returned receiver instead of a database:
    /// for tests of the exchange that look at what it stores.
    pub fn channel() -> (StoreWriter, mpsc::UnboundedReceiver<(Write, Option<Ack>)>) {
        let (writes, receiver) = mpsc::unbounded_channel();
        (StoreWriter { writes }, receiver)
    }

    /// Queues a write; it is committed soon, in order.
    pub fn write(&self, write: Write) {
        if self.writes.send((write, None)).is_err() {
            tracing::error!("store writer stopped; a write is lost");
        }
    }

    /// Queues a write and returns a receiver that resolves once it is committed.
    pub fn write_and_confirm(&self, write: Write) -> oneshot::Receiver<Result<(), String>> {
        let (ack, confirmed) = oneshot::channel();
        if let Err(mpsc::error::SendError((_, Some(ack)))) = self.writes.send((write, Some(ack))) {
            let _ = ack.send(Err(StoreError::WriterStopped.to_string()));
        }
        confirmed
    }
}

async fn write_loop(store: Store, mut receiver: mpsc::UnboundedReceiver<(Write, Option<Ack>)>) {
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    while receiver.recv_many(&mut batch, WRITE_BATCH).await > 0 {
        // Mid-step (its confirmed barrier not here yet): wait for the rest, so a step's
        // writes are committed together.
        while batch.last().is_some_and(|(_, ack)| ack.is_none()) {
            match tokio::time::timeout(STEP_WAIT, receiver.recv()).await {
                Ok(Some(queued)) => batch.push(queued),
                Ok(None) | Err(_) => break,
            }
        }
        let (writes, acks): (Vec<Write>, Vec<Option<Ack>>) = batch.drain(..).unzip();
        let outcome = store.apply(&writes).await;
        match &outcome {
            Ok(()) => tracing::trace!(writes = writes.len(), "store batch committed"),
            // Connections still closing after the last flush at shutdown end their calls;
            // the next start finds those parks in the registry and reports them lost.
            Err(StoreError::Database(sqlx::Error::PoolClosed)) => {
                tracing::info!(
                    writes = writes.len(),
                    "store closed for shutdown; later writes not kept"
                );
            }
            Err(error) => tracing::error!(%error, writes = writes.len(), "store write failed"),
        }
        let outcome = outcome.map_err(|error| error.to_string());
        for ack in acks.into_iter().flatten() {
            let _ = ack.send(outcome.clone());
        }
    }
    tracing::debug!("store writer stopped");
}
