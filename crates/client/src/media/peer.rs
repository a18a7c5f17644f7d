//! The peer connection itself: a str0m `Rtc` (full ICE agent, controlling) and the
//! UDP socket it runs on, driven with the time passed in.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use callpark_session::intent::MediaOffer;
use str0m::format::Codec;
use str0m::media::{Frequency, MediaTime, Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::{Event, IceConnectionState, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::time::{Interval, MissedTickBehavior};

use super::keepalive::{PathWatch, idle_wake, sent_while_idle};
use super::offer::AudioOffer;
use super::pipeline::{MAX_FRAMES_AT_ONCE, Pipeline};
use super::{InCall, media_error};
use crate::{ClientError, Engine};

/// How often the pipeline looks at the sound devices: frames are sent as soon as
/// the microphone has them and played as soon as the speaker runs low.
const POLL: Duration = Duration::from_millis(5);
const RECEIVE_BUFFER: usize = 2_000;
/// Media that arrives while no call audio is open is kept, the newest this many: the
/// service switches a leg's media before it tells the device of the call, so the
/// first frames of a retrieved caller can come before the call audio is open. More
/// would only add delay to the call's start when opening takes long.
const EARLY_PACKETS_KEPT: usize = 10;

/// A packet that came while no call audio was open.
struct EarlyPacket {
    at: Instant,
    sequence: u16,
    rtp_time: u32,
    payload: std::sync::Arc<[u8]>,
}

pub struct Peer {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    mid: Mid,
    pt: Option<Pt>,
    connected: bool,
    deadline: Instant,
    frames: Interval,
    buffer: Vec<u8>,
    early: VecDeque<EarlyPacket>,
    path: PathWatch,
}

impl Peer {
    /// Offers one Opus track to the service over signaling and applies its answer.
    pub async fn negotiate(
        engine: &Engine,
        (host, port): &(String, u16),
    ) -> Result<Peer, ClientError> {
        let local_ip = local_ip_towards(host, *port).await?;
        let socket = UdpSocket::bind(SocketAddr::new(local_ip, 0))
            .await
            .map_err(|error| media_error("cannot open a UDP port for audio", error))?;
        let local = socket.local_addr().map_err(|error| media_error("UDP port", error))?;
        let now = Instant::now();
        let offer = AudioOffer::new(local, now)?;
        let sdp = engine.ask(MediaOffer { sdp: offer.sdp.clone() }).await?;
        let (rtc, mid) = offer.accept(&sdp)?;
        let mut frames = tokio::time::interval(POLL);
        frames.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut peer = Peer {
            rtc,
            socket,
            local,
            mid,
            pt: None,
            connected: false,
            deadline: now,
            frames,
            buffer: vec![0; RECEIVE_BUFFER],
            early: VecDeque::new(),
            path: PathWatch::default(),
        };
        peer.drain(None)?;
        tracing::info!(%local, "audio offer answered; connecting");
        Ok(peer)
    }

    pub fn connected(&self) -> bool {
        self.connected
    }

    /// Gives the pipeline of a call that just opened the media that came before it,
    /// from `since` on (older packets belong to no call of this device's).
    pub fn hand_over_early_packets(&mut self, pipeline: &mut Pipeline, since: Instant) {
        for packet in self.early.drain(..) {
            if packet.at >= since {
                pipeline.receive(packet.at, packet.sequence, packet.rtp_time, &packet.payload);
            }
        }
    }

    /// Waits for one thing to happen (a datagram, a timer, or, in a call, a frame
    /// period) and handles it. Outside a call nothing wakes it but the network and a
    /// consent check every [`IDLE_KEEPALIVE`](super::keepalive::IDLE_KEEPALIVE).
    /// Cancel-safe between steps.
    pub async fn step(&mut self, mut call: Option<&mut InCall>) -> Result<(), ClientError> {
        let in_a_call = call.is_some();
        let deadline = tokio::time::Instant::from_std(self.deadline);
        tokio::select! {
            received = self.socket.recv_from(&mut self.buffer) => {
                let (length, source) = received.map_err(|error| media_error("audio receive", error))?;
                let now = Instant::now();
                self.path.received(now);
                let Ok(contents) = self.buffer[..length].try_into() else { return Ok(()) };
                let input = Input::Receive(now, Receive { proto: Protocol::Udp, source, destination: self.local, contents });
                self.rtc.handle_input(input).map_err(|error| media_error("audio input", error))?;
                self.drain(call.as_deref_mut().map(|call| &mut call.pipeline))
            }
            () = tokio::time::sleep_until(deadline) => {
                self.rtc.handle_input(Input::Timeout(Instant::now())).map_err(|error| media_error("audio timer", error))?;
                self.drain(call.as_deref_mut().map(|call| &mut call.pipeline))
            }
            _ = self.frames.tick(), if in_a_call => match call {
                Some(call) => self.exchange_frames(call),
                None => Ok(()),
            },
        }
    }

    /// Plays what the speaker needs and sends what the microphone has.
    fn exchange_frames(&mut self, call: &mut InCall) -> Result<(), ClientError> {
        let InCall { pipeline, audio, .. } = call;
        let now = Instant::now();
        pipeline.play(audio, now);
        for _ in 0..MAX_FRAMES_AT_ONCE {
            let Some((rtp_time, packet)) = pipeline.next_packet(audio, now) else { break };
            let (Some(pt), true) = (self.pt, self.connected) else { continue };
            let Some(writer) = self.rtc.writer(self.mid) else { continue };
            let time = MediaTime::new(rtp_time, Frequency::FORTY_EIGHT_KHZ);
            writer
                .write(pt, Instant::now(), time, packet.to_vec())
                .map_err(|error| media_error("audio send", error))?;
            self.drain(Some(pipeline))?;
        }
        Ok(())
    }

    fn drain(&mut self, mut pipeline: Option<&mut Pipeline>) -> Result<(), ClientError> {
        loop {
            match self.rtc.poll_output().map_err(|error| media_error("audio", error))? {
                Output::Timeout(at) => {
                    self.deadline = if pipeline.is_none() && self.connected {
                        let reason = self.rtc.last_timeout_reason();
                        idle_wake(at, reason, Instant::now(), self.path.answered())
                    } else {
                        at
                    };
                    return Ok(());
                }
                Output::Transmit(transmit) => {
                    if pipeline.is_none() && self.connected && !sent_while_idle(&transmit.contents)
                    {
                        continue;
                    }
                    self.path.sent(&transmit.contents, Instant::now());
                    if let Err(error) =
                        self.socket.try_send_to(&transmit.contents, transmit.destination)
                    {
                        tracing::debug!(%error, "audio datagram not sent");
                    }
                }
                Output::Event(event) => match event {
                    Event::Connected => {
                        self.connected = true;
                        self.pt = self.opus_pt();
                        tracing::info!(pt = ?self.pt, "audio connected");
                    }
                    Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                        self.connected = false;
                        return Err(ClientError::Media("the audio connection was lost".into()));
                    }
                    Event::MediaData(data) => {
                        let sequence = **data.seq_range.start() as u16;
                        let rtp_time = data.time.numer() as u32;
                        match pipeline.as_deref_mut() {
                            Some(pipeline) => {
                                pipeline.receive(data.network_time, sequence, rtp_time, &data.data);
                            }
                            None => {
                                if self.early.len() == EARLY_PACKETS_KEPT {
                                    self.early.pop_front();
                                }
                                self.early.push_back(EarlyPacket {
                                    at: data.network_time,
                                    sequence,
                                    rtp_time,
                                    payload: data.data,
                                });
                            }
                        }
                    }
                    _ => {}
                },
            }
        }
    }

    fn opus_pt(&self) -> Option<Pt> {
        self.rtc
            .codec_config()
            .params()
            .iter()
            .find(|params| params.spec().codec == Codec::Opus)
            .map(|params| params.pt())
    }
}

/// The local address packets to the service leave from (no packet is sent).
async fn local_ip_towards(host: &str, port: u16) -> Result<std::net::IpAddr, ClientError> {
    let service = tokio::net::lookup_host((host, port))
        .await
        .map_err(|error| media_error(&format!("cannot resolve {host}"), error))?
        .next()
        .ok_or_else(|| ClientError::Media(format!("{host} has no address")))?;
    let unspecified: SocketAddr = if service.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let probe = UdpSocket::bind(unspecified).await.map_err(|error| media_error("UDP", error))?;
    probe.connect(service).await.map_err(|error| media_error("no route to the service", error))?;
    Ok(probe.local_addr().map_err(|error| media_error("UDP", error))?.ip())
}
