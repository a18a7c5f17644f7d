//! The task that owns the tenant and its switchboard: it takes requests and
//! connection changes from connections and admin operations from the REST API,
//! passes the time in, runs the timers, delivers every notice to the device it is
//! for, and hands every change to the store writer in order. It holds no park rules:
//! those are all in `callpark-park`.

use std::collections::{HashMap, HashSet, VecDeque};

use callpark_park::{
    AuditEvent, AuditKind, CallId, DeviceId, Output, Party, StoreCommand, Switchboard, Timestamp,
    UnansweredAction, UserId,
};
use callpark_wire::{
    ErrorBody, Event, PROTOCOL_VERSION, ReplyBody, ServerMessage, UserRef, Welcome, reply_error,
    reply_ok,
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::accounts::{random_token, token_digest};
use crate::clock::Clock;
use crate::media::MediaHandle;
use crate::routing::SignalingRequest;
use crate::store::{AuditRow, CallSide, ConnectedRow, ParkRow, StoreWriter, Write};
use crate::tenant::{Account, Tenant, TenantError};
use crate::translate::{
    call_error, device_call, ended_park, notice_to_event, park_access, user_ref,
};

/// How many events may wait for a slow device before it is treated as gone.
pub const DEVICE_QUEUE: usize = 256;

/// The events for one device. Boxed because a channel allocates its first block of
/// 32 slots up front: at 104 bytes an event that is 3.3 KiB per idle connection.
pub type DeviceEvents = mpsc::Receiver<Box<Event>>;
const COMMAND_QUEUE: usize = 1024;

/// An admin operation with its reply channel inside, so that each operation keeps
/// its own answer type. It answers the caller and says whether the tenant changed.
type AdminJob = Box<dyn FnOnce(&mut Tenant, Timestamp) -> Result<(), TenantError> + Send>;

/// Why an admin operation did not happen or was not kept.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Refused(#[from] TenantError),
    #[error("the service is shutting down")]
    Stopping,
    /// Made in memory, refused by the store: it would be lost on restart.
    #[error("the change was made but could not be saved: {0}")]
    NotSaved(String),
}

enum Command {
    Attach {
        user: UserId,
        device: DeviceId,
        reply: oneshot::Sender<Result<DeviceEvents, ErrorBody>>,
    },
    Request {
        device: DeviceId,
        id: u64,
        kind: &'static str,
        request: SignalingRequest,
        reply: oneshot::Sender<ServerMessage>,
    },
    Detach {
        device: DeviceId,
        connection: DeviceId,
        how: Departure,
    },
    Flush {
        reply: oneshot::Sender<Committed>,
    },
    Credentials {
        login: String,
        reply: oneshot::Sender<Option<(UserId, Account)>>,
    },
    Admin {
        job: AdminJob,
        changes_tenant: bool,
        committed: oneshot::Sender<Option<Committed>>,
    },
    VoicemailFinished {
        call: CallId,
    },
    UserRef {
        user: UserId,
        reply: oneshot::Sender<Option<UserRef>>,
    },
    NotifyUser {
        user: UserId,
        event: Box<Event>,
    },
}

/// How a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Departure {
    /// The device closed it to sign off: it leaves its calls now.
    SignedOff,
    /// It broke, went silent, or the device closed it to connect again: the device
    /// keeps its calls for the grace period.
    Dropped,
}

/// Resolves once a write has been committed to the store.
type Committed = oneshot::Receiver<Result<(), String>>;

/// A connection's way to the exchange. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ExchangeHandle {
    commands: mpsc::Sender<Command>,
    clock: Clock,
}

fn exchange_gone() -> ErrorBody {
    ErrorBody::new("service_stopping", "The service is shutting down; try again in a moment.")
}

impl ExchangeHandle {
    /// Signs a device of `user` in; its events arrive on the returned receiver, which
    /// ends if the device falls too far behind.
    pub async fn attach(&self, user: UserId, device: DeviceId) -> Result<DeviceEvents, ErrorBody> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Attach { user, device, reply })
            .await
            .map_err(|_| exchange_gone())?;
        answer.await.map_err(|_| exchange_gone())?
    }

    /// Carries out one request from a device and returns its one reply.
    /// Carries out request `id` of `device`; `kind` names it in logs.
    pub async fn request(
        &self,
        device: DeviceId,
        id: u64,
        kind: &'static str,
        request: SignalingRequest,
    ) -> ServerMessage {
        let (reply, answer) = oneshot::channel();
        let command = Command::Request { device, id, kind, request, reply };
        if self.commands.send(command).await.is_err() {
            return reply_error(Some(id), exchange_gone());
        }
        answer.await.unwrap_or_else(|_| reply_error(Some(id), exchange_gone()))
    }

    /// The connection that was attached as `connection` (and is now `device`, if
    /// it resumed an earlier one) ended. A connection another one has since taken
    /// over ends without effect.
    pub async fn detach(&self, device: DeviceId, connection: DeviceId, how: Departure) {
        // If the exchange is gone, so is the device's state: nothing to undo.
        let _ = self.commands.send(Command::Detach { device, connection, how }).await;
    }

    /// Waits until everything the exchange has handed to the store so far is
    /// committed. Returns false if that could not be confirmed.
    pub async fn flush(&self) -> bool {
        let (reply, answer) = oneshot::channel();
        if self.commands.send(Command::Flush { reply }).await.is_err() {
            return false;
        }
        match answer.await {
            Ok(committed) => matches!(committed.await, Ok(Ok(()))),
            Err(_) => false,
        }
    }

    /// The user and sign-in data for a login name (any case), if it exists.
    pub async fn credentials(&self, login: &str) -> Option<(UserId, Account)> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(Command::Credentials { login: login.to_owned(), reply }).await.ok()?;
        answer.await.ok().flatten()
    }

    /// The service's time now.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The clock the exchange runs on, for everything else in the service.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// A voicemail recording reached its maximum length: the caller's call ends.
    pub async fn voicemail_finished(&self, call: CallId) {
        let _ = self.commands.send(Command::VoicemailFinished { call }).await;
    }

    /// A user as people see them, if the account still exists.
    pub async fn user_ref(&self, user: UserId) -> Option<UserRef> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(Command::UserRef { user, reply }).await.ok()?;
        answer.await.ok().flatten()
    }

    /// Tells every device of `user` something.
    pub async fn notify_user(&self, user: UserId, event: Event) {
        let _ = self.commands.send(Command::NotifyUser { user, event: Box::new(event) }).await;
    }

    /// Answers an admin's question about the tenant.
    pub async fn read<T: Send + 'static>(
        &self,
        actor: UserId,
        question: impl FnOnce(&Tenant) -> Result<T, TenantError> + Send + 'static,
    ) -> Result<T, AdminError> {
        self.admin(actor, false, move |tenant, _| question(tenant)).await
    }

    /// Carries out an admin's change to the tenant; it is committed to the store
    /// before this returns.
    pub async fn change<T: Send + 'static>(
        &self,
        actor: UserId,
        change: impl FnOnce(&mut Tenant, Timestamp) -> Result<T, TenantError> + Send + 'static,
    ) -> Result<T, AdminError> {
        self.admin(actor, true, change).await
    }

    async fn admin<T: Send + 'static>(
        &self,
        actor: UserId,
        changes_tenant: bool,
        operation: impl FnOnce(&mut Tenant, Timestamp) -> Result<T, TenantError> + Send + 'static,
    ) -> Result<T, AdminError> {
        let (reply, answer) = oneshot::channel();
        let job: AdminJob = Box::new(move |tenant, now| {
            let outcome = tenant.authorize(actor).and_then(|()| operation(tenant, now));
            let result = match &outcome {
                Ok(_) => Ok(()),
                Err(refusal) => {
                    tracing::info!(actor = actor.0, code = refusal.code(), "admin request refused");
                    Err(refusal.clone())
                }
            };
            let _ = reply.send(outcome);
            result
        });
        let (committed, saved) = oneshot::channel();
        self.commands
            .send(Command::Admin { job, changes_tenant, committed })
            .await
            .map_err(|_| AdminError::Stopping)?;
        let answer = answer.await.map_err(|_| AdminError::Stopping)??;
        match saved.await.map_err(|_| AdminError::Stopping)? {
            None => {}
            Some(committed) => match committed.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => return Err(AdminError::NotSaved(error)),
                Err(_) => return Err(AdminError::Stopping),
            },
        }
        Ok(answer)
    }
}

/// Starts the exchange on the current tokio runtime. `parks.restored` are the resume
/// tokens (by digest) of the callers' devices of parks restored into the tenant's
/// switchboard.
pub fn spawn(
    tenant: Tenant,
    store: StoreWriter,
    parks: RestartedParks,
    media: MediaHandle,
    clock: Clock,
) -> ExchangeHandle {
    let RestartedParks { restored } = parks;
    let (commands, receiver) = mpsc::channel(COMMAND_QUEUE);
    let exchange = Exchange {
        tenant,
        store,
        devices: HashMap::new(),
        resume_tokens: restored.into_iter().collect(),
        away_media: HashSet::new(),
        clock,
        media,
        outbox: Vec::new(),
        wrote: false,
        held: VecDeque::new(),
    };
    tokio::spawn(exchange.run(receiver));
    ExchangeHandle { commands, clock }
}

/// What became of the calls parked or connected when the service last stopped.
#[derive(Debug, Default)]
pub struct RestartedParks {
    /// The resume-token digests of the devices restored: parked callers' and both
    /// sides' of connected calls.
    pub restored: Vec<(String, DeviceId)>,
}

struct Exchange {
    tenant: Tenant,
    store: StoreWriter,
    devices: HashMap<DeviceId, Attached>,
    /// The device each resume token (by digest) brings back.
    resume_tokens: HashMap<String, DeviceId>,
    /// Dropped devices within their grace period whose peer connection is kept.
    away_media: HashSet<DeviceId>,
    clock: Clock,
    media: MediaHandle,
    /// Replies and events of the step being handled.
    outbox: Vec<Delivery>,
    /// The step being handled gave the store something to keep.
    wrote: bool,
    /// Replies and events waiting for the store: each batch leaves once the writes
    /// made before it are committed, in order (durable before acknowledged).
    held: VecDeque<Held>,
}

/// The connection a device's events go to.
struct Attached {
    events: mpsc::Sender<Box<Event>>,
    /// The device id the connection was attached with (its own, until it resumes
    /// an earlier device).
    connection: DeviceId,
    /// The digest of the resume token its last welcome gave.
    resume_digest: Option<String>,
}

/// Something to hand to a connection.
enum Delivery {
    Reply { to: oneshot::Sender<ServerMessage>, message: ServerMessage },
    Event { device: DeviceId, event: Box<Event> },
}

struct Held {
    committed: Committed,
    deliveries: Vec<Delivery>,
}

impl Exchange {
    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        loop {
            let deadline =
                self.tenant.switchboard.poll_timeout().map(|at| self.clock.instant_of(at));
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.handle(command),
                    None => break,
                },
                () = sleep_until(deadline), if deadline.is_some() => {
                    self.tenant.switchboard.handle_timeout(self.clock.now());
                    self.forget_departed_tokens();
                }
                committed = first_commit(&mut self.held) => self.release(committed),
            }
            self.deliver_outputs();
            self.send_or_hold();
        }
        tracing::debug!("exchange stopped: no connection handle left");
    }

    fn handle(&mut self, command: Command) {
        let now = self.clock.now();
        match command {
            Command::Attach { user, device, reply } => {
                let attached =
                    self.tenant.switchboard.handle_device_online(now, device, user).map(|()| {
                        let (events, receiver) = mpsc::channel(DEVICE_QUEUE);
                        let attached = Attached { events, connection: device, resume_digest: None };
                        self.devices.insert(device, attached);
                        receiver
                    });
                tracing::debug!(
                    user = user.0,
                    device = device.0,
                    ok = attached.is_ok(),
                    "device attach"
                );
                let _ = reply.send(attached.map_err(|error| call_error(&error)));
            }
            Command::Request { device, id, kind, request, reply } => {
                let message = self.handle_request(now, device, id, kind, request);
                self.outbox.push(Delivery::Reply { to: reply, message });
            }
            Command::Detach { device, connection, how } => {
                let current = self.devices.get(&device).map(|attached| attached.connection);
                if current == Some(connection) {
                    self.device_departed(now, device, how);
                }
            }
            Command::Flush { reply } => {
                let _ = reply.send(self.store.write_and_confirm(Write::Flush));
            }
            Command::Credentials { login, reply } => {
                let found = self.tenant.user_by_login(&login).and_then(|user| {
                    self.tenant.account(user).map(|account| (user, account.clone()))
                });
                let _ = reply.send(found);
            }
            Command::VoicemailFinished { call } => {
                self.tenant.switchboard.handle_voicemail_finished(call);
            }
            Command::UserRef { user, reply } => {
                let directory = self.tenant.switchboard.directory();
                let user = directory.user(user).is_some().then(|| user_ref(directory, user));
                let _ = reply.send(user);
            }
            Command::NotifyUser { user, event } => {
                for device in self.tenant.switchboard.devices_of(user) {
                    if let Some(attached) = self.devices.get(device) {
                        // A device too far behind misses this notice; the list is in the API.
                        let _ = attached.events.try_send(event.clone());
                    }
                }
            }
            Command::Admin { job, changes_tenant, committed } => {
                let changed = job(&mut self.tenant, now).is_ok() && changes_tenant;
                // The change's audit lines are queued before the confirmed tenant write,
                // so the reply (sent once that write is committed) is never ahead of them.
                self.deliver_outputs();
                let write = changed.then(|| {
                    self.store.write_and_confirm(Write::Tenant(Box::new(self.tenant.snapshot())))
                });
                let _ = committed.send(write);
            }
        }
    }

    /// The device's connection ended: it signed off (it leaves its calls now) or
    /// dropped (it keeps them for the grace period and can resume). A device that
    /// signed off loses its peer connection now. One that dropped keeps it: media
    /// travels apart from the WebSocket, so the call's audio goes on through a
    /// signaling drop; the peer connection goes when the device comes back (it
    /// negotiates anew) or when its grace period ends.
    fn device_departed(&mut self, now: Timestamp, device: DeviceId, how: Departure) {
        let Some(attached) = self.devices.remove(&device) else { return };
        let sb = &mut self.tenant.switchboard;
        match how {
            Departure::Dropped => sb.handle_device_dropped(now, device),
            Departure::SignedOff => sb.handle_device_offline(now, device),
        }
        let keeps_place = sb.is_away(device);
        if keeps_place {
            self.away_media.insert(device);
        } else {
            self.media.remove(device);
            if let Some(digest) = attached.resume_digest {
                self.resume_tokens.remove(&digest);
            }
        }
        tracing::debug!(device = device.0, ?how, keeps_place, "device detached");
    }

    /// Resume tokens and peer connections of devices that have left for good (their
    /// grace period ended).
    fn forget_departed_tokens(&mut self) {
        let sb = &self.tenant.switchboard;
        let devices = &self.devices;
        self.resume_tokens.retain(|_, device| devices.contains_key(device) || sb.is_away(*device));
        let media = &self.media;
        self.away_media.retain(|device| {
            let stays = devices.contains_key(device) || sb.is_away(*device);
            if !stays {
                media.remove(*device);
            }
            stays
        });
    }

    /// Hello on connection `connection`: with a resume token of a device of the same
    /// user that may still come back (or whose old connection has not noticed it is
    /// gone yet), the connection becomes that device again. Returns the device the
    /// connection is now, whether it resumed, and the token for next time.
    fn greet(
        &mut self,
        connection: DeviceId,
        user: UserId,
        resume: Option<&str>,
    ) -> (DeviceId, bool, String) {
        let resumable = resume
            .map(token_digest)
            .and_then(|digest| self.resume_tokens.get(&digest).copied())
            .filter(|earlier| {
                *earlier != connection
                    && self.tenant.switchboard.device_owner(*earlier) == Some(user)
                    && (self.tenant.switchboard.is_away(*earlier)
                        || self.devices.contains_key(earlier))
            });
        let device = match resumable.and_then(|earlier| {
            self.devices.remove(&connection).map(|attached| (earlier, attached))
        }) {
            Some((earlier, attached)) => {
                let now = self.clock.now();
                self.tenant.switchboard.handle_device_offline(now, connection);
                // The earlier connection, if it is still open, is taken over: its
                // events stop and its departure will be ignored.
                if let Some(superseded) = self.devices.insert(earlier, attached)
                    && let Some(digest) = superseded.resume_digest
                {
                    self.resume_tokens.remove(&digest);
                }
                self.tenant.switchboard.handle_device_returned(earlier);
                // The old peer connection is of no use: the device negotiates a new one.
                self.media.remove(earlier);
                self.away_media.remove(&earlier);
                tracing::info!(user = user.0, device = earlier.0, "device resumed");
                earlier
            }
            None => connection,
        };
        // A device keeps its token for life: a parked call's record names it, so
        // that its caller can come back after a restart too.
        let resumed = device != connection;
        let token = match resume {
            Some(token) if resumed => token.to_owned(),
            _ => random_token(),
        };
        let digest = token_digest(&token);
        if let Some(attached) = self.devices.get_mut(&device) {
            if let Some(old) = attached.resume_digest.replace(digest.clone()) {
                self.resume_tokens.remove(&old);
            }
            self.resume_tokens.insert(digest, device);
        }
        (device, resumed, token)
    }

    fn handle_request(
        &mut self,
        now: Timestamp,
        device: DeviceId,
        id: u64,
        kind: &'static str,
        request: SignalingRequest,
    ) -> ServerMessage {
        let result = self.carry_out(now, device, request);
        if let Err(error) = &result {
            tracing::debug!(device = device.0, request = kind, code = %error.code, "request refused");
        }
        match result {
            Ok(body) => reply_ok(id, body),
            Err(error) => reply_error(Some(id), error),
        }
    }

    fn carry_out(
        &mut self,
        now: Timestamp,
        device: DeviceId,
        request: SignalingRequest,
    ) -> Result<ReplyBody, ErrorBody> {
        let sb = &mut self.tenant.switchboard;
        let refused = |error: callpark_park::CallError| call_error(&error);
        match request {
            SignalingRequest::Hello { protocol, resume } => {
                if protocol != PROTOCOL_VERSION {
                    return Err(ErrorBody::new(
                        "protocol_unsupported",
                        format!(
                            "This service speaks protocol {PROTOCOL_VERSION}, not {protocol}. Update the app."
                        ),
                    ));
                }
                let user = sb
                    .device_owner(device)
                    .ok_or_else(|| refused(callpark_park::CallError::UnknownDevice))?;
                let (device, resumed, resume) = self.greet(device, user, resume.as_deref());
                let sb = &self.tenant.switchboard;
                let (policy, park_off) =
                    park_access(sb.directory(), &sb.directory().park_policy(user));
                let calls = sb.device_calls(device);
                let welcome = ReplyBody::Welcome(Box::new(Welcome {
                    protocol: PROTOCOL_VERSION,
                    user: user_ref(sb.directory(), user),
                    device: device.0,
                    policy,
                    park_off,
                    resume,
                    resumed,
                    calls: calls.iter().map(|call| device_call(sb.directory(), call)).collect(),
                    ended_parks: sb
                        .park_outcomes_of(user)
                        .map(|record| ended_park(sb.directory(), record))
                        .collect(),
                }));
                Ok(welcome)
            }
            SignalingRequest::Dial { to } => {
                let callee = self.tenant.user_by_login(&to).ok_or_else(|| {
                    ErrorBody::new("user_not_found", format!("There is no user {to:?} to call."))
                })?;
                let sb = &mut self.tenant.switchboard;
                let call = sb.handle_dial(now, device, callee).map_err(refused)?;
                Ok(ReplyBody::Dialing { call: call.0 })
            }
            SignalingRequest::Answer { call } => {
                sb.handle_answer(now, device, CallId(call)).map_err(refused)?;
                Ok(ReplyBody::Done)
            }
            SignalingRequest::Decline { call } => {
                sb.handle_decline(now, device, CallId(call)).map_err(refused)?;
                Ok(ReplyBody::Done)
            }
            SignalingRequest::Hangup { call } => {
                sb.handle_hangup(now, device, CallId(call)).map_err(refused)?;
                Ok(ReplyBody::Done)
            }
            SignalingRequest::Park { call } => {
                let receipt = sb.handle_park(now, device, CallId(call)).map_err(refused)?;
                Ok(ReplyBody::Parked {
                    call: receipt.call.0,
                    code: receipt.code,
                    ringback_at_ms: receipt.ringback_at.as_millis(),
                })
            }
            SignalingRequest::Retrieve { code } => {
                let code = Switchboard::parse_code(&code).map_err(refused)?;
                let receipt = sb.handle_retrieve(now, device, code).map_err(refused)?;
                Ok(ReplyBody::Retrieved {
                    call: receipt.call.0,
                    code: receipt.code,
                    caller: user_ref(sb.directory(), receipt.caller),
                    parked_by: user_ref(sb.directory(), receipt.parked_by),
                })
            }
            SignalingRequest::AcknowledgeParkEnded { call } => {
                sb.handle_acknowledge_park_ended(device, CallId(call)).map_err(refused)?;
                Ok(ReplyBody::Done)
            }
            SignalingRequest::SubscribeParked => {
                sb.handle_subscribe_parked(device, true).map_err(refused)?;
                Ok(ReplyBody::Done)
            }
            SignalingRequest::UnsubscribeParked => {
                sb.handle_subscribe_parked(device, false).map_err(refused)?;
                Ok(ReplyBody::Done)
            }
            SignalingRequest::SubscribePeople => {
                sb.handle_subscribe_people(device, true).map_err(refused)?;
                Ok(ReplyBody::Done)
            }
            SignalingRequest::Ping => Ok(ReplyBody::Pong),
        }
    }

    /// Carries out what the switchboard asked: media at once, writes to the store,
    /// events into the outbox.
    fn deliver_outputs(&mut self) {
        while let Some(output) = self.tenant.switchboard.poll_output() {
            match output {
                Output::Notify { device, notice } => {
                    if !self.devices.contains_key(&device) {
                        continue;
                    }
                    let tenant = &self.tenant;
                    let login_of = |user| tenant.login_of(user).map(str::to_owned);
                    let event = notice_to_event(tenant.switchboard.directory(), &login_of, &notice);
                    self.outbox.push(Delivery::Event { device, event: Box::new(event) });
                }
                Output::Media(command) => self.media.route(command),
                Output::Store(command) => {
                    self.store.write(self.park_write(command));
                    self.wrote = true;
                }
                Output::Audit(event) => {
                    trace_audit(&event);
                    self.store.write(Write::Audit(self.audit_row(&event)));
                    self.wrote = true;
                }
            }
        }
    }

    /// Ends a step: what it said leaves now, unless it wrote something (then it
    /// waits for the commit) or earlier words still wait (then it goes after them).
    fn send_or_hold(&mut self) {
        if self.outbox.is_empty() && !self.wrote {
            return;
        }
        let deliveries = std::mem::take(&mut self.outbox);
        if std::mem::take(&mut self.wrote) {
            let committed = self.store.write_and_confirm(Write::Flush);
            self.held.push_back(Held { committed, deliveries });
        } else if let Some(last) = self.held.back_mut() {
            last.deliveries.extend(deliveries);
        } else {
            self.send(deliveries);
        }
    }

    /// The oldest held batch's writes are committed (or the store failed): it leaves.
    fn release(&mut self, committed: Result<(), String>) {
        let Some(held) = self.held.pop_front() else { return };
        if let Err(error) = committed {
            // The change is made in memory and cannot be taken back; saying it did
            // not happen would be worse than saying it did.
            tracing::error!(%error, replies = held.deliveries.len(), "sending replies whose changes were not saved");
        }
        self.send(held.deliveries);
    }

    /// Hands replies and events to connections; a device whose queue is full is
    /// signed off.
    fn send(&mut self, deliveries: Vec<Delivery>) {
        let mut lost = Vec::new();
        for delivery in deliveries {
            match delivery {
                Delivery::Reply { to, message } => {
                    let _ = to.send(message);
                }
                Delivery::Event { device, event } => {
                    let Some(attached) = self.devices.get(&device) else { continue };
                    match attached.events.try_send(event) {
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Full(_)) => lost.push(device),
                        // Its connection ended; its departure (and how) is on its way.
                        Err(mpsc::error::TrySendError::Closed(_)) => {}
                    }
                }
            }
        }
        for device in lost {
            tracing::warn!(
                device = device.0,
                queued = DEVICE_QUEUE,
                "device fell behind (its event queue is full); signing it out"
            );
            let now = self.clock.now();
            self.device_departed(now, device, Departure::SignedOff);
            self.deliver_outputs();
            self.send_or_hold();
        }
    }
}

/// Resolves when the oldest held batch's writes are committed; never while none is held.
async fn first_commit(held: &mut VecDeque<Held>) -> Result<(), String> {
    match held.front_mut() {
        Some(first) => (&mut first.committed)
            .await
            .unwrap_or_else(|_| Err(crate::store::StoreError::WriterStopped.to_string())),
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

impl Exchange {
    fn policy_name(&self, policy: callpark_park::PolicyId) -> String {
        self.tenant
            .switchboard
            .directory()
            .policy(policy)
            .map_or_else(|| policy.to_string(), |policy| policy.identity.to_string())
    }

    /// The digest of the resume token the device was last given.
    fn resume_digest(&self, device: DeviceId) -> Option<String> {
        self.devices.get(&device).and_then(|attached| attached.resume_digest.clone())
    }

    fn call_side(&self, party: Party) -> CallSide {
        CallSide {
            user: party.user,
            device: party.device,
            resume_digest: self.resume_digest(party.device),
        }
    }

    fn park_write(&self, command: StoreCommand) -> Write {
        match command {
            StoreCommand::SaveParkedCall(record) => Write::SaveParked(ParkRow {
                call: record.call,
                policy: self.policy_name(record.policy),
                code: record.code,
                caller: record.caller,
                parked_by: record.parked_by,
                parked_at: record.parked_at,
                ringback_at: record.ringback_at,
                caller_device: self
                    .resume_digest(record.caller_device)
                    .map(|digest| (record.caller_device, digest)),
            }),
            StoreCommand::SaveConnectedCall(record) => Write::SaveConnected(ConnectedRow {
                call: record.call,
                a: self.call_side(record.a),
                b: self.call_side(record.b),
            }),
            StoreCommand::ForgetConnectedCall { call } => Write::ForgetConnected(call),
            StoreCommand::ParkEnded(record) => Write::ParkEnded(record),
            StoreCommand::ForgetParkOutcome { parked_by, call } => {
                Write::ForgetParkOutcome { parked_by, call }
            }
            StoreCommand::ReserveCallIds { through } => Write::ReserveCallIds(through),
        }
    }

    fn audit_row(&self, event: &AuditEvent) -> AuditRow {
        let login = |user: UserId| self.tenant.login_of(user).map(str::to_owned);
        let (kind, detail) = match event.kind {
            AuditKind::Parked { caller } => {
                ("parked", login(caller).map(|c| format!("caller {c}")))
            }
            AuditKind::ParkRefused { reason } => ("park_refused", Some(reason.to_owned())),
            AuditKind::Retrieved => ("retrieved", None),
            AuditKind::RetrieveRefused { reason } => ("retrieve_refused", Some(reason.to_owned())),
            AuditKind::RangBack => ("rang_back", None),
            AuditKind::RingbackAnswered => ("ringback_answered", None),
            AuditKind::FellBack(action) => (
                "fell_back",
                Some(match action {
                    UnansweredAction::Voicemail => "voicemail".to_owned(),
                    UnansweredAction::Disconnect => "disconnect".to_owned(),
                    UnansweredAction::Forward(to) => {
                        format!("forward:{}", login(to).unwrap_or_else(|| to.to_string()))
                    }
                }),
            ),
            AuditKind::CallerLeft => ("caller_left", None),
            AuditKind::Lost => ("lost", Some("service restarted".into())),
        };
        AuditRow {
            at: event.at,
            kind,
            detail,
            user_login: event.user.and_then(login),
            policy: event.policy.map(|policy| self.policy_name(policy)),
            call: event.call,
            code: event.code,
        }
    }
}

/// Every park event, at DEBUG: the audit log (in the store) is where they are kept.
fn trace_audit(event: &AuditEvent) {
    tracing::debug!(
        target: "callpark::audit",
        at = event.at.as_millis(),
        kind = ?event.kind,
        user = event.user.map(|u| u.0),
        policy = event.policy.map(|p| p.0),
        call = event.call.map(|c| c.0),
        code = event.code,
        "park event"
    );
}
