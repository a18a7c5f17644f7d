//! What the end-to-end audio tests share: a service on 127.0.0.1 and signed-in
//! phones with their audio linked.

#![allow(dead_code)] // each test binary uses its own part

use std::time::{Duration, Instant};

use callpark_client::audio::io::SAMPLE_RATE;
use callpark_client::audio::{
    AnalysingSink, AudioSink, AudioSource, Heard, ToneSource, tone_share,
};
use callpark_client::media::{CallAudio, Media};
use callpark_client::{Connection, Engine, EngineEvent, ServiceAddress, login};
use callpark_service::config::ServiceConfig;
use callpark_service::startup::start;
use callpark_wire::{Event, ReplyBody, RequestBody};
use tokio::net::TcpListener;

pub const WITHIN: Duration = Duration::from_secs(10);
pub const FRAME: usize = 960;

pub async fn service() -> (ServiceAddress, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let started = start(&ServiceConfig::for_tests(dir.path())).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(callpark_service::run(listener, None, started.state, std::future::pending()));
    (ServiceAddress::parse(&address).unwrap(), dir)
}

/// A headless softphone: signed in, audio linked, saying a tone.
pub struct Phone {
    pub engine: Engine,
    pub media: Media,
    pub heard: Heard,
}

impl Phone {
    pub async fn sign_in(service: &ServiceAddress, login_name: &str, tone_hz: f32) -> Phone {
        let token = login(service, login_name, &format!("{login_name}-demo")).await.unwrap().token;
        let engine = Engine::start(service, &token, "test phone");
        engine.wait_for(WITHIN, |v| v.connection == Connection::Online).await.unwrap();
        let sink = AnalysingSink::new(30);
        let heard = sink.heard();
        let source = ToneSource::new(tone_hz, SAMPLE_RATE, 0.3);
        Self::link(engine, service, Box::new(source), Box::new(sink), heard).await
    }

    /// Signed in, with this audio; `heard` is what the test may listen to.
    pub async fn with_audio(
        service: &ServiceAddress,
        login_name: &str,
        source: Box<dyn AudioSource>,
        sink: Box<dyn AudioSink>,
    ) -> Phone {
        let token = login(service, login_name, &format!("{login_name}-demo")).await.unwrap().token;
        let engine = Engine::start(service, &token, "test phone");
        engine.wait_for(WITHIN, |v| v.connection == Connection::Online).await.unwrap();
        Self::link(engine, service, source, sink, AnalysingSink::new(1).heard()).await
    }

    async fn link(
        engine: Engine,
        service: &ServiceAddress,
        source: Box<dyn AudioSource>,
        sink: Box<dyn AudioSink>,
        heard: Heard,
    ) -> Phone {
        let media = Media::start(&engine, service, CallAudio { source, sink });
        media.wait_connected(WITHIN).await.unwrap();
        Phone { engine, media, heard }
    }

    pub async fn ask(&self, body: RequestBody) -> ReplyBody {
        self.engine.request(body).await.unwrap()
    }

    /// Waits for an event that `wanted` picks something out of, from now on (even
    /// before the returned future is first polled).
    pub fn event<T>(
        &self,
        mut wanted: impl FnMut(&Event) -> Option<T>,
    ) -> impl std::future::Future<Output = T> {
        let mut events = self.engine.events();
        async move {
            tokio::time::timeout(WITHIN, async {
                loop {
                    if let Ok(EngineEvent::Event(event)) = events.recv().await
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
    let ReplyBody::Dialing { call } =
        caller.ask(RequestBody::Dial { to: callee_login.into() }).await
    else {
        panic!("not dialing")
    };
    assert_eq!(incoming.await, call);
    callee.ask(RequestBody::Answer { call }).await;
    call
}
