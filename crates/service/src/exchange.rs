//! The task that owns the tenant and its switchboard: it takes requests and
//! connection changes from connections and admin operations from the REST API,
//! passes the time in, runs the timers, delivers every notice to the device it is
//! for, and hands every change to the store writer in order. It holds no park rules:
//! those are all in `callpark-park`.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use callpark_park::{
    AuditEvent, AuditKind, CallId, DeviceId, Output, StoreCommand, Switchboard, Timestamp,
    UnansweredAction, UserId,
};
use callpark_wire::{
    ErrorBody, Event, PROTOCOL_VERSION, ParkOutcome, ReplyBody, Request, RequestBody,
    ServerMessage, UserRef, reply_error, reply_ok,
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::media::MediaHandle;
use crate::refusal::Refusal;
use crate::store::{AuditRow, ParkRow, StoreWriter, Write};
use crate::tenant::{Account, AdminOp, AdminReply, Tenant};
use crate::translate::{call_error, notice_to_event, park_access, user_ref};

/// How many events may wait for a slow device before it is treated as gone.
pub const DEVICE_QUEUE: usize = 256;

/// The events for one device. Boxed because a channel allocates its first block of
/// 32 slots up front: at 104 bytes an event that is 3.3 KiB per idle connection.
pub type DeviceEvents = mpsc::Receiver<Box<Event>>;
const COMMAND_QUEUE: usize = 1024;

enum Command {
    Attach {
        user: UserId,
        device: DeviceId,
        reply: oneshot::Sender<Result<DeviceEvents, ErrorBody>>,
    },
    Request {
        device: DeviceId,
        request: Request,
        reply: oneshot::Sender<ServerMessage>,
    },
    Detach {
        device: DeviceId,
    },
    Flush {
        reply: oneshot::Sender<Committed>,
    },
    Credentials {
        login: String,
        reply: oneshot::Sender<Option<(UserId, Account)>>,
    },
    Admin {
        actor: UserId,
        op: AdminOp,
        reply: oneshot::Sender<Result<(AdminReply, Option<Committed>), Refusal>>,
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

/// Resolves once a write has been committed to the store.
type Committed = oneshot::Receiver<Result<(), String>>;

/// The service's clock: wall time in milliseconds, advanced by tokio's monotonic
/// clock (so tests can pause and advance it).
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    base: Instant,
    base_millis: u64,
}

impl Clock {
    pub fn start() -> Self {
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Self {
            base: Instant::now(),
            base_millis: u64::try_from(since_epoch.as_millis()).unwrap_or(0),
        }
    }

    pub fn now(&self) -> Timestamp {
        let elapsed = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX);
        Timestamp::from_millis(self.base_millis.saturating_add(elapsed))
    }

    fn instant_of(&self, at: Timestamp) -> Instant {
        self.base + Duration::from_millis(at.as_millis().saturating_sub(self.base_millis))
    }
}

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
    pub async fn request(&self, device: DeviceId, request: Request) -> ServerMessage {
        let id = request.id;
        let (reply, answer) = oneshot::channel();
        if self.commands.send(Command::Request { device, request, reply }).await.is_err() {
            return reply_error(Some(id), exchange_gone());
        }
        answer.await.unwrap_or_else(|_| reply_error(Some(id), exchange_gone()))
    }

    /// The device signed out or its connection is gone.
    pub async fn detach(&self, device: DeviceId) {
        // If the exchange is gone, so is the device's state: nothing to undo.
        let _ = self.commands.send(Command::Detach { device }).await;
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

    /// Carries out an admin operation for `actor`; changes are committed to the store
    /// before this returns.
    pub async fn admin(&self, actor: UserId, op: AdminOp) -> Result<AdminReply, Refusal> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Admin { actor, op, reply })
            .await
            .map_err(|_| Refusal::unavailable())?;
        let (reply, committed) = answer.await.map_err(|_| Refusal::unavailable())??;
        if let Some(committed) = committed {
            match committed.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    return Err(Refusal::internal(format!(
                        "The change was made but could not be saved: {error}. It will be lost on restart."
                    )));
                }
                Err(_) => return Err(Refusal::unavailable()),
            }
        }
        Ok(reply)
    }
}

/// Starts the exchange on the current tokio runtime. `lost` are parks from before a
/// restart whose parkers have not been told yet.
pub fn spawn(
    tenant: Tenant,
    store: StoreWriter,
    lost: Vec<ParkRow>,
    media: MediaHandle,
) -> ExchangeHandle {
    let (commands, receiver) = mpsc::channel(COMMAND_QUEUE);
    let mut lost_by_parker: HashMap<UserId, Vec<ParkRow>> = HashMap::new();
    for park in lost {
        lost_by_parker.entry(park.parked_by).or_default().push(park);
    }
    let clock = Clock::start();
    let exchange =
        Exchange { tenant, store, lost: lost_by_parker, devices: HashMap::new(), clock, media };
    tokio::spawn(exchange.run(receiver));
    ExchangeHandle { commands, clock }
}

struct Exchange {
    tenant: Tenant,
    store: StoreWriter,
    lost: HashMap<UserId, Vec<ParkRow>>,
    devices: HashMap<DeviceId, mpsc::Sender<Box<Event>>>,
    clock: Clock,
    media: MediaHandle,
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
                }
            }
            self.deliver_outputs();
        }
        tracing::debug!("exchange stopped: no connection handle left");
    }

    fn handle(&mut self, command: Command) {
        let now = self.clock.now();
        match command {
            Command::Attach { user, device, reply } => {
                let attached =
                    self.tenant.switchboard.handle_device_online(now, device, user).map(|()| {
                        let (sender, receiver) = mpsc::channel(DEVICE_QUEUE);
                        self.devices.insert(device, sender);
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
            Command::Request { device, request, reply } => {
                let answer = self.handle_request(now, device, request);
                let _ = reply.send(answer);
            }
            Command::Detach { device } => self.device_gone(now, device),
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
                    if let Some(sender) = self.devices.get(device) {
                        // A device too far behind misses this notice; the list is in the API.
                        let _ = sender.try_send(event.clone());
                    }
                }
            }
            Command::Admin { actor, op, reply } => {
                let changes = op.changes_tenant();
                let outcome = self.tenant.admin(now, actor, op);
                // The change's audit lines are queued before the confirmed tenant write,
                // so the reply (sent once that write is committed) is never ahead of them.
                self.deliver_outputs();
                let outcome = outcome.map(|answer| {
                    let committed = changes.then(|| {
                        self.store
                            .write_and_confirm(Write::Tenant(Box::new(self.tenant.snapshot())))
                    });
                    (answer, committed)
                });
                if let Err(refusal) = &outcome {
                    tracing::info!(actor = actor.0, code = %refusal.body.code, "admin request refused");
                }
                let _ = reply.send(outcome);
            }
        }
    }

    /// Tells a parker who just said hello about their parks lost to a restart.
    fn report_lost_parks(&mut self, device: DeviceId, user: UserId) {
        let Some(sender) = self.devices.get(&device) else { return };
        for park in self.lost.remove(&user).unwrap_or_default() {
            let event = Event::ParkEnded {
                call: park.call.0,
                code: park.code,
                outcome: ParkOutcome::Lost,
                by: None,
            };
            if sender.try_send(Box::new(event)).is_ok() {
                tracing::info!(
                    user = user.0,
                    call = park.call.0,
                    "parker told of a park lost to a restart"
                );
                self.store.write(Write::LostReported(park.call));
            } else {
                self.lost.entry(user).or_default().push(park);
            }
        }
    }

    fn device_gone(&mut self, now: Timestamp, device: DeviceId) {
        if self.devices.remove(&device).is_some() {
            tracing::debug!(device = device.0, "device detached");
        }
        self.tenant.switchboard.handle_device_offline(now, device);
    }

    fn handle_request(
        &mut self,
        now: Timestamp,
        device: DeviceId,
        request: Request,
    ) -> ServerMessage {
        let Request { id, body } = request;
        let kind = body.kind();
        let result = self.carry_out(now, device, body);
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
        body: RequestBody,
    ) -> Result<ReplyBody, ErrorBody> {
        let sb = &mut self.tenant.switchboard;
        let refused = |error: callpark_park::CallError| call_error(&error);
        match body {
            RequestBody::Hello { protocol, .. } => {
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
                let (policy, park_off) =
                    park_access(sb.directory(), &sb.directory().park_policy(user));
                let welcome = ReplyBody::Welcome {
                    protocol: PROTOCOL_VERSION,
                    user: user_ref(sb.directory(), user),
                    device: device.0,
                    policy,
                    park_off,
                };
                self.report_lost_parks(device, user);
                Ok(welcome)
            }
            // Connections hand offers to the media anchor; one here came another way.
            RequestBody::MediaOffer { .. } => Err(ErrorBody::new(
                "media_unavailable",
                "Media offers go over the signaling connection of a signed-in device.",
            )),
            RequestBody::Dial { to } => {
                let callee = self.tenant.user_by_login(&to).ok_or_else(|| {
                    ErrorBody::new("user_not_found", format!("There is no user {to:?} to call."))
                })?;
                let sb = &mut self.tenant.switchboard;
                let call = sb.handle_dial(now, device, callee).map_err(refused)?;
                Ok(ReplyBody::Dialing { call: call.0 })
            }
            RequestBody::Answer { call } => {
                sb.handle_answer(now, device, CallId(call)).map_err(refused)?;
                Ok(ReplyBody::Done)
            }
            RequestBody::Decline { call } => {
                sb.handle_decline(now, device, CallId(call)).map_err(refused)?;
                Ok(ReplyBody::Done)
            }
            RequestBody::Hangup { call } => {
                sb.handle_hangup(now, device, CallId(call)).map_err(refused)?;
                Ok(ReplyBody::Done)
            }
            RequestBody::Park { call } => {
                let receipt = sb.handle_park(now, device, CallId(call)).map_err(refused)?;
                Ok(ReplyBody::Parked {
                    call: receipt.call.0,
                    code: receipt.code,
                    ringback_at_ms: receipt.ringback_at.as_millis(),
                })
            }
            RequestBody::Retrieve { code } => {
                let code = Switchboard::parse_code(&code).map_err(refused)?;
                let receipt = sb.handle_retrieve(now, device, code).map_err(refused)?;
                Ok(ReplyBody::Retrieved {
                    call: receipt.call.0,
                    code: receipt.code,
                    caller: user_ref(sb.directory(), receipt.caller),
                    parked_by: user_ref(sb.directory(), receipt.parked_by),
                })
            }
            RequestBody::SubscribeParked => {
                sb.handle_subscribe_parked(device, true).map_err(refused)?;
                Ok(ReplyBody::Done)
            }
            RequestBody::UnsubscribeParked => {
                sb.handle_subscribe_parked(device, false).map_err(refused)?;
                Ok(ReplyBody::Done)
            }
            RequestBody::SubscribePeople => {
                sb.handle_subscribe_people(device, true).map_err(refused)?;
                Ok(ReplyBody::Done)
            }
            RequestBody::Ping => Ok(ReplyBody::Pong),
        }
    }

    /// Carries out what the switchboard asked; a device whose queue is full is lost.
    fn deliver_outputs(&mut self) {
        let mut lost = Vec::new();
        while let Some(output) = self.tenant.switchboard.poll_output() {
            match output {
                Output::Notify { device, notice } => {
                    let Some(sender) = self.devices.get(&device) else { continue };
                    let tenant = &self.tenant;
                    let login_of = |user| tenant.login_of(user).map(str::to_owned);
                    let event = notice_to_event(tenant.switchboard.directory(), &login_of, &notice);
                    match sender.try_send(Box::new(event)) {
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            lost.push((device, Lost::Behind))
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => {
                            lost.push((device, Lost::Gone))
                        }
                    }
                }
                Output::Media(command) => self.media.route(command),
                Output::Store(command) => self.store.write(self.park_write(command)),
                Output::Audit(event) => {
                    trace_audit(&event);
                    self.store.write(Write::Audit(self.audit_row(&event)));
                }
            }
        }
        for (device, why) in lost {
            match why {
                Lost::Behind => tracing::warn!(
                    device = device.0,
                    queued = DEVICE_QUEUE,
                    "device fell behind (its event queue is full); signing it out"
                ),
                // Its connection closed before the exchange heard: an ordinary hang-up.
                Lost::Gone => tracing::debug!(device = device.0, "device gone"),
            }
            let now = self.clock.now();
            self.device_gone(now, device);
            self.deliver_outputs();
        }
    }
}

/// Why an event could not be handed to a device.
#[derive(Clone, Copy, Debug)]
enum Lost {
    Behind,
    Gone,
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
            }),
            StoreCommand::DeleteParkedCall { call } => Write::DeleteParked(call),
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
