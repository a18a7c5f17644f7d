//! The device's audio link to the service: one WebRTC peer connection (str0m, DTLS-
//! SRTP, Opus), set up over the engine's signaling once online and set up again
//! after every reconnect (kept running while signaling is down, so a call's audio
//! rides out a signaling drop). Calls, parks and retrieves do not touch it: the service
//! changes what it sends and where it relays what this device says.
//!
//! The sound devices are another matter: they are opened only while this device is
//! a party to a call (dialing, in a call, on hold, leaving a message) and closed as
//! soon as it is not. In between the peer connection carries nothing but an ICE
//! consent check every ten seconds (`keepalive`): no capture, no encoding, no packet.

pub mod keepalive;
mod offer;
mod peer;
mod pipeline;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use crate::audio::{
    AudioSink, AudioSource, DeviceChoice, DiscardSink, Microphone, SilentSource, Speaker,
};
use crate::{ClientError, Engine, ServiceAddress, ViewModel};
use callpark_session::Connection;

pub use offer::AudioOffer;
pub use pipeline::{MediaStats, PacketLog, PacketTimes};

fn media_error(what: &str, error: impl std::fmt::Display) -> ClientError {
    ClientError::Media(format!("{what}: {error}"))
}

/// The audio of one call: where outgoing sound comes from and incoming goes.
/// Dropping it closes both.
pub struct CallAudio {
    pub source: Box<dyn AudioSource>,
    pub sink: Box<dyn AudioSink>,
}

impl std::fmt::Debug for CallAudio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallAudio").finish_non_exhaustive()
    }
}

/// A call's audio as opened, with what could not be opened in words.
#[derive(Debug)]
pub struct OpenedAudio {
    pub audio: CallAudio,
    pub problems: Vec<String>,
}

/// Where a call's audio comes from: opened each time this device becomes a party to
/// a call, and closed (dropped) when it stops being one.
pub trait OpenAudio: Send + Sync {
    /// Opens a source and a sink. What cannot be opened is replaced (silence out,
    /// nothing played) and said in `problems`, so the call still connects.
    fn open(&self) -> OpenedAudio;
}

/// Headless audio made fresh for each call by a function (tones, files, test I/O).
impl<F> OpenAudio for F
where
    F: Fn() -> CallAudio + Send + Sync,
{
    fn open(&self) -> OpenedAudio {
        OpenedAudio { audio: self(), problems: Vec::new() }
    }
}

/// The chosen sound devices, opened for each call.
#[derive(Clone, Debug, Default)]
pub struct SoundDevices {
    pub microphone: DeviceChoice,
    pub speaker: DeviceChoice,
}

impl OpenAudio for SoundDevices {
    fn open(&self) -> OpenedAudio {
        let mut problems = Vec::new();
        let source: Box<dyn AudioSource> = match Microphone::open(&self.microphone) {
            Ok(device) => Box::new(device),
            Err(error) => {
                problems.push(format!("Sound: {error}."));
                Box::new(SilentSource)
            }
        };
        let sink: Box<dyn AudioSink> = match Speaker::open(&self.speaker) {
            Ok(device) => Box::new(device),
            Err(error) => {
                problems.push(format!("Sound: {error}."));
                Box::new(DiscardSink)
            }
        };
        OpenedAudio { audio: CallAudio { source, sink }, problems }
    }
}

enum Control {
    Mute(bool),
    /// Other audio from now on: reopened at once in a call, else at the next call.
    Replace(Arc<dyn OpenAudio>),
    Stop,
}

/// A handle to the running audio link; it stops when `stop` is called or every
/// handle is dropped.
#[derive(Clone, Debug)]
pub struct Media {
    control: mpsc::UnboundedSender<Control>,
    stats: watch::Receiver<MediaStats>,
    log: PacketLog,
}

impl Media {
    /// Starts the audio link for the device `engine` signs in; `audio` is opened for
    /// each call.
    pub fn start(
        engine: &Engine,
        service: &ServiceAddress,
        audio: impl OpenAudio + 'static,
    ) -> Media {
        let (control, controls) = mpsc::unbounded_channel();
        let (stats_sender, stats) = watch::channel(MediaStats::default());
        let log = PacketLog::default();
        let link = Link {
            log: log.clone(),
            engine: engine.clone(),
            host: service.host_and_port(),
            controls,
            stats: stats_sender,
            muted: false,
            opener: Arc::new(audio),
        };
        tokio::spawn(link.run());
        Media { control, stats, log }
    }

    /// When incoming packets arrived (the most recent ones).
    pub fn arrivals(&self) -> PacketTimes {
        self.log.arrivals.clone()
    }

    /// When outgoing packets were sent (the most recent ones).
    pub fn departures(&self) -> PacketTimes {
        self.log.departures.clone()
    }

    /// When this device's call audio was opened (the most recent times).
    pub fn audio_opened(&self) -> PacketTimes {
        self.log.opened.clone()
    }

    /// When each call's first frame was played here (the most recent calls).
    pub fn first_played(&self) -> PacketTimes {
        self.log.first_played.clone()
    }

    /// When this device's call audio was closed (the most recent times).
    pub fn audio_closed(&self) -> PacketTimes {
        self.log.closed.clone()
    }

    /// Call statistics and levels: the current call's, updated every 100 ms while
    /// this device is a party to a call.
    pub fn stats(&self) -> watch::Receiver<MediaStats> {
        self.stats.clone()
    }

    /// Waits until the link is up, at most `within`.
    pub async fn wait_connected(&self, within: Duration) -> Result<(), ClientError> {
        let mut stats = self.stats();
        match tokio::time::timeout(within, stats.wait_for(|stats| stats.connected)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) => Err(ClientError::Closed),
            Err(_) => Err(ClientError::Timeout(within.as_secs())),
        }
    }

    /// Muted: silence is sent instead of the microphone.
    pub fn set_muted(&self, muted: bool) {
        let _ = self.control.send(Control::Mute(muted));
    }

    /// Uses other audio: at once in a call, else from the next call on.
    pub fn replace_audio(&self, audio: impl OpenAudio + 'static) {
        let _ = self.control.send(Control::Replace(Arc::new(audio)));
    }

    pub fn stop(&self) {
        let _ = self.control.send(Control::Stop);
    }
}

/// Opening and closing sound devices blocks for a few milliseconds (the sound
/// server's round trips); on a multi-threaded runtime the other tasks move on.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// Media that arrived this long before the call audio started opening still
/// belongs to the call: the anchor switches routes before it sends the event.
const EARLY_MEDIA_MARGIN: Duration = Duration::from_millis(60);

/// Call audio being opened on a blocking thread.
struct Opening {
    task: tokio::task::JoinHandle<OpenedAudio>,
    started: Instant,
    /// The devices were replaced while opening: open again.
    stale: bool,
}

/// This device's part in a call: its open audio and the processing between it and
/// the network.
pub(crate) struct InCall {
    pipeline: pipeline::Pipeline,
    audio: CallAudio,
    problems: Vec<String>,
}

impl Drop for InCall {
    fn drop(&mut self) {
        let audio = std::mem::replace(
            &mut self.audio,
            CallAudio { source: Box::new(SilentSource), sink: Box::new(DiscardSink) },
        );
        blocking(move || drop(audio));
    }
}

struct Link {
    log: PacketLog,
    engine: Engine,
    host: Option<(String, u16)>,
    controls: mpsc::UnboundedReceiver<Control>,
    stats: watch::Sender<MediaStats>,
    muted: bool,
    opener: Arc<dyn OpenAudio>,
}

/// Why one session of the link ended.
enum Ended {
    /// Signaling dropped: set up again once it is back.
    Offline,
    Stopped,
}

impl Link {
    async fn run(mut self) {
        let mut snapshots = self.engine.snapshots();
        loop {
            let online = snapshots.wait_for(|view| {
                matches!(view.connection, Connection::Online | Connection::SignedOut { .. })
            });
            let online = tokio::select! {
                online = online => online.map(|view| view.connection == Connection::Online),
                control = self.controls.recv() => match control {
                    Some(Control::Mute(muted)) => { self.muted = muted; continue; }
                    Some(Control::Replace(opener)) => { self.opener = opener; continue; }
                    Some(Control::Stop) | None => break,
                },
            };
            if !matches!(online, Ok(true)) {
                break;
            }
            match self.session(&mut snapshots).await {
                Ok(Ended::Offline) => {}
                Ok(Ended::Stopped) => break,
                Err(error) => {
                    tracing::warn!(%error, "audio link failed; trying again");
                    self.stats.send_replace(MediaStats::default());
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        self.stats.send_replace(MediaStats::default());
        tracing::debug!("audio link stopped");
    }

    /// Negotiates a peer connection and runs it until signaling drops or the link
    /// is stopped, opening the call audio while this device is a party to a call.
    async fn session(
        &mut self,
        snapshots: &mut watch::Receiver<ViewModel>,
    ) -> Result<Ended, ClientError> {
        let host = self.host.clone().ok_or_else(|| ClientError::Media("no service host".into()))?;
        let mut peer = peer::Peer::negotiate(&self.engine, &host).await?;
        let mut call: Option<InCall> = None;
        let mut opening: Option<Opening> = None;
        let mut in_a_call = snapshots.borrow_and_update().in_a_call();
        let mut signaling_lost = false;
        loop {
            if !in_a_call && call.take().is_some() {
                self.closed(&peer);
            }
            if in_a_call && call.is_none() && opening.is_none() {
                opening = Some(self.start_opening());
            }
            let opened = async {
                match opening.as_mut() {
                    Some(opening) => (&mut opening.task).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                control = self.controls.recv() => match control {
                    Some(Control::Mute(muted)) => {
                        self.muted = muted;
                        if let Some(call) = &mut call {
                            call.pipeline.set_muted(muted);
                        }
                    }
                    Some(Control::Replace(opener)) => {
                        self.opener = opener;
                        // Closed before the new ones open (the same device may be chosen);
                        // the loop opens them while still in a call.
                        if call.take().is_some() {
                            self.closed(&peer);
                        }
                        if let Some(opening) = &mut opening {
                            opening.stale = true;
                        }
                    }
                    Some(Control::Stop) | None => return Ok(Ended::Stopped),
                },
                changed = snapshots.changed() => {
                    if changed.is_err() {
                        return Ok(Ended::Stopped);
                    }
                    let view = snapshots.borrow_and_update();
                    match view.connection {
                        // Signaling is down, the media path may not be: the service keeps
                        // this device's peer connection through its grace period, so the
                        // call's audio goes on meanwhile.
                        Connection::Reconnecting { .. } | Connection::Connecting => {
                            signaling_lost = true;
                            in_a_call = view.in_a_call();
                        }
                        // Back: the service took the old peer connection down when the
                        // device resumed; negotiate a new one.
                        Connection::Online if !signaling_lost => in_a_call = view.in_a_call(),
                        _ => {
                            drop(view);
                            drop(call);
                            self.stats.send_replace(MediaStats::default());
                            return Ok(Ended::Offline);
                        }
                    }
                }
                opened = opened => {
                    let Some(done) = opening.take() else { continue };
                    match opened {
                        Ok(audio) if in_a_call && !done.stale => {
                            call = Some(self.start_call(audio, &mut peer, done.started)?);
                        }
                        // No longer wanted, or for devices since replaced.
                        Ok(audio) => blocking(move || drop(audio)),
                        Err(error) => {
                            tracing::warn!(%error, "opening the call audio failed");
                            return Err(ClientError::Media("the sound devices could not be opened".into()));
                        }
                    }
                }
                step = peer.step(call.as_mut()) => step?,
            }
            match &mut call {
                Some(call) => {
                    if let Some(mut stats) = call.pipeline.stats_due(peer.connected()) {
                        stats.sound_problems.clone_from(&call.problems);
                        self.stats.send_replace(stats);
                    }
                }
                None => {
                    if self.stats.borrow().connected != peer.connected() {
                        self.stats.send_modify(|stats| stats.connected = peer.connected());
                    }
                }
            }
        }
    }

    /// Opens the call audio on a blocking thread: opening a device waits for the
    /// sound server (milliseconds usually, seconds for an idle PulseAudio null sink),
    /// and the peer connection must go on meanwhile.
    fn start_opening(&self) -> Opening {
        let opener = self.opener.clone();
        Opening {
            task: tokio::task::spawn_blocking(move || opener.open()),
            started: Instant::now(),
            stale: false,
        }
    }

    /// Starts processing an opened call audio, with the packets that came before it
    /// was open (the service switches media before it tells us of the call).
    fn start_call(
        &self,
        opened: OpenedAudio,
        peer: &mut peer::Peer,
        started: Instant,
    ) -> Result<InCall, ClientError> {
        let OpenedAudio { audio, problems } = opened;
        let mut pipeline = pipeline::Pipeline::new(self.muted, self.log.clone())?;
        // The service may have switched media to this device a moment before the
        // event that made the link open the audio.
        let since = started.checked_sub(EARLY_MEDIA_MARGIN).unwrap_or(started);
        peer.hand_over_early_packets(&mut pipeline, since);
        self.log.opened.record(Instant::now());
        tracing::info!(
            opened_in_ms = started.elapsed().as_secs_f64() * 1000.0,
            problems = problems.len(),
            "call audio open"
        );
        Ok(InCall { pipeline, audio, problems })
    }

    /// The call audio was just closed (dropped).
    fn closed(&self, peer: &peer::Peer) {
        tracing::info!("call audio closed");
        self.log.closed.record(Instant::now());
        self.stats
            .send_replace(MediaStats { connected: peer.connected(), ..MediaStats::default() });
    }
}
