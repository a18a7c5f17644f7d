//! The media anchor's task: one UDP socket for every device, one str0m `Rtc` per
//! signed-in device (ICE-lite, DTLS-SRTP, Opus only), kept across calls. Calls,
//! parks and retrieves only change which packets are written to which track.
//!
//! The peers run in str0m's RTP mode: a relay forwards each Opus packet's payload as
//! it arrives, with the outgoing track's own sequence numbers and times
//! (`Timeline`). Frame mode depacketised every packet into a frame and packetised it
//! again, and sent only on the next timeout; at 2,000 parked callers that was most
//! of the anchor's core.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use callpark_park::{DeviceId, MediaCommand};
use callpark_wire::ErrorBody;
use str0m::change::SdpOffer;
use str0m::format::Codec;
use str0m::media::{Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{RtpPacket, RtpWrite};
use str0m::{Event, IceConnectionState, Input, Output, Reason, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::time::MissedTickBehavior;

use super::recorder::{Finished, Recorder};
use super::routes::{Routes, Source};
use super::sources::Sounds;
use super::timeline::{Origin, Timeline};

/// The largest datagram read; WebRTC keeps packets under the path MTU.
const RECEIVE_BUFFER: usize = 2_000;
const FRAME: Duration = Duration::from_millis(20);
/// The longest an idle peer (connected, in no call) sleeps. Its own timers would wake
/// it every few seconds for RTCP reports nobody reads and ICE-lite bookkeeping; the
/// device's consent check (every 10 s from our clients) wakes it anyway, and if
/// the checks stop, waking this much later still notices the path gone (str0m
/// forgets it 15 s after the last check). What 10,000 idle devices cost rests on it.
const IDLE_PEER_WAKE: Duration = Duration::from_secs(20);

/// STUN (RFC 7983: first byte 0–3).
fn is_stun(datagram: &[u8]) -> bool {
    datagram.first().is_some_and(|first| *first <= 3)
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("cannot open the media port {address} (UDP): {source}")]
    Bind { address: SocketAddr, source: std::io::Error },
    #[error(
        "the media address {0} is unspecified; set media_public_ip to the address devices reach this host at"
    )]
    Unreachable(IpAddr),
    #[error("the hold music and tones could not be made: start-up was interrupted")]
    Interrupted,
    #[error("cannot encode the hold music and tones: {0}")]
    Sounds(#[from] opus::Error),
}

/// What the anchor is asked to do.
#[derive(Debug)]
pub enum Request {
    Offer { device: DeviceId, sdp: String, reply: oneshot::Sender<Result<String, ErrorBody>> },
    Route(MediaCommand),
    Remove(DeviceId),
    Counters(oneshot::Sender<MediaCounters>),
}

/// What the anchor has handled since it started, for operators and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MediaCounters {
    /// RTP packets that arrived from devices (before any check).
    pub rtp_received: u64,
    /// Of those, the ones nobody hears (no route, no voicemail): dropped before
    /// decryption, never relayed or decoded.
    pub rtp_dropped_unheard: u64,
    /// Packets relayed from one device to another.
    pub rtp_relayed: u64,
    /// Frames of hold music, ringing tone and greetings sent.
    pub generated_sent: u64,
    /// STUN messages that arrived (consent checks, mostly).
    pub stun_received: u64,
    /// RTCP reports that arrived.
    pub rtcp_received: u64,
    /// Of those, the ones from a device in no call: dropped before decryption.
    pub rtcp_dropped_idle: u64,
    /// RTCP reports str0m made for a device in no call, not sent (no media to
    /// report on either way).
    pub rtcp_withheld_idle: u64,
}

/// How connections and the exchange reach the anchor. Cheap to clone.
#[derive(Clone, Debug)]
pub struct MediaHandle {
    requests: mpsc::UnboundedSender<Request>,
}

impl MediaHandle {
    /// Answers a device's WebRTC offer (the first, or a renegotiation or ICE restart
    /// of its existing peer connection).
    pub async fn offer(&self, device: DeviceId, sdp: String) -> Result<String, ErrorBody> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(Request::Offer { device, sdp, reply }).map_err(|_| media_gone())?;
        answer.await.map_err(|_| media_gone())?
    }

    /// Applies a routing command from the switchboard. Never waits.
    pub fn route(&self, command: MediaCommand) {
        if self.requests.send(Request::Route(command)).is_err() {
            tracing::warn!(?command, "media anchor gone; route dropped");
        }
    }

    /// The device's connection ended: its peer connection is closed. Its routes
    /// stay until the switchboard ends its leg (it may come back with a new one).
    pub fn remove(&self, device: DeviceId) {
        let _ = self.requests.send(Request::Remove(device));
    }

    /// The anchor's counters so far.
    pub async fn counters(&self) -> Result<MediaCounters, ErrorBody> {
        let (reply, counters) = oneshot::channel();
        self.requests.send(Request::Counters(reply)).map_err(|_| media_gone())?;
        counters.await.map_err(|_| media_gone())
    }

    /// A handle whose requests arrive on the returned receiver instead of at an
    /// anchor (for driving the exchange without media).
    pub fn channel() -> (MediaHandle, mpsc::UnboundedReceiver<Request>) {
        let (requests, receiver) = mpsc::unbounded_channel();
        (MediaHandle { requests }, receiver)
    }
}

fn media_gone() -> ErrorBody {
    ErrorBody::new(
        "service_stopping",
        "The service's media is shutting down; try again in a moment.",
    )
}

/// Binds the media socket and starts the anchor. `public_ip` is the address put in
/// answers when the socket is bound to an unspecified one.
/// Room for a whole frame period's burst: every parked caller's hold music leaves in
/// the same tick, and on one port. The kernel caps it (net.core.wmem_max/rmem_max).
const SOCKET_BUFFER_BYTES: usize = 4 << 20;

fn size_buffers(socket: &UdpSocket) {
    let socket = socket2::SockRef::from(socket);
    if let Err(error) = socket.set_send_buffer_size(SOCKET_BUFFER_BYTES) {
        tracing::warn!(%error, "cannot enlarge the media send buffer");
    }
    if let Err(error) = socket.set_recv_buffer_size(SOCKET_BUFFER_BYTES) {
        tracing::warn!(%error, "cannot enlarge the media receive buffer");
    }
    tracing::debug!(
        send = socket.send_buffer_size().unwrap_or_default(),
        receive = socket.recv_buffer_size().unwrap_or_default(),
        "media socket buffers"
    );
}

pub async fn spawn_anchor(
    bind: SocketAddr,
    public_ip: Option<IpAddr>,
    recorder: Recorder,
) -> Result<MediaHandle, MediaError> {
    let advertised_ip = public_ip.unwrap_or(bind.ip());
    if advertised_ip.is_unspecified() {
        return Err(MediaError::Unreachable(advertised_ip));
    }
    let sounds = tokio::task::spawn_blocking(Sounds::render)
        .await
        .map_err(|_| MediaError::Interrupted)??;
    let socket =
        UdpSocket::bind(bind).await.map_err(|source| MediaError::Bind { address: bind, source })?;
    let local = socket.local_addr().map_err(|source| MediaError::Bind { address: bind, source })?;
    size_buffers(&socket);
    let address = SocketAddr::new(advertised_ip, local.port());
    tracing::info!(%local, %address, "media anchor listening (UDP)");
    let (requests, receiver) = mpsc::unbounded_channel();
    let anchor = Anchor {
        socket,
        local,
        candidate_address: address,
        sounds,
        recorder,
        peers: HashMap::new(),
        by_address: HashMap::new(),
        deadlines: BTreeSet::new(),
        routes: Routes::default(),
        generated: HashMap::new(),
        tick: 0,
        counters: MediaCounters::default(),
    };
    tokio::spawn(anchor.run(receiver));
    Ok(MediaHandle { requests })
}

struct Peer {
    rtc: Rtc,
    /// The audio track, once the offer is accepted.
    track: Option<(Mid, Pt)>,
    connected: bool,
    timeline: Timeline,
    deadline: Instant,
    remote: Option<SocketAddr>,
}

/// A generated source playing into one device: which sound, from which tick.
#[derive(Clone, Copy, Debug)]
struct Playing {
    source: Source,
    started: u64,
}

struct Anchor {
    socket: UdpSocket,
    local: SocketAddr,
    candidate_address: SocketAddr,
    sounds: Sounds,
    recorder: Recorder,
    peers: HashMap<DeviceId, Peer>,
    by_address: HashMap<SocketAddr, DeviceId>,
    deadlines: BTreeSet<(Instant, DeviceId)>,
    routes: Routes,
    generated: HashMap<DeviceId, Playing>,
    tick: u64,
    counters: MediaCounters,
}

impl Anchor {
    async fn run(mut self, mut requests: mpsc::UnboundedReceiver<Request>) {
        let mut buffer = vec![0u8; RECEIVE_BUFFER];
        let mut frames = tokio::time::interval(FRAME);
        // Late ticks are made up at once, so every listener gets 50 frames a second.
        frames.set_missed_tick_behavior(MissedTickBehavior::Burst);
        loop {
            let next_deadline = self.deadlines.first().map(|(at, _)| *at);
            let timer = async {
                match next_deadline {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                request = requests.recv() => match request {
                    Some(request) => self.handle_request(request).await,
                    None => break,
                },
                received = self.socket.recv_from(&mut buffer) => match received {
                    Ok((length, source)) => self.receive(source, &buffer[..length]).await,
                    Err(error) => tracing::debug!(%error, "media receive failed"),
                },
                _ = frames.tick() => self.play_generated().await,
                () = timer => self.handle_timeouts().await,
            }
        }
        tracing::debug!("media anchor stopped");
    }

    async fn handle_request(&mut self, request: Request) {
        match request {
            Request::Offer { device, sdp, reply } => {
                let answer = self.answer(device, &sdp).await;
                let _ = reply.send(answer);
            }
            Request::Route(command) => {
                tracing::debug!(?command, "media route");
                let changes = self.routes.apply(command);
                self.sources_changed(&changes);
                // A device that joins a call goes back to str0m's own schedule (and one
                // that leaves it to the idle one) now, not at its next idle wake-up.
                let now = Instant::now();
                for (device, _) in changes {
                    self.schedule(device, now);
                }
            }
            Request::Counters(reply) => {
                let _ = reply.send(self.counters);
            }
            // Only the peer connection goes: what the device hears and who hears it
            // stay until the switchboard changes them (a device that dropped may come
            // back with a new peer connection into the same call).
            Request::Remove(device) => {
                if let Some(peer) = self.peers.remove(&device) {
                    self.deadlines.remove(&(peer.deadline, device));
                    if let Some(remote) = peer.remote {
                        self.by_address.remove(&remote);
                    }
                    tracing::debug!(device = device.0, "media peer closed");
                }
            }
        }
    }

    async fn answer(&mut self, device: DeviceId, sdp: &str) -> Result<String, ErrorBody> {
        let offer = SdpOffer::from_sdp_string(sdp).map_err(|error| {
            ErrorBody::new("bad_offer", format!("The media offer is not valid SDP: {error}."))
        })?;
        let now = Instant::now();
        let renegotiating = self.peers.contains_key(&device);
        if !renegotiating {
            let peer = self.new_peer(now).map_err(|error| {
                tracing::error!(%error, "cannot set up a media peer");
                ErrorBody::new("internal", "The service could not set up audio for this device.")
            })?;
            self.peers.insert(device, peer);
        }
        let Some(peer) = self.peers.get_mut(&device) else {
            return Err(media_gone());
        };
        let answer = match peer.rtc.sdp_api().accept_offer(offer) {
            Ok(answer) => answer,
            Err(error) => {
                if !renegotiating {
                    self.peers.remove(&device);
                }
                return Err(ErrorBody::new(
                    "bad_offer",
                    format!("The media offer cannot be used: {error}. Offer one Opus audio track."),
                ));
            }
        };
        self.drain(device, now).await;
        tracing::debug!(device = device.0, renegotiating, "media offer answered");
        Ok(super::sdp::answer_text(&answer))
    }

    fn new_peer(&self, now: Instant) -> Result<Peer, str0m::RtcError> {
        let rtc = super::sdp::anchor_rtc(now, self.candidate_address)?;
        Ok(Peer {
            rtc,
            track: None,
            connected: false,
            timeline: Timeline::default(),
            deadline: now,
            remote: None,
        })
    }

    async fn receive(&mut self, source: SocketAddr, datagram: &[u8]) {
        let now = Instant::now();
        let Ok(contents) = datagram.try_into() else {
            return;
        };
        let input = Input::Receive(
            now,
            Receive { proto: Protocol::Udp, source, destination: self.local, contents },
        );
        let device = match self.by_address.get(&source) {
            Some(device) => Some(*device),
            None => self.peers.iter().find(|(_, peer)| peer.rtc.accepts(&input)).map(|(id, _)| *id),
        };
        let Some(device) = device else {
            tracing::trace!(%source, "datagram for no peer");
            return;
        };
        if is_stun(datagram) {
            self.counters.stun_received += 1;
        } else if callpark_wire::rtp::is_rtcp(datagram) {
            self.counters.rtcp_received += 1;
            if self.routes.is_idle(device) {
                self.counters.rtcp_dropped_idle += 1;
                return;
            }
        } else if callpark_wire::rtp::is_rtp(datagram) {
            self.counters.rtp_received += 1;
            if self.unheard(device) {
                // Nobody hears this device (idle, ringing, parked): its voice is dropped
                // before decryption, the largest cost of a device that keeps talking.
                self.counters.rtp_dropped_unheard += 1;
                return;
            }
        }
        let Some(peer) = self.peers.get_mut(&device) else {
            return;
        };
        if let Err(error) = peer.rtc.handle_input(input) {
            tracing::debug!(device = device.0, %error, "media input refused");
        }
        if peer.remote != Some(source) {
            if let Some(old) = peer.remote.replace(source) {
                self.by_address.remove(&old);
            }
            self.by_address.insert(source, device);
        }
        let received = self.drain(device, now).await;
        for packet in received {
            self.relay(device, packet, now).await;
        }
    }

    /// Whether what `speaker` says goes nowhere: no listener and no voicemail.
    fn unheard(&self, speaker: DeviceId) -> bool {
        self.routes.listener(speaker).is_none()
            && !matches!(self.routes.source(speaker), Source::Voicemail { .. })
    }

    /// An Opus packet from `speaker`: to voicemail, or to whoever hears it.
    async fn relay(&mut self, speaker: DeviceId, packet: RtpPacket, now: Instant) {
        let time = packet.time.numer();
        if matches!(self.routes.source(speaker), Source::Voicemail { .. })
            && self.greeting_over(speaker)
        {
            self.recorder.frame(speaker, time, &packet.payload);
        }
        let Some(listener) = self.routes.listener(speaker) else {
            return;
        };
        let origin = Origin::Peer { from: speaker, sequence: *packet.seq_no, time };
        self.counters.rtp_relayed += 1;
        self.write(listener, origin, packet.payload, now).await;
    }

    /// Writes one Opus packet to a device's track and sends it.
    async fn write(&mut self, device: DeviceId, origin: Origin, payload: Arc<[u8]>, now: Instant) {
        let Some(peer) = self.peers.get_mut(&device) else {
            return;
        };
        let Some((mid, pt)) = peer.track.filter(|_| peer.connected) else {
            return;
        };
        let mut direct = peer.rtc.direct_api();
        let Some(stream) = direct.stream_tx_by_mid(mid, None) else {
            return;
        };
        let stamp = peer.timeline.stamp(origin);
        // The header carries the low 32 bits of the time: RTP time wraps by design.
        let time = stamp.time as u32;
        stream.write_rtp(RtpWrite::new(pt, stamp.sequence.into(), time, now, payload));
        // str0m sends a written packet only once a timeout has stamped it: now, rather
        // than at the peer's deadline a wake-up later (which doubled the work per packet).
        if let Err(error) = peer.rtc.handle_input(Input::Timeout(now)) {
            tracing::debug!(device = device.0, %error, "media timeout refused");
        }
        // In RTP mode str0m hands out a received packet on the poll right after its
        // datagram, which `receive` drains; none is expected here, and one is not
        // relayed from here (that would recurse), so say so if str0m ever changes.
        let unrelayed = self.drain(device, now).await;
        if !unrelayed.is_empty() {
            tracing::warn!(
                device = device.0,
                packets = unrelayed.len(),
                "received packets dropped after a write"
            );
        }
    }

    fn schedule(&mut self, device: DeviceId, at: Instant) {
        let Some(peer) = self.peers.get_mut(&device) else {
            return;
        };
        self.deadlines.remove(&(peer.deadline, device));
        peer.deadline = at;
        self.deadlines.insert((at, device));
    }

    async fn handle_timeouts(&mut self) {
        let now = Instant::now();
        while let Some(&(at, device)) = self.deadlines.first() {
            if at > now {
                break;
            }
            self.deadlines.pop_first();
            let Some(peer) = self.peers.get_mut(&device) else {
                continue;
            };
            if let Err(error) = peer.rtc.handle_input(Input::Timeout(now)) {
                tracing::debug!(device = device.0, %error, "media timeout refused");
            }
            let received = self.drain(device, now).await;
            for packet in received {
                self.relay(device, packet, now).await;
            }
        }
    }

    /// Runs a peer until it has nothing more to say: sends its datagrams, notes its
    /// events and its next deadline. Returns the media packets it received.
    async fn drain(&mut self, device: DeviceId, now: Instant) -> Vec<RtpPacket> {
        let mut received = Vec::new();
        let idle = self.routes.is_idle(device);
        let Some(peer) = self.peers.get_mut(&device) else {
            return received;
        };
        loop {
            match peer.rtc.poll_output() {
                Ok(Output::Timeout(at)) => {
                    // str0m may ask to be woken in the past; never busy-loop on it.
                    let at = at.max(now + Duration::from_millis(1));
                    let keep_alive_timer =
                        matches!(peer.rtc.last_timeout_reason(), Reason::Ice | Reason::Feedback);
                    let at = if idle && peer.connected && keep_alive_timer {
                        at.max(now + IDLE_PEER_WAKE)
                    } else {
                        at
                    };
                    // Mostly unchanged from the last poll: skip the set's churn then.
                    if at != peer.deadline || !self.deadlines.contains(&(at, device)) {
                        self.deadlines.remove(&(peer.deadline, device));
                        peer.deadline = at;
                        self.deadlines.insert((at, device));
                    }
                    break;
                }
                Ok(Output::Transmit(transmit)) => {
                    if idle && peer.connected && callpark_wire::rtp::is_rtcp(&transmit.contents) {
                        self.counters.rtcp_withheld_idle += 1;
                        continue;
                    }
                    // Straight into the socket buffer; wait for room only when it is full.
                    let sent =
                        match self.socket.try_send_to(&transmit.contents, transmit.destination) {
                            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                                self.socket.send_to(&transmit.contents, transmit.destination).await
                            }
                            other => other,
                        };
                    if let Err(error) = sent {
                        tracing::debug!(device = device.0, %error, "media send failed");
                    }
                }
                Ok(Output::Event(event)) => match event {
                    Event::MediaAdded(added) => {
                        let pt = peer.rtc.media(added.mid).and_then(|media| {
                            media.remote_pts().iter().copied().find(|pt| {
                                peer.rtc
                                    .codec_config()
                                    .find(|p| p.pt() == *pt)
                                    .is_some_and(|p| p.spec().codec == Codec::Opus)
                            })
                        });
                        peer.track = pt.map(|pt| (added.mid, pt));
                    }
                    Event::Connected => {
                        peer.connected = true;
                        tracing::debug!(device = device.0, "media connected");
                    }
                    Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                        peer.connected = false;
                        tracing::debug!(device = device.0, "media disconnected");
                    }
                    Event::RtpPacket(packet) => received.push(packet),
                    _ => {}
                },
                Err(error) => {
                    tracing::warn!(device = device.0, %error, "media peer failed");
                    peer.connected = false;
                    self.deadlines.remove(&(peer.deadline, device));
                    break;
                }
            }
        }
        received
    }

    fn sources_changed(&mut self, changes: &[(DeviceId, Source)]) {
        for &(device, source) in changes {
            self.stop_generated(device);
            if source.is_generated() {
                self.generated.insert(device, Playing { source, started: self.tick });
            }
            if let Source::Voicemail { owner, call, caller } = source {
                self.recorder.start(device, owner, call, caller);
            }
        }
    }

    fn stop_generated(&mut self, device: DeviceId) {
        if let Some(Playing { source: Source::Voicemail { .. }, .. }) =
            self.generated.remove(&device)
        {
            self.recorder.stop(device, Finished::HungUp);
        }
    }

    fn greeting_over(&self, device: DeviceId) -> bool {
        self.generated.get(&device).is_some_and(|playing| {
            self.sounds.voicemail_greeting.once(self.tick - playing.started).is_none()
        })
    }

    /// One frame period: the next frame of every generated sound, to each device
    /// hearing one.
    async fn play_generated(&mut self) {
        self.tick += 1;
        let now = Instant::now();
        let playing: Vec<(DeviceId, Playing)> =
            self.generated.iter().map(|(device, playing)| (*device, *playing)).collect();
        for (device, playing) in playing {
            let position = self.tick - playing.started - 1;
            let frame = match playing.source {
                Source::HoldMusic => self.sounds.hold_music.looped(position),
                Source::RingingTone => self.sounds.ringing.looped(position),
                Source::Voicemail { .. } => self.sounds.voicemail_greeting.once(position),
                Source::Silence | Source::Peer(_) => None,
            };
            if let Some(frame) = frame.cloned() {
                self.counters.generated_sent += 1;
                self.write(device, Origin::Generated, frame, now).await;
            }
        }
        for device in self.recorder.over_length() {
            self.recorder.stop(device, Finished::TooLong);
        }
    }
}
