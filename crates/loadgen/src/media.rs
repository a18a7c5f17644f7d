//! Media load: lean WebRTC peers (str0m, one UDP socket each) that negotiate with
//! the service's anchor over a device's signaling, optionally send a real Opus frame
//! every 20 ms, and count what arrives. Incoming RTP is counted from its header
//! (sequence numbers are not encrypted in SRTP) instead of being decrypted, so the
//! load side spends its core on sending and receiving; ICE, DTLS and RTCP still go
//! through str0m.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use callpark_client::media::AudioOffer;
use callpark_client::media::keepalive::{PathWatch, idle_wake, sent_while_idle};
use callpark_wire::rtp::sequence_number;
use callpark_wire::{ReplyBody, RequestBody};
use str0m::format::Codec;
use str0m::media::{Frequency, MediaTime, Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::{Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{oneshot, watch};

use crate::LoadError;
use crate::device::Device;

const FRAME: Duration = Duration::from_millis(20);
const FRAME_TICKS: u64 = 960;
const CONNECT_WITHIN: Duration = Duration::from_secs(20);

/// What the load driver tells every peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Connected; counting nothing yet.
    Warmup,
    /// Counting arrivals.
    Measure,
    Stop,
}

/// What a load peer does with its audio, as a device of the app would.
#[derive(Clone, Debug)]
pub enum PeerAudio {
    /// Signed in, in no call: the path is kept alive the way the app keeps it
    /// (a consent check every `IDLE_KEEPALIVE`), nothing else.
    Idle,
    /// In a call and silent (muted): str0m's own schedule, nothing sent.
    Silent,
    /// In a call, sending this Opus frame every 20 ms.
    Talking(std::sync::Arc<[u8]>),
}

/// What one peer received while measuring.
#[derive(Clone, Copy, Debug, Default)]
pub struct Received {
    pub packets: u64,
    /// Sequence numbers between the first and last one received that never came.
    pub lost: u64,
    /// The longest time between two packets.
    pub max_gap: Duration,
    pub sent: u64,
    /// When the first and the last counted packet arrived.
    pub first_at: Option<Instant>,
    pub last_at: Option<Instant>,
}

/// Extends 16-bit RTP sequence numbers and counts the ones missing.
#[derive(Debug, Default)]
struct SequenceCount {
    first: Option<u64>,
    highest: u64,
    packets: u64,
    first_at: Option<Instant>,
    last_at: Option<Instant>,
    max_gap: Duration,
}

impl SequenceCount {
    fn record(&mut self, sequence: u16, at: Instant) {
        let extended = match self.first {
            None => {
                self.first = Some(u64::from(sequence) + (1 << 16));
                self.highest = u64::from(sequence) + (1 << 16);
                self.highest
            }
            Some(_) => {
                let base = self.highest & !0xFFFF;
                [base - (1 << 16), base, base + (1 << 16)]
                    .into_iter()
                    .map(|candidate| candidate + u64::from(sequence))
                    .min_by_key(|candidate| candidate.abs_diff(self.highest))
                    .unwrap_or(base)
            }
        };
        self.highest = self.highest.max(extended);
        self.packets += 1;
        self.first_at.get_or_insert(at);
        if let Some(last) = self.last_at {
            self.max_gap = self.max_gap.max(at - last);
        }
        self.last_at = Some(at);
    }

    fn result(&self, sent: u64) -> Received {
        let span = self.first.map_or(0, |first| self.highest - first + 1);
        Received {
            packets: self.packets,
            lost: span.saturating_sub(self.packets),
            max_gap: self.max_gap,
            sent,
            first_at: self.first_at,
            last_at: self.last_at,
        }
    }
}

/// A peer, negotiated and running on its own task.
#[derive(Debug)]
pub struct MediaPeer {
    connected: Option<oneshot::Receiver<()>>,
    result: tokio::task::JoinHandle<Received>,
}

impl MediaPeer {
    /// Negotiates over `device`'s signaling and starts the peer's task.
    pub async fn start(
        device: &mut Device,
        audio: PeerAudio,
        phase: watch::Receiver<Phase>,
    ) -> Result<MediaPeer, LoadError> {
        let media = |what: &str, error: &dyn std::fmt::Display| {
            LoadError::Protocol(format!("media {what}: {error}"))
        };
        let socket = UdpSocket::bind("127.0.0.1:0").await.map_err(|e| media("socket", &e))?;
        let local = socket.local_addr().map_err(|e| media("socket", &e))?;
        let now = Instant::now();
        let offer = AudioOffer::new(local, now)?;
        let reply = device.request(RequestBody::MediaOffer { sdp: offer.sdp.clone() }).await?;
        let ReplyBody::MediaAnswer { sdp } = reply else {
            return Err(LoadError::Protocol(format!("media_offer replied {reply:?}")));
        };
        let (rtc, mid) = offer.accept(&sdp)?;
        let (connected_sender, connected) = oneshot::channel();
        let peer = Peer {
            rtc,
            socket,
            local,
            mid,
            pt: None,
            connected: Some(connected_sender),
            deadline: now,
            idle: matches!(audio, PeerAudio::Idle),
            send: match audio {
                PeerAudio::Talking(frame) => Some(frame),
                PeerAudio::Idle | PeerAudio::Silent => None,
            },
            path: PathWatch::default(),
            next_rtp_time: 0,
            sent: 0,
            count: SequenceCount::default(),
        };
        let result = tokio::spawn(peer.run(phase));
        Ok(MediaPeer { connected: Some(connected), result })
    }

    /// Waits for ICE and DTLS to complete.
    pub async fn wait_connected(&mut self) -> Result<(), LoadError> {
        let Some(connected) = self.connected.take() else { return Ok(()) };
        match tokio::time::timeout(CONNECT_WITHIN, connected).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(LoadError::Protocol("a media peer stopped before connecting".into())),
            Err(_) => Err(LoadError::Timeout("media connection")),
        }
    }

    /// What it received while measuring (after the phase has gone to `Stop`).
    pub async fn finish(self) -> Received {
        self.result.await.unwrap_or_default()
    }
}

struct Peer {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    mid: Mid,
    pt: Option<Pt>,
    connected: Option<oneshot::Sender<()>>,
    deadline: Instant,
    idle: bool,
    send: Option<std::sync::Arc<[u8]>>,
    path: PathWatch,
    next_rtp_time: u64,
    sent: u64,
    count: SequenceCount,
}

impl Peer {
    async fn run(mut self, mut phase: watch::Receiver<Phase>) -> Received {
        let mut buffer = vec![0u8; 2_000];
        let mut frames = tokio::time::interval(FRAME);
        let mut measuring = false;
        loop {
            if self.drain().is_err() {
                break;
            }
            let deadline = tokio::time::Instant::from_std(self.deadline);
            tokio::select! {
                received = self.socket.recv_from(&mut buffer) => {
                    let Ok((length, source)) = received else { break };
                    let now = Instant::now();
                    self.path.received(now);
                    let datagram = &buffer[..length];
                    if let (Some(_), Some(sequence)) = (self.pt, sequence_number(datagram)) {
                        if measuring {
                            self.count.record(sequence, now);
                        }
                        continue;
                    }
                    let Ok(contents) = datagram.try_into() else { continue };
                    let input = Input::Receive(now, Receive {
                        proto: Protocol::Udp, source, destination: self.local, contents,
                    });
                    if self.rtc.handle_input(input).is_err() { break; }
                }
                () = tokio::time::sleep_until(deadline) => {
                    if self.rtc.handle_input(Input::Timeout(Instant::now())).is_err() { break; }
                }
                _ = frames.tick(), if self.send.is_some() && self.pt.is_some() => {
                    self.send_frame();
                }
                changed = phase.changed() => {
                    if changed.is_err() { break; }
                    match *phase.borrow_and_update() {
                        Phase::Warmup => {}
                        Phase::Measure => {
                            measuring = true;
                            self.count = SequenceCount::default();
                            self.sent = 0;
                        }
                        Phase::Stop => break,
                    }
                }
            }
        }
        self.count.result(self.sent)
    }

    fn send_frame(&mut self) {
        let (Some(pt), Some(payload)) = (self.pt, self.send.as_ref()) else { return };
        let Some(writer) = self.rtc.writer(self.mid) else { return };
        let time = MediaTime::new(self.next_rtp_time, Frequency::FORTY_EIGHT_KHZ);
        self.next_rtp_time += FRAME_TICKS;
        let now = Instant::now();
        if writer.write(pt, now, time, payload.to_vec()).is_ok() {
            self.sent += 1;
        }
        // Packetised only on a timeout: now, not a deadline's wake-up later.
        let _ = self.rtc.handle_input(Input::Timeout(now));
    }

    fn drain(&mut self) -> Result<(), str0m::RtcError> {
        loop {
            match self.rtc.poll_output()? {
                Output::Timeout(at) => {
                    self.deadline = if self.idle && self.pt.is_some() {
                        let reason = self.rtc.last_timeout_reason();
                        idle_wake(at, reason, Instant::now(), self.path.answered())
                    } else {
                        at
                    };
                    return Ok(());
                }
                Output::Transmit(transmit) => {
                    if self.idle && self.pt.is_some() && !sent_while_idle(&transmit.contents) {
                        continue;
                    }
                    self.path.sent(&transmit.contents, Instant::now());
                    let _ = self.socket.try_send_to(&transmit.contents, transmit.destination);
                }
                Output::Event(Event::Connected) => {
                    self.pt = self
                        .rtc
                        .codec_config()
                        .params()
                        .iter()
                        .find(|params| params.spec().codec == Codec::Opus)
                        .map(|params| params.pt());
                    if let Some(connected) = self.connected.take() {
                        let _ = connected.send(());
                    }
                }
                Output::Event(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_sequence_numbers_count_as_lost_across_the_wrap() {
        let start = Instant::now();
        let mut count = SequenceCount::default();
        for (n, sequence) in [65_533u16, 65_534, 65_535, 1, 2].into_iter().enumerate() {
            count.record(sequence, start + FRAME * n as u32);
        }
        let received = count.result(0);
        assert_eq!(received.packets, 5);
        assert_eq!(received.lost, 1, "sequence 0 never came");
        assert_eq!(received.max_gap, FRAME);
    }
}
