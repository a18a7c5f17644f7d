//! The web app: the same UI as the desktop app (the same `data-testid`s), served by
//! the service and run in Chromium with the client session compiled to
//! WebAssembly, its call audio over the browser's own WebRTC. The other parties
//! are headless softphones on the desktop's client engine.

mod browser;
#[cfg(test)]
mod scenarios;

pub use browser::{Browser, MICROPHONE_HZ};

/// Records the page's microphone requests: how often it asked, and how many of the
/// streams it got are still live (a track not stopped holds the microphone).
const WATCH_MICROPHONE: &str = r#"
    if (!window.__microphone) {
        const watch = { asked: 0, streams: [] };
        window.__microphone = watch;
        const devices = navigator.mediaDevices;
        const ask = devices.getUserMedia.bind(devices);
        devices.getUserMedia = async (constraints) => {
            watch.asked += 1;
            const stream = await ask(constraints);
            watch.streams.push(stream);
            return stream;
        };
    }
"#;

const MICROPHONE_STATE: &str = r#"
    const watch = window.__microphone;
    const live = watch.streams.filter((s) => s.getTracks().some((t) => t.readyState === "live"));
    return [watch.asked, live.length];
"#;

/// For `ms`, every 50 ms, the share of the tab's call audio (what it plays from the
/// service) at `hz`: one Goertzel bin over a 2048-sample window, against the
/// window's whole energy (a pure tone gives 1).
const LISTEN: &str = r#"
    const [hz, ms, done] = arguments;
    const element = document.querySelector('[data-testid="call-audio"]');
    if (!element || !element.srcObject) { done(null); return; }
    const context = new AudioContext();
    const analyser = context.createAnalyser();
    analyser.fftSize = 2048;
    context.createMediaStreamSource(element.srcObject).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const k = 2 * Math.cos((2 * Math.PI * hz) / context.sampleRate);
    const shares = [];
    const every = setInterval(() => {
        analyser.getFloatTimeDomainData(samples);
        let energy = 0, s1 = 0, s2 = 0;
        for (const x of samples) { energy += x * x; const s = x + k * s1 - s2; s2 = s1; s1 = s; }
        const power = s1 * s1 + s2 * s2 - k * s1 * s2;
        shares.push(energy > 1e-7 ? (2 * power) / (samples.length * energy) : 0);
    }, 50);
    setTimeout(() => { clearInterval(every); void context.close(); done(shares); }, ms);
"#;

impl Browser {
    /// From now on, counts the page's microphone requests.
    pub async fn watch_microphone(&self) -> thirtyfour::error::WebDriverResult<()> {
        self.driver.execute(WATCH_MICROPHONE, Vec::new()).await.map(|_| ())
    }

    /// (times the page asked for the microphone, streams it still holds).
    pub async fn microphone(&self) -> thirtyfour::error::WebDriverResult<(u32, u32)> {
        self.driver.execute(MICROPHONE_STATE, Vec::new()).await?.convert()
    }

    /// Share of 50 ms looks, over `ms`, in which the tab plays mostly (`share`) `hz`.
    pub async fn hears(
        &self,
        hz: f32,
        share: f32,
        ms: u64,
    ) -> thirtyfour::error::WebDriverResult<f32> {
        let shares: Option<Vec<f32>> =
            self.driver.execute_async(LISTEN, vec![hz.into(), ms.into()]).await?.convert()?;
        let shares = shares.unwrap_or_default();
        let with = shares.iter().filter(|s| **s >= share).count();
        Ok(with as f32 / shares.len().max(1) as f32)
    }
}
