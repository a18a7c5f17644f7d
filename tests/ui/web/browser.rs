//! The web app in Debian's Chromium, headless, through its ChromeDriver: a private
//! profile, fake media devices (the microphone says a tone read from a WAV file),
//! WebRTC allowed on 127.0.0.1. Every process started here is stopped by PID
//! when the [`Browser`] is dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use thirtyfour::prelude::*;

use crate::page::Page;
use crate::support::{ChildGuard, free_port, wait_for_port};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The tone the browser's fake microphone says (from a WAV file the test writes).
pub const MICROPHONE_HZ: f32 = 500.0;

pub struct Browser {
    pub page: Page,
    test_name: String,
    // Dropped after the WebDriver session: the driver, then the profile.
    _chromedriver: ChildGuard,
    _profile: tempfile::TempDir,
}

impl std::ops::Deref for Browser {
    type Target = Page;

    fn deref(&self) -> &Page {
        &self.page
    }
}

/// One second of a sine at `hz` (16-bit mono, 48 kHz), which Chromium's fake
/// microphone plays in a loop.
fn tone_wav(path: &Path, hz: f32) {
    const RATE: u32 = 48_000;
    let samples: Vec<i16> = (0..RATE)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            ((std::f32::consts::TAU * hz * t).sin() * 0.3 * f32::from(i16::MAX)) as i16
        })
        .collect();
    let data_bytes = u32::try_from(samples.len() * 2).expect("one second fits");
    let mut wav = Vec::with_capacity(44 + samples.len() * 2);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_bytes).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&RATE.to_le_bytes());
    wav.extend_from_slice(&(RATE * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_bytes.to_le_bytes());
    for sample in samples {
        wav.extend_from_slice(&sample.to_le_bytes());
    }
    std::fs::write(path, wav).expect("the fake microphone's sound file");
}

impl Browser {
    /// A new headless Chromium whose microphone says [`MICROPHONE_HZ`], on the web
    /// app's page at `url`.
    pub async fn open(test_name: &str, url: &str) -> Browser {
        assert!(
            Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists(),
            "Chromium or its ChromeDriver is missing: run the README's test command, which installs them"
        );
        let profile = tempfile::tempdir().expect("a private browser profile");
        let sound = profile.path().join("microphone.wav");
        tone_wav(&sound, MICROPHONE_HZ);
        let port = free_port();
        let mut command = Command::new(CHROMEDRIVER);
        command.arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().expect("ChromeDriver starts");
        // ChromeDriver leaves Chromium running if it is killed: stop the whole group.
        let chromedriver = ChildGuard::new("chromedriver", child, cfg!(unix));
        wait_for_port(port, "chromedriver");

        let mut capabilities = DesiredCapabilities::chrome();
        capabilities.set_binary(CHROMIUM).expect("capability");
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--window-size=1100,900",
            // WebRTC with the service on 127.0.0.1.
            "--allow-loopback-in-peer-connection",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            "--autoplay-policy=no-user-gesture-required",
        ] {
            capabilities.add_arg(arg).expect("capability");
        }
        capabilities
            .add_arg(&format!("--use-file-for-fake-audio-capture={}", sound.display()))
            .expect("capability");
        capabilities
            .add_arg(&format!("--user-data-dir={}", profile.path().join("profile").display()))
            .expect("capability");
        let driver = WebDriver::new(format!("http://127.0.0.1:{port}"), capabilities)
            .await
            .expect("a WebDriver session with Chromium");
        driver.goto(url).await.expect("the web app's page");
        Browser {
            page: Page { driver },
            test_name: test_name.to_owned(),
            _chromedriver: chromedriver,
            _profile: profile,
        }
    }

    /// The ChromeDriver's process id (Chromium's processes are its descendants).
    #[allow(dead_code)] // the web app's benchmark reads its processes
    pub fn chromedriver_pid(&self) -> u32 {
        self._chromedriver.pid()
    }

    /// Signs in as `login` (the demo password) and waits for the home screen.
    pub async fn sign_in(&self, login: &str) -> WebDriverResult<()> {
        self.type_into("sign-in-login", login).await?;
        self.type_into("sign-in-password", &format!("{login}-demo")).await?;
        self.click("sign-in-submit").await?;
        self.wait_for_text("connection-status", "Online").await?;
        Ok(())
    }

    /// Saves a screenshot under `target/ui-screenshots/web-<test>-<label>.png`.
    pub async fn screenshot(&self, label: &str) -> PathBuf {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/ui-screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot directory");
        let path = dir.join(format!("web-{}-{label}.png", self.test_name));
        self.painted().await;
        if let Err(error) = self.driver.screenshot(&path).await {
            eprintln!("could not save screenshot {}: {error}", path.display());
        }
        path
    }

    /// Runs a scenario; on failure saves a screenshot and fails the test with it.
    pub async fn run(self, scenario: impl AsyncFnOnce(&Browser) -> WebDriverResult<()>) {
        let failure = match scenario(&self).await {
            Ok(()) => None,
            Err(error) => Some((error, self.screenshot("failure").await)),
        };
        self.close_after(&self.test_name, failure).await;
    }
}
