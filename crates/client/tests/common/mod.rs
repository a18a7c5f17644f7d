//! What the end-to-end audio tests share: a service on 127.0.0.1 and signed-in
//! phones with their audio linked.

#![allow(dead_code)] // each test binary uses its own part

#[cfg(target_os = "linux")]
pub mod pulse;
pub mod relay;
pub mod server_process;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use callpark_client::audio::io::SAMPLE_RATE;
use callpark_client::audio::{AnalysingSink, AudioSource, Heard, ToneSource, tone_share};
use callpark_client::intent::{Answer, Dial, Intent};
use callpark_client::media::{CallAudio, Media, OpenAudio, OpenedAudio};
use callpark_client::{Connection, Engine, Notice, ServiceAddress, login};
use callpark_service::config::ServiceConfig;
use callpark_service::media::MediaHandle;
use callpark_service::startup::start;
use callpark_wire::Event;
use tokio::net::TcpListener;

pub const WITHIN: Duration = Duration::from_secs(10);
pub const FRAME: usize = 960;

pub async fn service() -> (ServiceAddress, tempfile::TempDir) {
    let (address, dir, _media) = service_with_media().await;
    (address, dir)
}

/// A service, with its media anchor's handle (to read its counters).
pub async fn service_with_media() -> (ServiceAddress, tempfile::TempDir, MediaHandle) {
    let (address, _, dir, media) = service_listening().await;
    (address, dir, media)
}

/// A service and the socket address it listens on.
pub async fn service_listening()
-> (ServiceAddress, std::net::SocketAddr, tempfile::TempDir, MediaHandle) {
    let dir = tempfile::tempdir().unwrap();
    let started = start(&ServiceConfig::for_tests(dir.path())).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let socket = listener.local_addr().unwrap();
    tokio::spawn(callpark_service::run(listener, None, started.state, std::future::pending()));
    (ServiceAddress::parse(&format!("http://{socket}")).unwrap(), socket, dir, started.media)
}

/// Call audio for tests, opened afresh for each call as sound devices are: a tone
/// out, what is heard kept in `heard`; counts how often it was opened and closed.
#[derive(Clone, Debug)]
pub struct TestAudio {
    tone_hz: f32,
    heard: Heard,
    pub opens: Arc<AtomicUsize>,
    pub closes: Arc<AtomicUsize>,
}

impl TestAudio {
    pub fn new(tone_hz: f32) -> TestAudio {
        TestAudio {
            tone_hz,
            heard: AnalysingSink::new(30).heard(),
            opens: Arc::default(),
            closes: Arc::default(),
        }
    }

    /// Open now: opened more often than closed.
    pub fn is_open(&self) -> bool {
        self.opens.load(Ordering::SeqCst) > self.closes.load(Ordering::SeqCst)
    }
}

impl OpenAudio for TestAudio {
    fn open(&self) -> OpenedAudio {
        self.opens.fetch_add(1, Ordering::SeqCst);
        let source = CountedSource {
            tone: ToneSource::new(self.tone_hz, SAMPLE_RATE, 0.3),
            closes: self.closes.clone(),
        };
        let audio = CallAudio { source: Box::new(source), sink: Box::new(self.heard.sink()) };
        OpenedAudio { audio, problems: Vec::new() }
    }
}

/// A tone that counts its closing.
struct CountedSource {
    tone: ToneSource,
    closes: Arc<AtomicUsize>,
}

impl AudioSource for CountedSource {
    fn read_frame(&mut self, frame: &mut [f32; FRAME]) -> bool {
        self.tone.fill(frame);
        true
    }
}

impl Drop for CountedSource {
    fn drop(&mut self) {
        self.closes.fetch_add(1, Ordering::SeqCst);
    }
}

/// A headless softphone: signed in, audio linked, saying a tone in calls.
pub struct Phone {
    pub engine: Engine,
    pub media: Media,
    pub heard: Heard,
    pub audio: Option<TestAudio>,
}

impl Phone {
    pub async fn sign_in(service: &ServiceAddress, login_name: &str, tone_hz: f32) -> Phone {
        let audio = TestAudio::new(tone_hz);
        let heard = audio.heard.clone();
        let engine = Self::online(service, login_name).await;
        let mut phone = Self::link(engine, service, audio.clone(), heard).await;
        phone.audio = Some(audio);
        phone
    }

    /// Signed in, with this audio opened for each call.
    pub async fn with_audio(
        service: &ServiceAddress,
        login_name: &str,
        audio: impl OpenAudio + 'static,
    ) -> Phone {
        let engine = Self::online(service, login_name).await;
        Self::link(engine, service, audio, AnalysingSink::new(1).heard()).await
    }

    async fn online(service: &ServiceAddress, login_name: &str) -> Engine {
        let token = login(service, login_name, &format!("{login_name}-demo")).await.unwrap().token;
        let engine = Engine::start(service, &token, "test phone");
        engine.wait_for(WITHIN, |v| v.connection == Connection::Online).await.unwrap();
        engine
    }

    async fn link(
        engine: Engine,
        service: &ServiceAddress,
        audio: impl OpenAudio + 'static,
        heard: Heard,
    ) -> Phone {
        let media = Media::start(&engine, service, audio);
        media.wait_connected(WITHIN).await.unwrap();
        Phone { engine, media, heard, audio: None }
    }

    /// The test audio this phone opens for calls.
    pub fn test_audio(&self) -> &TestAudio {
        self.audio.as_ref().expect("signed in with test audio")
    }

    pub async fn ask<I: Intent>(&self, intent: I) -> I::Outcome {
        self.engine.ask(intent).await.unwrap()
    }

    /// Waits for an event that `wanted` picks something out of, from now on (even
    /// before the returned future is first polled), for at most [`WITHIN`].
    pub fn event<T>(
        &self,
        wanted: impl FnMut(&Event) -> Option<T>,
    ) -> impl std::future::Future<Output = T> {
        self.event_within(WITHIN, wanted)
    }

    /// [`Phone::event`], waiting at most `within`.
    pub fn event_within<T>(
        &self,
        within: Duration,
        mut wanted: impl FnMut(&Event) -> Option<T>,
    ) -> impl std::future::Future<Output = T> {
        let mut events = self.engine.events();
        async move {
            tokio::time::timeout(within, async {
                loop {
                    if let Ok(Notice::Event(event)) = events.recv().await
                        && let Some(found) = wanted(&event)
                    {
                        return found;
                    }
                }
            })
            .await
            .unwrap()
        }
    }

    /// Samples played from `since` on, for `length`.
    pub async fn listen(&self, since: Instant, length: Duration) -> Vec<f32> {
        tokio::time::sleep_until((since + length).into()).await;
        self.heard.since(since).iter().flat_map(|frame| frame.samples.iter().copied()).collect()
    }
}

/// Share of 20 ms blocks whose energy is mostly at `frequency`.
pub fn blocks_with(samples: &[f32], frequency: f32, threshold: f32) -> f32 {
    let blocks: Vec<&[f32]> = samples.chunks_exact(FRAME).collect();
    let holding =
        blocks.iter().filter(|b| tone_share(b, frequency, SAMPLE_RATE) >= threshold).count();
    holding as f32 / blocks.len().max(1) as f32
}

/// `caller` dials `callee`, who answers. Returns the call id.
pub async fn connect(caller: &Phone, callee: &Phone, callee_login: &str) -> u64 {
    let incoming = callee.event(|event| match event {
        Event::IncomingCall { call, .. } => Some(*call),
        _ => None,
    });
    let call = caller.ask(Dial { to: callee_login.into() }).await;
    assert_eq!(incoming.await, call);
    callee.ask(Answer { call }).await;
    call
}

/// The first moment from `not_before` on when the last 300 ms held at least ten
/// frames with `hz` (at least `share` of a frame's energy): the sound is back for
/// good. Fails after `within`.
pub async fn heard_steadily(
    heard: &Heard,
    (hz, share): (f32, f32),
    not_before: Instant,
    within: Duration,
) -> Instant {
    tokio::time::sleep_until(not_before.into()).await;
    let deadline = Instant::now() + within;
    loop {
        let now = Instant::now();
        let recent = heard
            .since(now - Duration::from_millis(300))
            .iter()
            .filter(|frame| tone_share(&frame.samples[..], hz, SAMPLE_RATE) >= share)
            .count();
        if recent >= 10 {
            return now;
        }
        assert!(now < deadline, "{hz} Hz was not heard steadily within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The longest stretch without `hz` (at least `share` of a frame's energy) from
/// `from` to `to`, waiting until `to` has passed: when it ended and how long it was.
/// A stretch still open at `to` ends there.
pub async fn longest_gap(
    heard: &Heard,
    (hz, share): (f32, f32),
    from: Instant,
    to: Instant,
) -> (Instant, Duration) {
    tokio::time::sleep_until(to.into()).await;
    let with_tone: Vec<Instant> = heard
        .since(from - Duration::from_millis(500))
        .iter()
        .filter(|frame| frame.at <= to && tone_share(&frame.samples[..], hz, SAMPLE_RATE) >= share)
        .map(|frame| frame.at)
        .collect();
    let mut longest = (from, Duration::ZERO);
    let mut previous = with_tone.first().copied().unwrap_or(from).min(from);
    for at in with_tone.into_iter().chain([to]) {
        if at > from && at.duration_since(previous) > longest.1 {
            longest = (at, at.duration_since(previous));
        }
        previous = previous.max(at);
    }
    longest
}

/// Every `call_ended` among the events received so far.
pub fn calls_ended(events: &mut tokio::sync::broadcast::Receiver<Notice>) -> Vec<Event> {
    let mut ended = Vec::new();
    while let Ok(notice) = events.try_recv() {
        if let Notice::Event(event @ Event::CallEnded { .. }) = notice {
            ended.push(event);
        }
    }
    ended
}
