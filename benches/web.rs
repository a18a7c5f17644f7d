//! The web app in headless Chromium (Debian's, through its ChromeDriver), against a
//! real service in this process (Linux):
//!
//! - first load, cold (a new browser profile each run, `RUNS` times, default 10):
//!   bytes transferred (the Resource Timing `transferSize` of the page and every
//!   file it loaded: gzip as served, headers included) and the time from
//!   navigation to the sign-in screen (the app's `callpark:ready` mark);
//! - the tab's memory: PSS of its renderer process (the largest `--type=renderer`
//!   under the ChromeDriver), and of all Chromium's processes, signed in and idle,
//!   then in a call with a headless softphone;
//! - the tab's CPU in a call over `CALL_CPU_SECONDS` (default 10): the renderer,
//!   and all Chromium's processes (its audio and network services included), as a
//!   share of one core;
//! - mouth to ear, softphone to tab, `ONSETS` times (default 10): from the moment
//!   the softphone's source hands a tone's first frame to the pipeline (Opus, str0m,
//!   the service's anchor) to the moment the tab's WebAudio analyser finds the tone
//!   in what the browser plays (its jitter buffer, decoder and output included; a
//!   fake output device, so no sound card's buffer).
//!
//! `cargo bench --profile dev --bench web` (the service and softphone at the dev
//! profile, as the tests run them; the browser is Debian's release build). Prints
//! medians.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is the failure report

#[cfg(target_os = "linux")]
#[path = "../tests/ui/web/browser.rs"]
#[allow(dead_code)]
mod browser;
#[cfg(target_os = "linux")]
#[path = "../tests/ui/desktop_bus.rs"]
#[allow(dead_code)]
mod desktop_bus;
#[cfg(target_os = "linux")]
#[path = "../tests/ui/framebuffer.rs"]
#[allow(dead_code)]
mod framebuffer;
#[cfg(target_os = "linux")]
#[path = "../tests/ui/page.rs"]
#[allow(dead_code)]
mod page;
#[cfg(target_os = "linux")]
#[path = "../tests/ui/parties.rs"]
#[allow(dead_code)]
mod parties;
#[cfg(target_os = "linux")]
#[path = "common/proc_stats.rs"]
mod proc_stats;
#[cfg(target_os = "linux")]
#[path = "../tests/ui/support.rs"]
#[allow(dead_code)]
mod support;

#[cfg(target_os = "linux")]
mod linux {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use callpark_client::audio::io::Frame;
    use callpark_client::audio::io::SAMPLE_RATE;
    use callpark_client::audio::{AudioSource, DiscardSink, ToneSource};
    use callpark_client::media::CallAudio;
    use callpark_client::{CallPhase, ServiceAddress, Softphone};

    use super::browser::Browser;
    use super::parties::Service;
    use super::proc_stats::{cpu_time, env_number, median, process_tree, pss_mib};

    const TONE_HZ: f32 = 660.0;

    /// Silent until switched on; records when it handed out its first tone frame.
    struct GatedTone {
        tone: ToneSource,
        on: Arc<AtomicBool>,
        started: Arc<Mutex<Option<SystemTime>>>,
    }

    impl AudioSource for GatedTone {
        fn read_frame(&mut self, frame: &mut Frame) -> bool {
            if self.on.load(Ordering::SeqCst) {
                self.tone.fill(frame);
                let mut started = self.started.lock().unwrap();
                started.get_or_insert_with(SystemTime::now);
            } else {
                frame.fill(0.0);
            }
            true
        }
    }

    /// Waits in the page until its call audio holds `hz`; resolves with the epoch
    /// time in ms (or null after `limit` ms). A 512-sample window (10.7 ms), looked
    /// at every 2 ms.
    const ONSET: &str = r#"
        const [hz, limit, done] = arguments;
        const element = document.querySelector('[data-testid="call-audio"]');
        const context = new AudioContext();
        const analyser = context.createAnalyser();
        analyser.fftSize = 512;
        context.createMediaStreamSource(element.srcObject).connect(analyser);
        const samples = new Float32Array(analyser.fftSize);
        const k = 2 * Math.cos((2 * Math.PI * hz) / context.sampleRate);
        const began = performance.now();
        const every = setInterval(() => {
            analyser.getFloatTimeDomainData(samples);
            let energy = 0, s1 = 0, s2 = 0;
            for (const x of samples) { energy += x * x; const s = x + k * s1 - s2; s2 = s1; s1 = s; }
            const share = energy > 1e-4 ? (2 * (s1 * s1 + s2 * s2 - k * s1 * s2)) / (samples.length * energy) : 0;
            const now = performance.now();
            if (share > 0.5 || now - began > limit) {
                clearInterval(every);
                void context.close();
                done(share > 0.5 ? performance.timeOrigin + now : null);
            }
        }, 2);
    "#;

    const LOAD: &str = r#"
        const ready = performance.getEntriesByName("callpark:ready")[0];
        const entries = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")];
        return [ready ? ready.startTime : -1, entries.reduce((sum, e) => sum + e.transferSize, 0), entries.length];
    "#;

    fn renderer_pss(tree: &[u32]) -> f64 {
        tree.iter()
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|cmd| String::from_utf8_lossy(&cmd).contains("--type=renderer"))
            })
            .map(|pid| pss_mib(&[*pid]))
            .fold(0.0, f64::max)
    }

    fn renderers(tree: &[u32]) -> Vec<u32> {
        tree.iter()
            .copied()
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|cmd| String::from_utf8_lossy(&cmd).contains("--type=renderer"))
            })
            .collect()
    }

    async fn first_loads(service: &Service, runs: u64) {
        let (mut ready, mut bytes) = (Vec::new(), Vec::new());
        for run in 0..runs {
            let tab = Browser::open("bench_load", &service.address).await;
            tab.by_test_id("sign-in-login").await.expect("the sign-in screen");
            let (ms, transferred, files): (f64, f64, u32) =
                tab.driver.execute(LOAD, Vec::new()).await.unwrap().convert().unwrap();
            assert!(ms >= 0.0, "the app did not mark itself ready");
            println!(
                "load {run}: sign-in screen after {ms:.0} ms, {:.1} KB in {files} files",
                transferred / 1000.0
            );
            ready.push(ms);
            bytes.push(transferred / 1000.0);
            tab.driver.clone().quit().await.unwrap();
        }
        println!(
            "first load: navigation to sign-in screen median {:.0} ms; transferred median {:.1} KB (gzip, headers included)",
            median(&mut ready),
            median(&mut bytes)
        );
    }

    async fn in_a_call(service: &Service) {
        let on = Arc::new(AtomicBool::new(false));
        let started = Arc::new(Mutex::new(None));
        let (gate, first) = (on.clone(), started.clone());
        let audio = move || CallAudio {
            source: Box::new(GatedTone {
                tone: ToneSource::new(TONE_HZ, SAMPLE_RATE, 0.3),
                on: gate.clone(),
                started: first.clone(),
            }),
            sink: Box::new(DiscardSink),
        };
        let address = ServiceAddress::parse(&service.address).unwrap();
        let dave =
            Softphone::sign_in(&address, "dave", "dave-demo", "headless", audio).await.unwrap();
        let tab = Browser::open("bench_call", &service.address).await;
        tab.sign_in("bob").await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        let tree = process_tree(tab.chromedriver_pid());
        println!(
            "idle: tab (renderer) PSS {:.1} MiB; all of Chromium {:.1} MiB",
            renderer_pss(&tree),
            pss_mib(&tree)
        );

        tab.type_into("dial-input", "dave").await.unwrap();
        tab.click("dial-button").await.unwrap();
        let call = dave
            .engine()
            .wait_for(Duration::from_secs(10), |view| {
                view.calls.values().any(|c| c.phase == CallPhase::Incoming)
            })
            .await
            .unwrap()
            .calls
            .keys()
            .copied()
            .next()
            .unwrap();
        dave.answer(call).await.unwrap();
        tab.wait_for_text("call-phase", "In call").await.unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let tree = process_tree(tab.chromedriver_pid());
        println!(
            "in a call: tab (renderer) PSS {:.1} MiB; all of Chromium {:.1} MiB",
            renderer_pss(&tree),
            pss_mib(&tree)
        );

        let seconds = env_number("CALL_CPU_SECONDS", 10);
        let renderer = renderers(&tree);
        let (tab_before, all_before) = (cpu_time(&renderer), cpu_time(&tree));
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        let (tab_cpu, all_cpu) = (cpu_time(&renderer) - tab_before, cpu_time(&tree) - all_before);
        println!(
            "in a call, CPU over {seconds} s: tab (renderer) {:.1} % of a core; all of Chromium {:.1} %",
            tab_cpu.as_secs_f64() * 100.0 / seconds as f64,
            all_cpu.as_secs_f64() * 100.0 / seconds as f64
        );

        let mut delays = Vec::new();
        for onset in 0..env_number("ONSETS", 10) {
            on.store(false, Ordering::SeqCst);
            *started.lock().unwrap() = None;
            tokio::time::sleep(Duration::from_millis(700)).await;
            let switch = on.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                switch.store(true, Ordering::SeqCst);
            });
            let heard: Option<f64> = tab
                .driver
                .execute_async(ONSET, vec![TONE_HZ.into(), 3000.into()])
                .await
                .unwrap()
                .convert()
                .unwrap();
            let said = started.lock().unwrap().expect("the tone was said");
            let said_ms = said.duration_since(UNIX_EPOCH).unwrap().as_secs_f64() * 1000.0;
            let heard = heard.expect("the tab heard the tone");
            println!("onset {onset}: mouth to ear {:.0} ms", heard - said_ms);
            delays.push(heard - said_ms);
        }
        println!("mouth to ear (softphone to tab): median {:.0} ms", median(&mut delays));
        tab.driver.clone().quit().await.unwrap();
        dave.sign_out().await;
    }

    pub async fn main() {
        let service = Service::start().await;
        first_loads(&service, env_number("RUNS", 10)).await;
        in_a_call(&service).await;
    }
}

#[cfg(target_os = "linux")]
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    linux::main().await;
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("the web app benchmark runs on Linux (Debian's Chromium and ChromeDriver)");
}
