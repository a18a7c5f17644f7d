//! The media anchor under load: many parked callers hearing hold music, or many
//! connected calls relayed both ways. Reports what arrived (loss by RTP sequence
//! numbers, the longest gap) and the CPU the server and this tool used meanwhile.

use std::sync::Arc;
use std::time::{Duration, Instant};

use callpark_client::audio::io::{FRAME_SAMPLES, SAMPLE_RATE};
use callpark_client::audio::{AudioSource, ToneSource, VoiceEncoder};
use callpark_wire::{ReplyBody, RequestBody};
use futures_util::{StreamExt, TryStreamExt};
use tokio::sync::watch;

use crate::device::Device;
use crate::media::{MediaPeer, PeerAudio, Phase, Received};
use crate::setup::LoadUser;
use crate::{CONCURRENT_CONNECTS, LoadError, cpu};

/// A signed-in device with its audio link.
type MediaDevice = (Device, MediaPeer);

/// Calls set up at once.
const CONCURRENT_CALLS: usize = 32;

/// How the measurement runs.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub settle: Duration,
    pub measure: Duration,
    pub server_pid: u32,
}

/// One Opus frame of a tone, as every load peer sends it (the anchor relays
/// without decoding, so one real frame serves them all).
fn opus_frame() -> Result<Arc<[u8]>, LoadError> {
    let codec = |error: &dyn std::fmt::Display| LoadError::Protocol(format!("opus: {error}"));
    let mut encoder = VoiceEncoder::new().map_err(|e| codec(&e))?;
    let mut tone = ToneSource::new(440.0, SAMPLE_RATE, 0.3);
    let mut frame = [0.0; FRAME_SAMPLES];
    let mut packet = Vec::new();
    // A few frames in, past the encoder's start-up.
    for _ in 0..5 {
        tone.read_frame(&mut frame);
        packet = encoder.encode(&frame).map_err(|e| codec(&e))?.to_vec();
    }
    Ok(packet.into())
}

/// Places a call from `caller` to the user `login`; returns its id.
async fn dial(caller: &mut Device, login: &str) -> Result<u64, LoadError> {
    let reply = caller.request(RequestBody::Dial { to: login.to_owned() }).await?;
    match reply {
        ReplyBody::Dialing { call } => Ok(call),
        other => Err(LoadError::Protocol(format!("dial replied {other:?}"))),
    }
}

/// Devices for `count` media peers, spread over `users`, each negotiated and
/// connected.
async fn media_devices(
    websocket_url: &str,
    users: &[LoadUser],
    count: usize,
    audio: PeerAudio,
    phase: &watch::Receiver<Phase>,
) -> Result<Vec<MediaDevice>, LoadError> {
    futures_util::stream::iter((0..count).map(|n| {
        let user = &users[n % users.len()];
        let (audio, phase) = (audio.clone(), phase.clone());
        async move {
            let mut device = Device::connect(websocket_url, &user.token, "media load").await?;
            let mut peer = MediaPeer::start(&mut device, audio, phase).await?;
            peer.wait_connected().await?;
            Ok::<_, LoadError>((device, peer))
        }
    }))
    // In order: device n belongs to user n % users, which the bridged calls rely on.
    .buffered(CONCURRENT_CONNECTS)
    .try_collect()
    .await
}

/// `calls` callers (with audio, sending unless `silent`) each call a parker, who
/// answers and parks; then every parked caller should hear hold music.
pub async fn parked(
    websocket_url: &str,
    users: &[LoadUser],
    calls: usize,
    parkers: usize,
    silent: bool,
    window: Window,
) -> Result<(), LoadError> {
    let (parker_users, caller_users) = users.split_at(parkers);
    let (phase_sender, phase) = watch::channel(Phase::Warmup);
    let audio = if silent { PeerAudio::Silent } else { PeerAudio::Talking(opus_frame()?) };
    let started = Instant::now();
    let mut callers = media_devices(websocket_url, caller_users, calls, audio, &phase).await?;
    println!(
        "media: {calls} callers connected (signaling, ICE, DTLS) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut parker_devices = Vec::new();
    for user in parker_users {
        parker_devices.push((
            user.login.clone(),
            Device::connect(websocket_url, &user.token, "parker").await?,
        ));
    }
    let started = Instant::now();
    // Each parker takes every `parkers`-th caller in turn: dial, answer, park.
    let mut chunks: Vec<Vec<&mut MediaDevice>> = (0..parkers).map(|_| Vec::new()).collect();
    for (n, caller) in callers.iter_mut().enumerate() {
        chunks[n % parkers].push(caller);
    }
    futures_util::future::try_join_all(parker_devices.iter_mut().zip(chunks).map(
        |((login, parker), callers)| async move {
            for (caller, _) in callers {
                let call = dial(caller, login).await?;
                parker.answer(call).await?;
                let reply = parker.request(RequestBody::Park { call }).await?;
                if !matches!(reply, ReplyBody::Parked { .. }) {
                    return Err(LoadError::Protocol(format!("park replied {reply:?}")));
                }
            }
            Ok(())
        },
    ))
    .await?;
    println!("media: {calls} calls parked in {:.1} s", started.elapsed().as_secs_f64());
    let peers = callers.into_iter().map(|(device, peer)| (vec![device], peer)).collect();
    measure(peers, &phase_sender, window, "parked callers hearing hold music").await
}

/// `devices` signed-in devices with their peer connections up and no call: what
/// idle apps cost the anchor (no audio; a consent check every ten seconds keeps
/// each path up, as in the app).
pub async fn idle(
    websocket_url: &str,
    users: &[LoadUser],
    devices: usize,
    window: Window,
) -> Result<(), LoadError> {
    let (phase_sender, phase) = watch::channel(Phase::Warmup);
    let started = Instant::now();
    let peers = media_devices(websocket_url, users, devices, PeerAudio::Idle, &phase).await?;
    println!(
        "media: {devices} idle devices connected (signaling, ICE, DTLS) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let peers = peers.into_iter().map(|(device, peer)| (vec![device], peer)).collect();
    measure(peers, &phase_sender, window, "idle devices with their peer connections up").await
}

/// `calls` connected calls between two media peers each, both sending.
pub async fn bridged(
    websocket_url: &str,
    users: &[LoadUser],
    calls: usize,
    callee_users: usize,
    window: Window,
) -> Result<(), LoadError> {
    let (callee_users, caller_users) = users.split_at(callee_users);
    let (phase_sender, phase) = watch::channel(Phase::Warmup);
    let audio = PeerAudio::Talking(opus_frame()?);
    let started = Instant::now();
    let callers = media_devices(websocket_url, caller_users, calls, audio.clone(), &phase).await?;
    // Callee device n belongs to callee user n % users, like the caller that calls it.
    let callees = media_devices(websocket_url, callee_users, calls, audio, &phase).await?;
    println!(
        "media: {} devices connected (signaling, ICE, DTLS) in {:.1} s",
        2 * calls,
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let mut pairs: Vec<(MediaDevice, MediaDevice)> = callers.into_iter().zip(callees).collect();
    // Calls to one callee user ring all of its idle devices: one dial per user at a
    // time, so the device chosen to answer is the one that rang for this call.
    let mut by_callee: Vec<Vec<&mut (MediaDevice, MediaDevice)>> =
        (0..callee_users.len()).map(|_| Vec::new()).collect();
    for (n, pair) in pairs.iter_mut().enumerate() {
        by_callee[n % callee_users.len()].push(pair);
    }
    futures_util::stream::iter(by_callee.into_iter().enumerate().map(|(n, pairs)| {
        let login = callee_users[n].login.clone();
        async move {
            for ((caller, _), (callee, _)) in pairs {
                let call = dial(caller, &login).await?;
                callee.answer(call).await?;
            }
            Ok::<_, LoadError>(())
        }
    }))
    .buffer_unordered(CONCURRENT_CALLS)
    .try_collect::<()>()
    .await?;
    println!("media: {calls} calls connected in {:.1} s", started.elapsed().as_secs_f64());
    let mut peers = Vec::with_capacity(2 * calls);
    for ((caller, caller_peer), (callee, callee_peer)) in pairs {
        peers.push((vec![caller], caller_peer));
        peers.push((vec![callee], callee_peer));
    }
    measure(peers, &phase_sender, window, "devices in relayed calls").await
}

async fn measure(
    peers: Vec<(Vec<Device>, MediaPeer)>,
    phase: &watch::Sender<Phase>,
    window: Window,
    what: &str,
) -> Result<(), LoadError> {
    tokio::time::sleep(window.settle).await;
    let own_pid = std::process::id();
    let (server_before, own_before) =
        (cpu::of_process(window.server_pid)?, cpu::of_process(own_pid)?);
    let started = Instant::now();
    let _ = phase.send(Phase::Measure);
    tokio::time::sleep(window.measure).await;
    let _ = phase.send(Phase::Stop);
    let elapsed = started.elapsed();
    let (server_after, own_after) =
        (cpu::of_process(window.server_pid)?, cpu::of_process(own_pid)?);
    let mut total = Received::default();
    let mut silent_peers = 0;
    // Each peer counts from when it saw the window open until it saw it close; the
    // rate it got is judged over its own span, not the driver's.
    let mut counted_for = Duration::ZERO;
    let mut devices = Vec::new();
    for (mut owned, peer) in peers {
        let received = peer.finish().await;
        if received.packets == 0 {
            silent_peers += 1;
        }
        total.packets += received.packets;
        total.lost += received.lost;
        total.sent += received.sent;
        total.max_gap = total.max_gap.max(received.max_gap);
        if let (Some(first), Some(last)) = (received.first_at, received.last_at) {
            counted_for += last - first + Duration::from_millis(20);
        }
        devices.append(&mut owned);
    }
    let count = devices.len();
    let share = |before: Duration, after: Duration| {
        100.0 * (after - before).as_secs_f64() / elapsed.as_secs_f64()
    };
    // Every peer should get a frame per 20 ms: what falls short arrived late or never.
    let expected = counted_for.as_secs_f64() * 50.0;
    println!(
        "media: {count} {what}, {:.1} s: received {} packets ({:.0}/s, {:.1} % of the 50/s \
         each should get), lost {} ({:.4} %), {silent_peers} peers received nothing, \
         longest gap {:.1} ms; sent {} ({:.0}/s)",
        elapsed.as_secs_f64(),
        total.packets,
        total.packets as f64 / elapsed.as_secs_f64(),
        100.0 * total.packets as f64 / expected,
        total.lost,
        100.0 * total.lost as f64 / (total.packets + total.lost).max(1) as f64,
        total.max_gap.as_secs_f64() * 1000.0,
        total.sent,
        total.sent as f64 / elapsed.as_secs_f64(),
    );
    println!(
        "media: CPU over the window: server {:.1} % of a core, load generator {:.1} %",
        share(server_before, server_after),
        share(own_before, own_after)
    );
    for device in devices {
        device.close().await;
    }
    Ok(())
}
