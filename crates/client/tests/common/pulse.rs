//! Private null sinks on the PulseAudio server the test command starts: each test
//! makes its own, so no other test's audio mixes in.

use std::process::Command;

use callpark_client::audio::DeviceChoice;

/// A null sink loaded for one test and unloaded when dropped.
pub struct NullSink {
    module: String,
    pub name: String,
}

impl NullSink {
    /// Keeps the sink running as a sound card runs, for as long as the returned
    /// recording lives (it is never read). A null sink with nothing recording its
    /// monitor renders 2 s blocks, and the first recording to start then waits up to
    /// 2 s for the block to end; a sound card starts a recording in milliseconds.
    /// It is one more source output on the monitor.
    pub fn keep_running(&self) -> callpark_client::audio::Microphone {
        callpark_client::audio::Microphone::open(&self.monitor()).expect("the monitor opens")
    }

    pub fn load(role: &str) -> NullSink {
        assert!(
            std::env::var_os("PULSE_SERVER").is_some(),
            "this test needs a PulseAudio server: run it through the README's test command \
             (cargo xtask test), or `cargo xtask pulse -- cargo nextest run ...`"
        );
        let name = format!("callpark_test_{}_{role}", std::process::id());
        let output = Command::new("pactl")
            .args(["load-module", "module-null-sink", &format!("sink_name={name}")])
            .args(["rate=48000", "channels=1"])
            .output()
            .expect("pactl (pulseaudio-utils) is installed");
        assert!(output.status.success(), "pactl: {}", String::from_utf8_lossy(&output.stderr));
        let module = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        NullSink { module, name }
    }

    pub fn monitor(&self) -> DeviceChoice {
        DeviceChoice::Named(format!("{}.monitor", self.name))
    }

    pub fn sink(&self) -> DeviceChoice {
        DeviceChoice::Named(self.name.clone())
    }

    /// Streams recording from this sink's monitor now (`pactl list source-outputs`).
    pub fn recording_streams(&self) -> usize {
        streams_on("source-outputs", &pactl_index("sources", &format!("{}.monitor", self.name)))
    }

    /// Streams playing into this sink now (`pactl list sink-inputs`).
    pub fn playing_streams(&self) -> usize {
        streams_on("sink-inputs", &pactl_index("sinks", &self.name))
    }
}

fn pactl_short(what: &str) -> Vec<Vec<String>> {
    let output = Command::new("pactl").args(["list", "short", what]).output().unwrap();
    assert!(output.status.success(), "pactl list short {what}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect()
}

/// The index PulseAudio gives the source or sink called `name`.
fn pactl_index(what: &str, name: &str) -> String {
    pactl_short(what)
        .into_iter()
        .find(|fields| fields.get(1).map(String::as_str) == Some(name))
        .and_then(|fields| fields.first().cloned())
        .unwrap_or_else(|| panic!("no {what} called {name}"))
}

/// How many source outputs or sink inputs are attached to the source or sink `index`.
fn streams_on(what: &str, index: &str) -> usize {
    pactl_short(what)
        .iter()
        .filter(|fields| fields.get(1).map(String::as_str) == Some(index))
        .count()
}

impl Drop for NullSink {
    fn drop(&mut self) {
        let _ = Command::new("pactl").args(["unload-module", &self.module]).status();
    }
}
