//! Bringing the service up: open the store, load or create the tenant, put back the
//! parked and connected calls of the last run (parks that cannot be kept become lost
//! parks), and start the exchange and the store writer.

use std::path::Path;
use std::sync::Arc;

use callpark_park::{
    CallId, Config, ConnectedCallRecord, DeviceId, LostPark, ParkedCallRecord, Party, Switchboard,
    Timestamp,
};

use crate::accounts::{Sessions, hash_password, random_token};
use crate::clock::Clock;
use crate::config::ServiceConfig;
use crate::demo::{DEMO_USERS, seed_demo};
use crate::exchange::{ExchangeHandle, RestartedParks, spawn};
use crate::media::recorder::Recorder;
use crate::media::{MediaError, spawn_anchor};
use crate::state::AppState;
use crate::store::{CallSide, Store, StoreError, StoreWriter, Write};
use crate::tenant::{NewAccount, Tenant};
use crate::tls::server_config;
use crate::voicemail::{VOICEMAIL_DIR, spawn_keeper};
use tokio_rustls::rustls::ServerConfig;

/// The account created on an empty data directory (unless `--demo`).
pub const FIRST_ADMIN_LOGIN: &str = "admin";
/// Where the first admin's generated password is written.
pub const FIRST_ADMIN_PASSWORD_FILE: &str = "initial-admin-password";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the stored tenant cannot be loaded: {0}")]
    Load(#[from] crate::tenant::LoadError),
    #[error("cannot create the first accounts: {0}")]
    Seed(String),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("cannot write {path}: {source}")]
    PasswordFile { path: std::path::PathBuf, source: std::io::Error },
}

/// A started service, ready to serve.
#[derive(Debug)]
pub struct Started {
    pub state: AppState,
    /// For [`ExchangeHandle::flush`] at shutdown.
    pub exchange: ExchangeHandle,
    pub store: Store,
    /// `Some`: serve https and wss only.
    pub tls: Option<Arc<ServerConfig>>,
    /// Ends once every write has been committed and every handle is gone.
    pub writer: tokio::task::JoinHandle<()>,
    /// The media anchor (its counters, for operators and tests).
    pub media: crate::media::MediaHandle,
}

pub async fn start(config: &ServiceConfig) -> Result<Started, StartError> {
    let tls = config.tls.as_ref().map(server_config).transpose()?;
    let store = Store::open(&config.data_dir).await?;
    let switchboard = Switchboard::new(Config {
        clock_speedup: config.test_clock_speedup,
        reconnect_grace: config.reconnect_grace,
        restored_caller_grace: config.parked_caller_grace,
        ..Config::default()
    });
    let tenant = match store.load_tenant().await? {
        Some(snapshot) => {
            if config.demo {
                tracing::info!("the data directory already holds a tenant; --demo changes nothing");
            }
            Tenant::from_snapshot(switchboard, snapshot)?
        }
        None => {
            let tenant = first_tenant(switchboard, config)?;
            store.apply(&[Write::Tenant(Box::new(tenant.snapshot()))]).await?;
            tenant
        }
    };
    let mut tenant = tenant;
    let clock = Clock::start();
    let now = clock.now();
    let mut parks = restore_parks(&store, &mut tenant, now).await?;
    parks.restored.extend(restore_connected_calls(&store, &mut tenant, now).await?);
    skip_used_call_ids(&store, &mut tenant).await?;
    let sessions = Sessions::restore(store.take_live_sessions(now).await?, now);
    if !sessions.is_empty() {
        tracing::info!(sessions = sessions.len(), "sign-ins from before the restart still hold");
    }
    let (writer, writer_task) = StoreWriter::spawn(store.clone());
    let (recordings, recorded) = tokio::sync::mpsc::unbounded_channel();
    let recorder = Recorder::new(config.voicemail_max, recordings);
    let media = spawn_anchor(config.media_listen, config.media_public_ip, recorder).await?;
    let first_device = parks.restored.iter().map(|(_, device)| device.0).max().unwrap_or(0) + 1;
    let exchange = spawn(tenant, writer.clone(), parks, media.clone(), clock);
    spawn_keeper(recorded, store.clone(), exchange.clone(), config.data_dir.join(VOICEMAIL_DIR));
    tokio::spawn(prune_audit(store.clone(), config.audit_retention, clock));
    tokio::spawn(checkpoint_wal(store.clone()));
    Ok(Started {
        state: AppState::new(
            exchange.clone(),
            store.clone(),
            writer,
            sessions,
            config.max_connections,
            media.clone(),
            &config.data_dir.join(VOICEMAIL_DIR),
        )
        .with_allowed_origins(&config.allowed_origins)
        .with_first_device(first_device),
        media,
        exchange,
        store,
        tls,
        writer: writer_task,
    })
}

/// Puts the calls parked when the service stopped back in park, with their codes,
/// parkers and ringback times; their callers have a grace period to come back. A
/// park that cannot be kept (its caller's device unknown, an account or its policy
/// gone) is lost: its code is held for a while, and its parker is told (with every
/// other outcome they have not acknowledged) when one of their devices connects.
async fn restore_parks(
    store: &Store,
    tenant: &mut Tenant,
    now: Timestamp,
) -> Result<RestartedParks, StartError> {
    let mut restored = Vec::new();
    let mut lost = Vec::new();
    for row in store.parked_calls().await? {
        let kept = row.caller_device.clone().and_then(|(device, digest)| {
            let policy = tenant.switchboard.directory().policy_by_identity(&row.policy).ok()?.0;
            let park = ParkedCallRecord {
                call: row.call,
                policy,
                code: row.code,
                caller: row.caller,
                caller_device: device,
                parked_by: row.parked_by,
                parked_at: row.parked_at,
                ringback_at: row.ringback_at,
            };
            match tenant.switchboard.restore_park(now, park) {
                Ok(()) => Some((digest, device)),
                Err(error) => {
                    tracing::warn!(
                        call = row.call.0,
                        code = error.code(),
                        "a parked call cannot be kept"
                    );
                    None
                }
            }
        });
        match kept {
            Some(token) => restored.push(token),
            None => lost.push(row.call),
        }
    }
    if !restored.is_empty() {
        tracing::info!(
            parked = restored.len(),
            "calls parked when the service stopped are parked again"
        );
    }
    if !lost.is_empty() {
        tracing::warn!(
            lost = lost.len(),
            "calls parked when the service stopped could not be kept"
        );
    }
    let held_since = Timestamp::from_millis(
        now.as_millis().saturating_sub(
            u64::try_from(tenant.switchboard.config().remember_ended_codes.as_millis())
                .unwrap_or(u64::MAX),
        ),
    );
    let held = store.take_parked_as_lost(now, &lost, held_since).await?;
    if let Some(last) = held.iter().map(|park| park.call).max() {
        tenant.switchboard.skip_call_ids_through(last);
    }
    for park in &held {
        let Ok((policy, _)) = tenant.switchboard.directory().policy_by_identity(&park.policy)
        else {
            continue;
        };
        let lost_at = park.ringback_at;
        let held = tenant.switchboard.quarantine_lost_code(
            now,
            LostPark { policy, code: park.code, parked_by: park.parked_by, lost_at },
        );
        if held {
            tracing::info!(call = park.call.0, code = park.code, "a lost park's code is held");
        }
    }
    let outcomes = store.park_outcomes().await?;
    if let Some(last) = outcomes.iter().map(|outcome| outcome.call).max() {
        tenant.switchboard.skip_call_ids_through(last);
    }
    for outcome in outcomes {
        tenant.switchboard.restore_park_outcome(outcome);
    }
    Ok(RestartedParks { restored })
}

/// Puts the calls connected when the service stopped back, both devices away until
/// they come back (resuming) within the restored grace period. A call that cannot be
/// kept (an account gone, a device without a resume token) is forgotten: its devices
/// connect afresh and see it ended. Returns the devices' resume-token digests.
async fn restore_connected_calls(
    store: &Store,
    tenant: &mut Tenant,
    now: Timestamp,
) -> Result<Vec<(String, DeviceId)>, StartError> {
    let mut restored = Vec::new();
    let mut forgotten = Vec::new();
    for row in store.connected_calls().await? {
        let (Some(a_digest), Some(b_digest)) = (&row.a.resume_digest, &row.b.resume_digest) else {
            forgotten.push(Write::ForgetConnected(row.call));
            continue;
        };
        let party = |side: &CallSide| Party { user: side.user, device: side.device };
        let record = ConnectedCallRecord { call: row.call, a: party(&row.a), b: party(&row.b) };
        match tenant.switchboard.restore_connected_call(now, record) {
            Ok(()) => {
                restored.push((a_digest.clone(), row.a.device));
                restored.push((b_digest.clone(), row.b.device));
            }
            Err(error) => {
                tracing::warn!(call = row.call.0, code = error.code(), "a call cannot be kept");
                forgotten.push(Write::ForgetConnected(row.call));
            }
        }
    }
    if !restored.is_empty() {
        tracing::info!(
            calls = restored.len() / 2,
            "calls connected when the service stopped wait for their devices"
        );
    }
    store.apply(&forgotten).await?;
    Ok(restored)
}

/// How often old audit lines are looked for.
const AUDIT_PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Deletes audit lines older than `retention`, at start and then hourly, for as
/// long as the store is open.
async fn prune_audit(store: Store, retention: std::time::Duration, clock: Clock) {
    let mut every = tokio::time::interval(AUDIT_PRUNE_EVERY);
    loop {
        every.tick().await;
        let now = clock.now();
        let before = Timestamp::from_millis(
            now.as_millis()
                .saturating_sub(u64::try_from(retention.as_millis()).unwrap_or(u64::MAX)),
        );
        match store.prune_audit(before).await {
            Ok(0) => {}
            Ok(deleted) => {
                tracing::info!(deleted, before = before.as_millis(), "old audit lines deleted")
            }
            Err(StoreError::Database(sqlx::Error::PoolClosed)) => return,
            Err(error) => tracing::warn!(%error, "old audit lines could not be deleted"),
        }
    }
}

/// How often the write-ahead log is copied into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Checkpoints the write-ahead log every second, beside the writer (see
/// `Store::open`), for as long as the store is open.
async fn checkpoint_wal(store: Store) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    loop {
        every.tick().await;
        match store.checkpoint().await {
            Ok(()) => {}
            Err(StoreError::Database(sqlx::Error::PoolClosed)) => return,
            Err(error) => tracing::warn!(%error, "the write-ahead log could not be checkpointed"),
        }
    }
}

/// Call ids reserved before the stop, or named in the audit log, are never given to
/// new calls.
async fn skip_used_call_ids(store: &Store, tenant: &mut Tenant) -> Result<(), StoreError> {
    let used = store.call_ids_reserved().await?.max(store.last_audited_call().await?);
    if let Some(last) = used {
        tenant.switchboard.skip_call_ids_through(CallId(last));
    }
    Ok(())
}

fn first_tenant(switchboard: Switchboard, config: &ServiceConfig) -> Result<Tenant, StartError> {
    let mut tenant = Tenant::new(switchboard);
    if config.demo {
        seed_demo(&mut tenant).map_err(|error| StartError::Seed(error.to_string()))?;
        let logins: Vec<&str> = DEMO_USERS.iter().map(|(login, _, _)| *login).collect();
        tracing::info!(users = ?logins, password = "<login>-demo", "demo tenant created");
        return Ok(tenant);
    }
    let password = match &config.admin_password {
        Some(password) => password.clone(),
        None => {
            let password = random_token()[..20].to_owned();
            write_secret(&config.data_dir.join(FIRST_ADMIN_PASSWORD_FILE), &password)?;
            password
        }
    };
    let password_hash =
        hash_password(&password).map_err(|error| StartError::Seed(error.to_string()))?;
    tenant
        .seed_user(NewAccount {
            login: FIRST_ADMIN_LOGIN.to_owned(),
            display_name: "Administrator".to_owned(),
            password_hash,
            admin: true,
            enterprise_voice: false,
            unanswered: None,
            unanswered_delay_seconds: None,
        })
        .map_err(|error| StartError::Seed(error.to_string()))?;
    tracing::info!(
        login = FIRST_ADMIN_LOGIN,
        password_file = %config.data_dir.join(FIRST_ADMIN_PASSWORD_FILE).display(),
        "first admin account created"
    );
    Ok(tenant)
}

fn write_secret(path: &Path, secret: &str) -> Result<(), StartError> {
    crate::private_files::write(path, format!("{secret}\n").as_bytes())
        .map_err(|source| StartError::PasswordFile { path: path.to_owned(), source })
}
