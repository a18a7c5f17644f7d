//! The client's side of the signaling protocol, as a state machine: a driver feeds
//! it what happened (connected, a frame, closed, time passed, a request) with the
//! time, and carries out what it asks for ([`Output`]), by [`Session::poll_output`]
//! until `None`, then sleeps until [`Session::poll_timeout`].
//!
//! Time is a [`Duration`] since any origin the driver picks (the same origin for the
//! whole session): the session never reads a clock.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use callpark_wire::{
    CLOSE_RESTARTING, CLOSE_SIGNED_OUT, ErrorBody, Event, PROTOCOL_VERSION, ReplyBody, ReplyResult,
    Request, RequestBody, ServerMessage, Welcome,
};

use crate::intent::Intent;
use crate::view::{Connection, ViewModel};

/// How long a request waits for its reply (hello included).
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// After this long without a word from the service, the session pings it.
pub const HEARTBEAT: Duration = Duration::from_secs(callpark_wire::HEARTBEAT_SECONDS);
/// After this long without a word (the ping unanswered too), the connection is
/// taken for dead and the session connects again.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(callpark_wire::SILENCE_LIMIT_SECONDS);
/// Quick retries first: most drops are short (a Wi-Fi roam, a restart), and a call
/// waits silent until the device is back.
const QUICK_RETRY: Duration = Duration::from_millis(250);
const QUICK_RETRIES: u32 = 8;
const LONGEST_RETRY: Duration = Duration::from_secs(4);

/// The session's number for a request; its outcome comes back as [`Output::Reply`].
pub type RequestId = u64;

/// Whether a reply is the kind a request is answered with ([`Intent::fits`]).
pub type Fits = fn(&ReplyBody) -> bool;

/// Why a request has no outcome.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The service refused: its code and message, as it gave them.
    #[error("{}", .0.message)]
    Refused(ErrorBody),
    #[error("the connection to the service is closed")]
    Closed,
    #[error("no reply from the service within {} s", .0.as_secs())]
    Timeout(Duration),
    #[error("the service sent something this client cannot read: {0}")]
    Protocol(String),
}

/// What the session asks its driver to do, or tells it.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// Open a connection to the service, then report [`Session::handle_connected`]
    /// or [`Session::handle_connect_failed`].
    Connect,
    /// Send this text frame on the open connection.
    Send(String),
    /// Close the connection, if one is open; report nothing more about it.
    /// `reconnect`: the session is about to connect again (close with
    /// [`callpark_wire::CLOSE_RECONNECTING`], so the service keeps the device's
    /// calls); otherwise it is signing off (a normal close).
    Close { reconnect: bool },
    /// The outcome of a request: a reply of the kind it is answered with, or why not.
    Reply { id: RequestId, result: Result<ReplyBody, RequestError> },
    /// The view model changed ([`Session::view`]).
    ViewChanged,
    /// Something to tell the shell as it happens.
    Notice(Notice),
}

/// What happened, for shells that react to moments rather than state (a
/// notification, a log line). The view model carries the state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Greeted by the service (again, after a reconnect).
    Online,
    /// The connection dropped; the session connects again after a backoff.
    Offline {
        reason: String,
    },
    /// The service no longer accepts this sign-in; the session stays offline.
    SignedOut {
        reason: String,
    },
    /// A call this device was in ended while its connection was down (its grace
    /// period passed, or the other side left): the welcome no longer lists it.
    CallLost {
        call: u64,
    },
    Event(Event),
}

/// Why a connection could not be opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectFailure {
    /// The service refused the token (HTTP 401).
    Unauthorized,
    /// Anything else: unreachable, TLS, a reset. Worth trying again.
    Failed(String),
    /// The connection can never be made as asked (a malformed address or token).
    Refused(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Asked the driver to connect; waiting to hear how that went.
    Connecting,
    /// Connected; `hello` sent, its reply due by `deadline`.
    Greeting {
        hello: RequestId,
        deadline: Duration,
    },
    /// Greeted. `heard` is when the service last said anything; `pinged` whether a
    /// heartbeat has been sent since.
    Online {
        heard: Duration,
        pinged: bool,
    },
    /// Lost; connecting again at `retry_at`.
    Waiting {
        retry_at: Duration,
    },
    SignedOut,
    Stopped,
}

/// A request sent or waiting to be sent.
#[derive(Debug)]
struct Pending {
    fits: Fits,
    deadline: Duration,
    /// The session's own (re-subscription): its outcome is only logged.
    own: bool,
    /// Ends the parked-calls list: once the service confirms, the view drops it
    /// (no more changes to it will come).
    unwatches_parked: bool,
}

/// The lists to keep subscribed across reconnects.
#[derive(Clone, Copy, Debug, Default)]
struct Watching {
    parked: bool,
    people: bool,
}

/// One signed-in device's signaling session. See the module documentation.
#[derive(Debug)]
pub struct Session {
    device_name: String,
    phase: Phase,
    view: ViewModel,
    next_id: RequestId,
    pending: BTreeMap<RequestId, Pending>,
    /// Requests made while connecting, sent once greeted.
    unsent: VecDeque<(RequestId, RequestBody)>,
    watching: Watching,
    /// Failed connection attempts since the last greeting.
    attempt: u32,
    /// The token from the last welcome: said in hello to come back as the same
    /// device after a drop.
    resume: Option<String>,
    /// Spreads the reconnect waits (never zero: xorshift would stay at zero).
    random: u64,
    outputs: VecDeque<Output>,
}

/// The longest wait before connection attempt `attempt + 1` after a loss: a quarter
/// second for the first two seconds, then doubling from half a second to four. The
/// session waits a random part of it, from half to all (see [`jittered`]).
pub fn backoff(attempt: u32) -> Duration {
    match attempt.checked_sub(QUICK_RETRIES) {
        None => QUICK_RETRY,
        Some(slow) => (QUICK_RETRY * 2).saturating_mul(1 << slow.min(4)).min(LONGEST_RETRY),
    }
}

/// A wait of between half and all of `longest`, chosen by `random`: devices that
/// lost the service together (a restart, a network outage) do not come back in step.
pub fn jittered(longest: Duration, random: u64) -> Duration {
    let fraction = (random >> 11) as f64 / (1u64 << 53) as f64;
    longest.mul_f64(0.5 + fraction / 2.0)
}

/// The next number of a xorshift64* sequence: enough to spread reconnects.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

impl Session {
    /// A session for a device named `device_name` ("Alice's laptop"); its first
    /// output asks the driver to connect. Drivers should prefer
    /// [`Session::with_seed`] with a random seed, so that devices spread their
    /// reconnects differently.
    pub fn new(device_name: &str) -> Session {
        Session::with_seed(device_name, 0x9E37_79B9_7F4A_7C15)
    }

    /// [`Session::new`], with the seed of its reconnect jitter.
    pub fn with_seed(device_name: &str, seed: u64) -> Session {
        Session {
            device_name: device_name.to_owned(),
            phase: Phase::Connecting,
            view: ViewModel::default(),
            next_id: 1,
            pending: BTreeMap::new(),
            unsent: VecDeque::new(),
            watching: Watching::default(),
            attempt: 0,
            resume: None,
            random: seed.max(1),
            outputs: VecDeque::from([Output::Connect]),
        }
    }

    /// Comes back as the device of an earlier session of this sign-in (a page
    /// reloaded mid-call): its first hello says `token`, the resume token of that
    /// session's last welcome ([`Session::resume_token`]), and the service hands
    /// it the device's calls if their grace period has not passed.
    pub fn resuming(mut self, token: &str) -> Session {
        self.resume = (!token.is_empty()).then(|| token.to_owned());
        self
    }

    /// The resume token of the last welcome, to keep across a restart of the shell.
    pub fn resume_token(&self) -> Option<&str> {
        self.resume.as_deref()
    }

    pub fn view(&self) -> &ViewModel {
        &self.view
    }

    /// Stopped for good: the driver can end once it has carried out the outputs.
    pub fn is_stopped(&self) -> bool {
        self.phase == Phase::Stopped
    }

    /// The next thing to do, until `None`.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`Session::handle_timeout`] is next due, if ever.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let phase = match self.phase {
            Phase::Greeting { deadline, .. } => Some(deadline),
            Phase::Waiting { retry_at } => Some(retry_at),
            Phase::Online { heard, pinged: false } => Some(heard + HEARTBEAT),
            Phase::Online { heard, pinged: true } => Some(heard + SILENCE_LIMIT),
            Phase::Connecting | Phase::SignedOut | Phase::Stopped => None,
        };
        let request = self.pending.values().map(|pending| pending.deadline).min();
        phase.into_iter().chain(request).min()
    }

    /// Asks the service for `intent`; its outcome comes as [`Output::Reply`] with
    /// the id returned (convert it with [`Intent::outcome`]).
    pub fn ask<I: Intent>(&mut self, intent: I, now: Duration) -> RequestId {
        self.request(intent.request(), I::fits, now)
    }

    /// [`Session::ask`] for a driver that carries requests untyped: `fits` says
    /// which replies answer `body`.
    pub fn request(&mut self, body: RequestBody, fits: Fits, now: Duration) -> RequestId {
        let id = self.take_id();
        self.remember_watching(&body);
        let pending = Pending {
            fits,
            deadline: now + REPLY_TIMEOUT,
            own: false,
            unwatches_parked: body == RequestBody::UnsubscribeParked,
        };
        match self.phase {
            Phase::Online { .. } => {
                self.pending.insert(id, pending);
                self.send(id, body);
            }
            Phase::Connecting | Phase::Greeting { .. } => {
                self.pending.insert(id, pending);
                self.unsent.push_back((id, body));
            }
            Phase::Waiting { .. } | Phase::SignedOut | Phase::Stopped => {
                self.outputs.push_back(Output::Reply { id, result: Err(RequestError::Closed) });
            }
        }
        id
    }

    /// The connection asked for by [`Output::Connect`] is open: say hello.
    pub fn handle_connected(&mut self, now: Duration) {
        if self.phase != Phase::Connecting {
            return;
        }
        let hello = self.take_id();
        self.send(
            hello,
            RequestBody::Hello {
                protocol: PROTOCOL_VERSION,
                device_name: self.device_name.clone(),
                resume: self.resume.clone(),
            },
        );
        self.phase = Phase::Greeting { hello, deadline: now + REPLY_TIMEOUT };
    }

    /// The connection asked for by [`Output::Connect`] could not be opened.
    pub fn handle_connect_failed(&mut self, failure: ConnectFailure, now: Duration) {
        if self.phase != Phase::Connecting {
            return;
        }
        match failure {
            ConnectFailure::Unauthorized => {
                self.sign_out("the token is unknown or has expired".into());
            }
            ConnectFailure::Failed(reason) => self.lose(reason, now),
            ConnectFailure::Refused(reason) => self.sign_out(reason),
        }
    }

    /// The open connection closed: with the close frame's code and reason, or with
    /// no code when it broke (`reason` then says how).
    pub fn handle_closed(&mut self, code: Option<u16>, reason: &str, now: Duration) {
        if !matches!(self.phase, Phase::Greeting { .. } | Phase::Online { .. }) {
            return;
        }
        match code {
            Some(CLOSE_SIGNED_OUT) => self.sign_out(reason.to_owned()),
            Some(CLOSE_RESTARTING) => self.lose("the service is restarting".into(), now),
            Some(_) => self.lose("the service closed the connection".into(), now),
            None => self.lose(reason.to_owned(), now),
        }
    }

    /// A text frame from the service.
    pub fn handle_frame(&mut self, text: &str, now: Duration) {
        match &mut self.phase {
            Phase::Online { heard, pinged } => (*heard, *pinged) = (now, false),
            Phase::Greeting { .. } => {}
            _ => return,
        }
        match ServerMessage::from_json(text) {
            Ok(ServerMessage::Reply { id: Some(id), result }) => self.reply(id, result, now),
            Ok(ServerMessage::Reply { id: None, result }) => {
                tracing::warn!(?result, "the service refused a request it could not read");
            }
            Ok(ServerMessage::Event { event }) => {
                self.view.apply(&event);
                self.view_changed();
                self.outputs.push_back(Output::Notice(Notice::Event(event)));
            }
            Err(error) => tracing::warn!(%error, "unreadable message from the service"),
        }
    }

    /// Time passed: retry a connection, give up on hello or on overdue requests,
    /// ping a quiet service, give up on a silent one.
    pub fn handle_timeout(&mut self, now: Duration) {
        match self.phase {
            Phase::Waiting { retry_at } if now >= retry_at => self.connect(),
            Phase::Greeting { deadline, .. } if now >= deadline => {
                self.lose("no reply to hello".into(), now);
            }
            Phase::Online { heard, .. } if now >= heard + SILENCE_LIMIT => {
                let silent = SILENCE_LIMIT.as_secs();
                self.lose(format!("no word from the service for {silent} s"), now);
            }
            Phase::Online { heard, pinged: false } if now >= heard + HEARTBEAT => {
                self.phase = Phase::Online { heard, pinged: true };
                self.send_own(RequestBody::Ping, |reply| *reply == ReplyBody::Pong, now);
            }
            _ => {}
        }
        let overdue: Vec<RequestId> = self
            .pending
            .iter()
            .filter(|(_, pending)| pending.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in overdue {
            self.unsent.retain(|(unsent, _)| *unsent != id);
            if let Some(pending) = self.pending.remove(&id) {
                self.settle(id, &pending, Err(RequestError::Timeout(REPLY_TIMEOUT)));
            }
        }
    }

    /// Closes the connection and stops connecting; requests from now on fail.
    pub fn stop(&mut self) {
        if self.phase == Phase::Stopped {
            return;
        }
        self.fail_pending();
        // A signed-out view keeps saying why.
        if self.phase != Phase::SignedOut {
            self.view.went_offline(Connection::Stopped);
            self.view_changed();
        }
        self.phase = Phase::Stopped;
        self.outputs.push_back(Output::Close { reconnect: false });
    }

    fn take_id(&mut self) -> RequestId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn send(&mut self, id: RequestId, body: RequestBody) {
        match serde_json::to_string(&Request { id, body }) {
            Ok(frame) => self.outputs.push_back(Output::Send(frame)),
            Err(error) => {
                if let Some(pending) = self.pending.remove(&id) {
                    let result =
                        Err(RequestError::Protocol(format!("unserialisable request: {error}")));
                    self.settle(id, &pending, result);
                }
            }
        }
    }

    /// A list asked for while offline is subscribed to once connected.
    fn remember_watching(&mut self, body: &RequestBody) {
        match body {
            RequestBody::SubscribeParked => self.watching.parked = true,
            RequestBody::UnsubscribeParked => self.watching.parked = false,
            RequestBody::SubscribePeople => self.watching.people = true,
            _ => {}
        }
    }

    fn reply(&mut self, id: RequestId, result: ReplyResult, now: Duration) {
        if let Phase::Greeting { hello, .. } = self.phase
            && hello == id
        {
            self.welcomed(result, now);
            return;
        }
        let Some(pending) = self.pending.remove(&id) else { return };
        if pending.unwatches_parked && matches!(result, ReplyResult::Ok(_)) {
            self.view.parked = None;
            self.view_changed();
        }
        let result = match result {
            ReplyResult::Ok(body) if (pending.fits)(&body) => Ok(body),
            ReplyResult::Ok(body) => {
                Err(RequestError::Protocol(format!("unexpected reply from the service: {body:?}")))
            }
            ReplyResult::Error(error) => Err(RequestError::Refused(error)),
        };
        self.settle(id, &pending, result);
    }

    /// The outcome of a request goes to whoever asked.
    fn settle(
        &mut self,
        id: RequestId,
        pending: &Pending,
        result: Result<ReplyBody, RequestError>,
    ) {
        if !pending.own {
            self.outputs.push_back(Output::Reply { id, result });
        } else if let Err(error) = result
            && error != RequestError::Closed
        {
            tracing::warn!(%error, "a request of the session's own (re-subscribing, heartbeat) failed");
        }
    }

    fn welcomed(&mut self, result: ReplyResult, now: Duration) {
        match result {
            ReplyResult::Ok(ReplyBody::Welcome(welcome)) => {
                let Welcome { user, policy, park_off, resume, resumed, calls, ended_parks, .. } =
                    *welcome;
                self.phase = Phase::Online { heard: now, pinged: false };
                self.attempt = 0;
                self.resume = (!resume.is_empty()).then_some(resume);
                tracing::info!(resumed, calls = calls.len(), "greeted by the service");
                let lost: Vec<u64> = (self.view.calls.keys().copied())
                    .filter(|shown| !calls.iter().any(|call| call.call == *shown))
                    .collect();
                let newly_ended = self.view.welcomed(&calls, &ended_parks);
                self.view.user = Some(user);
                self.view.policy = policy;
                self.view.park_off = park_off;
                self.view_changed();
                let own = [
                    (self.watching.parked, RequestBody::SubscribeParked),
                    (self.watching.people, RequestBody::SubscribePeople),
                ];
                for (watching, body) in own {
                    // A subscription asked for while connecting goes out as asked.
                    if watching && !self.unsent.iter().any(|(_, unsent)| *unsent == body) {
                        self.send_own(body, |reply| *reply == ReplyBody::Done, now);
                    }
                }
                while let Some((id, body)) = self.unsent.pop_front() {
                    self.send(id, body);
                }
                self.outputs.push_back(Output::Notice(Notice::Online));
                for call in lost {
                    self.outputs.push_back(Output::Notice(Notice::CallLost { call }));
                }
                // Told once per outcome, however often the service lists it again.
                for ended in newly_ended {
                    self.outputs.push_back(Output::Notice(Notice::Event(Event::ParkEnded(ended))));
                }
            }
            ReplyResult::Ok(other) => {
                self.lose(format!("unexpected reply to hello: {other:?}"), now)
            }
            ReplyResult::Error(error) => self.sign_out(error.message),
        }
    }

    /// A request of the session's own (re-subscribing, a heartbeat): its outcome is
    /// only logged.
    fn send_own(&mut self, body: RequestBody, fits: Fits, now: Duration) {
        let id = self.take_id();
        let pending =
            Pending { fits, deadline: now + REPLY_TIMEOUT, own: true, unwatches_parked: false };
        self.pending.insert(id, pending);
        self.send(id, body);
    }

    fn connect(&mut self) {
        self.phase = Phase::Connecting;
        if !matches!(self.view.connection, Connection::Reconnecting { .. }) {
            self.view.connection = Connection::Connecting;
            self.view_changed();
        }
        self.outputs.push_back(Output::Connect);
    }

    /// The connection is gone: requests in flight fail, and the session tries again
    /// after a backoff that grows with each failed attempt.
    fn lose(&mut self, reason: String, now: Duration) {
        self.fail_pending();
        self.outputs.push_back(Output::Close { reconnect: true });
        self.attempt += 1;
        let wait = jittered(backoff(self.attempt - 1), next_random(&mut self.random));
        let retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        tracing::info!(%reason, attempt = self.attempt, retry_in_ms, "signaling connection lost");
        self.view.went_offline(Connection::Reconnecting {
            attempt: self.attempt,
            retry_in_ms,
            reason: reason.clone(),
        });
        self.view_changed();
        self.phase = Phase::Waiting { retry_at: now + wait };
        self.outputs.push_back(Output::Notice(Notice::Offline { reason }));
    }

    fn sign_out(&mut self, reason: String) {
        tracing::warn!(%reason, "the service refused the sign-in");
        self.fail_pending();
        self.outputs.push_back(Output::Close { reconnect: false });
        self.view.went_offline(Connection::SignedOut { reason: reason.clone() });
        self.view_changed();
        self.phase = Phase::SignedOut;
        self.outputs.push_back(Output::Notice(Notice::SignedOut { reason }));
    }

    fn fail_pending(&mut self) {
        self.unsent.clear();
        for (id, pending) in std::mem::take(&mut self.pending) {
            self.settle(id, &pending, Err(RequestError::Closed));
        }
    }

    /// Tells the driver once per burst of changes.
    fn view_changed(&mut self) {
        if self.outputs.back() != Some(&Output::ViewChanged) {
            self.outputs.push_back(Output::ViewChanged);
        }
    }
}
