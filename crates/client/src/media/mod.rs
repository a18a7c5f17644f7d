//! The device's audio link to the service: one WebRTC peer connection (str0m, DTLS-
//! SRTP, Opus), set up over the engine's signaling once online and set up again
//! after every reconnect. Calls, parks and retrieves do not touch it: the service
//! changes what it sends and where it relays what this device says.

mod offer;
mod peer;
mod pipeline;

use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::audio::{
    AudioSink, AudioSource, DeviceChoice, DeviceError, DiscardSink, Microphone, SilentSource,
    Speaker,
};
use crate::view::Connection;
use crate::{ClientError, Engine, ServiceAddress};

pub use offer::AudioOffer;
pub use pipeline::{MediaStats, PacketLog, PacketTimes};

fn media_error(what: &str, error: impl std::fmt::Display) -> ClientError {
    ClientError::Media(format!("{what}: {error}"))
}

/// The audio a call uses: where outgoing sound comes from and incoming goes.
pub struct CallAudio {
    pub source: Box<dyn AudioSource>,
    pub sink: Box<dyn AudioSink>,
}

impl CallAudio {
    /// The chosen sound devices. A device that cannot be opened is replaced by
    /// silence (microphone) or nothing (speaker), and its error returned, so calls
    /// still connect on a machine without sound.
    pub fn devices(
        microphone: &DeviceChoice,
        speaker: &DeviceChoice,
    ) -> (CallAudio, Vec<DeviceError>) {
        let mut problems = Vec::new();
        let source: Box<dyn AudioSource> = match Microphone::open(microphone) {
            Ok(device) => Box::new(device),
            Err(error) => {
                problems.push(error);
                Box::new(SilentSource)
            }
        };
        let sink: Box<dyn AudioSink> = match Speaker::open(speaker) {
            Ok(device) => Box::new(device),
            Err(error) => {
                problems.push(error);
                Box::new(DiscardSink)
            }
        };
        (CallAudio { source, sink }, problems)
    }
}

impl std::fmt::Debug for CallAudio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallAudio").finish_non_exhaustive()
    }
}

enum Control {
    Mute(bool),
    /// New devices for the link; the peer connection stays as it is.
    Replace(CallAudio),
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
    /// Starts the audio link for the device `engine` signs in.
    pub fn start(engine: &Engine, service: &ServiceAddress, audio: CallAudio) -> Media {
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
        };
        tokio::spawn(link.run(audio));
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

    /// Call statistics and levels, updated every 100 ms while connected.
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

    /// Uses other devices from the next frame on, in a call or not.
    pub fn replace_audio(&self, audio: CallAudio) {
        let _ = self.control.send(Control::Replace(audio));
    }

    pub fn stop(&self) {
        let _ = self.control.send(Control::Stop);
    }
}

struct Link {
    log: PacketLog,
    engine: Engine,
    host: Option<(String, u16)>,
    controls: mpsc::UnboundedReceiver<Control>,
    stats: watch::Sender<MediaStats>,
    muted: bool,
}

/// Why one session of the link ended.
enum Ended {
    /// Signaling dropped: set up again once it is back.
    Offline,
    Stopped,
}

impl Link {
    async fn run(mut self, mut audio: CallAudio) {
        let mut snapshots = self.engine.snapshots();
        loop {
            let online = snapshots.wait_for(|view| {
                matches!(view.connection, Connection::Online | Connection::SignedOut { .. })
            });
            let online = tokio::select! {
                online = online => online.map(|view| view.connection == Connection::Online),
                control = self.controls.recv() => match control {
                    Some(Control::Mute(muted)) => { self.muted = muted; continue; }
                    Some(Control::Replace(replacement)) => { audio = replacement; continue; }
                    Some(Control::Stop) | None => break,
                },
            };
            if !matches!(online, Ok(true)) {
                break;
            }
            match self.session(&mut audio, &mut snapshots).await {
                Ok(Ended::Offline) => {}
                Ok(Ended::Stopped) => break,
                Err(error) => {
                    tracing::warn!(%error, "audio link failed; trying again");
                    self.stats.send_modify(|stats| stats.connected = false);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        self.stats.send_modify(|stats| stats.connected = false);
        tracing::debug!("audio link stopped");
    }

    /// Negotiates a peer connection and runs it until signaling drops or the link
    /// is stopped.
    async fn session(
        &mut self,
        audio: &mut CallAudio,
        snapshots: &mut watch::Receiver<crate::ViewModel>,
    ) -> Result<Ended, ClientError> {
        let host = self.host.clone().ok_or_else(|| ClientError::Media("no service host".into()))?;
        let mut peer = peer::Peer::negotiate(&self.engine, &host).await?;
        let mut pipeline = pipeline::Pipeline::new(self.muted, self.log.clone())?;
        let offline = snapshots.wait_for(|view| view.connection != Connection::Online);
        tokio::pin!(offline);
        loop {
            tokio::select! {
                biased;
                control = self.controls.recv() => match control {
                    Some(Control::Mute(muted)) => {
                        self.muted = muted;
                        pipeline.set_muted(muted);
                    }
                    Some(Control::Replace(replacement)) => *audio = replacement,
                    Some(Control::Stop) | None => return Ok(Ended::Stopped),
                },
                _ = &mut offline => {
                    self.stats.send_modify(|stats| stats.connected = false);
                    return Ok(Ended::Offline);
                }
                step = peer.step(&mut pipeline, audio) => step?,
            }
            if let Some(stats) = pipeline.stats_due(peer.connected()) {
                self.stats.send_replace(stats);
            }
        }
    }
}
