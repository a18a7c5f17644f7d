//! The other side of the app's calls: a real `callpark-server` (in this process, on
//! 127.0.0.1, demo tenant) and headless softphones on the same client engine the
//! `callpark` CLI uses, with real audio links saying a tone.

use std::time::Duration;

use callpark_client::audio::io::SAMPLE_RATE;
use callpark_client::audio::{AnalysingSink, DiscardSink, Heard, ToneSource, tone_share};
use callpark_client::media::CallAudio;
use callpark_client::{CallPhase, ServiceAddress, Softphone, ViewModel};
use callpark_service::config::ServiceConfig;
use callpark_service::startup::start;
use tokio::net::TcpListener;

pub const WITHIN: Duration = Duration::from_secs(15);

/// A service with the demo tenant (alice, bob, carol in the front desk group with
/// park on; dave without park). Stops when dropped (the test's runtime ends).
pub struct Service {
    pub address: String,
    _data: tempfile::TempDir,
}

impl Service {
    pub async fn start() -> Service {
        Self::with_clock_speedup(1).await
    }

    /// Park timeouts divided by `speedup` (the service's test clock option).
    pub async fn with_clock_speedup(speedup: u32) -> Service {
        let data = tempfile::tempdir().expect("a data directory");
        let mut config = ServiceConfig::for_tests(data.path());
        config.test_clock_speedup = speedup;
        let started = start(&config).await.expect("the service starts");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = format!("http://{}", listener.local_addr().expect("its address"));
        tokio::spawn(callpark_service::run(listener, None, started.state, std::future::pending()));
        Service { address, _data: data }
    }
}

impl Service {
    /// The admin API as the demo admin (alice).
    pub async fn admin(&self) -> callpark_client::AdminClient {
        let address = ServiceAddress::parse(&self.address).expect("the service address");
        let token = callpark_client::login(&address, "alice", "alice-demo")
            .await
            .expect("the demo admin signs in")
            .token;
        callpark_client::AdminClient::new(&address, &token)
    }
}

/// A headless softphone saying a tone.
pub struct Party {
    pub phone: Softphone,
}

impl Party {
    pub async fn sign_in(service: &Service, login: &str, tone_hz: f32) -> Party {
        let address = ServiceAddress::parse(&service.address).expect("the service address");
        let audio = move || CallAudio {
            source: Box::new(ToneSource::new(tone_hz, SAMPLE_RATE, 0.3)),
            sink: Box::new(DiscardSink),
        };
        let phone =
            Softphone::sign_in(&address, login, &format!("{login}-demo"), "headless", audio)
                .await
                .expect("a headless party signs in");
        Party { phone }
    }

    /// A party that keeps what it hears (the last 30 s), to check what reached it.
    pub async fn sign_in_hearing(service: &Service, login: &str, tone_hz: f32) -> (Party, Heard) {
        let address = ServiceAddress::parse(&service.address).expect("the service address");
        let heard = AnalysingSink::new(30).heard();
        let sink = heard.clone();
        let audio = move || CallAudio {
            source: Box::new(ToneSource::new(tone_hz, SAMPLE_RATE, 0.3)),
            sink: Box::new(sink.sink()),
        };
        let phone =
            Softphone::sign_in(&address, login, &format!("{login}-demo"), "headless", audio)
                .await
                .expect("a headless party signs in");
        (Party { phone }, heard)
    }

    pub async fn wait_for(&self, what: &str, ready: impl Fn(&ViewModel) -> bool) -> ViewModel {
        self.phone
            .engine()
            .wait_for(WITHIN, ready)
            .await
            .unwrap_or_else(|error| panic!("waiting for {what}: {error}"))
    }

    /// The call in `phase`, once there is one.
    pub async fn call_in(&self, phase: CallPhase) -> u64 {
        let view = self
            .wait_for(&format!("a call in phase {phase:?}"), |view| {
                view.calls.values().any(|call| call.phase == phase)
            })
            .await;
        view.calls
            .values()
            .find(|call| call.phase == phase)
            .map(|call| call.call)
            .expect("the call")
    }

    /// `caller` calls this party, who answers and parks the call; returns the code.
    pub async fn park_a_call_from(&self, caller: &Party, login: &str) -> u16 {
        let dialing = caller.phone.dial(login);
        let (dialed, incoming) = tokio::join!(dialing, self.call_in(CallPhase::Incoming));
        dialed.expect("dialing");
        self.phone.answer(incoming).await.expect("answering");
        self.call_in(CallPhase::Connected).await;
        self.phone.park(incoming).await.expect("parking").code
    }
}

/// Share of the 20 ms frames heard in the last `length` whose energy is mostly
/// (`share`) at `hz`.
pub fn heard_share(heard: &Heard, hz: f32, share: f32, length: Duration) -> f32 {
    let since = std::time::Instant::now() - length;
    let frames = heard.since(since);
    let with =
        frames.iter().filter(|f| tone_share(&f.samples[..], hz, SAMPLE_RATE) >= share).count();
    with as f32 / frames.len().max(1) as f32
}
