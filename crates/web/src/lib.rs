//! The web app's client session: [`callpark_session::Session`] compiled to
//! WebAssembly. The browser's TypeScript driver owns the IO (the WebSocket, the
//! timers, the peer connection) and talks to the session in JSON strings, so the
//! protocol state and the view model are the same code as the desktop app's and
//! the CLI's.
//!
//! The driver feeds it what happened ([`WebSession::connected`],
//! [`WebSession::frame`], [`WebSession::closed`], [`WebSession::timeout`],
//! [`WebSession::ask`]) with the time in milliseconds (`performance.now()`), then
//! carries out every [`WebSession::poll_output`] until `undefined`, and sleeps until
//! [`WebSession::next_timeout_ms`].

mod outputs;
mod requests;

use std::collections::BTreeMap;
use std::time::Duration;

use callpark_session::{ConnectFailure, RequestId, Session};
use serde::Serialize;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::outputs::output_json;
use crate::requests::{WebIntent, refusal};

/// The version of the client, for the About line.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// One signed-in tab's signaling session. See the crate documentation.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WebSession {
    session: Session,
    /// What each request in flight asked for, to shape its outcome.
    asked: BTreeMap<RequestId, WebIntent>,
    /// Outcomes settled before reaching the session (an intent it cannot read).
    refused: Vec<String>,
}

/// What the tab renders, besides who is signed in (the driver knows that).
#[derive(Serialize)]
struct ViewJson<'a> {
    view: &'a callpark_session::ViewModel,
    /// My park group as people name it, when park is on for me.
    park_group: Option<&'a str>,
    /// The tab is a party to a call: its microphone is open exactly then.
    in_call: bool,
}

fn since_origin(now_ms: f64) -> Duration {
    Duration::from_secs_f64(now_ms.max(0.0) / 1000.0)
}

#[wasm_bindgen]
impl WebSession {
    /// A session for a device named `device_name`, its reconnect jitter seeded by
    /// the browser's random numbers. Its first output asks to connect. `resume`:
    /// the resume token this tab kept from before a reload (empty for none), to
    /// come back as the same device, with its calls.
    #[wasm_bindgen(constructor)]
    pub fn new(device_name: &str, seed_high: u32, seed_low: u32, resume: &str) -> WebSession {
        let seed = (u64::from(seed_high) << 32) | u64::from(seed_low);
        WebSession {
            session: Session::with_seed(device_name, seed).resuming(resume),
            asked: BTreeMap::new(),
            refused: Vec::new(),
        }
    }

    /// The WebSocket asked for opened.
    pub fn connected(&mut self, now_ms: f64) {
        self.session.handle_connected(since_origin(now_ms));
    }

    /// The WebSocket could not be opened. `unauthorized`: the service refused the
    /// sign-in (no ticket could be had: HTTP 401); otherwise it is worth retrying.
    pub fn connect_failed(&mut self, unauthorized: bool, reason: &str, now_ms: f64) {
        let failure = if unauthorized {
            ConnectFailure::Unauthorized
        } else {
            ConnectFailure::Failed(reason.to_owned())
        };
        self.session.handle_connect_failed(failure, since_origin(now_ms));
    }

    /// The open WebSocket closed, with its close code (none when it broke).
    pub fn closed(&mut self, code: Option<u16>, reason: &str, now_ms: f64) {
        self.session.handle_closed(code, reason, since_origin(now_ms));
    }

    /// A text frame from the service.
    pub fn frame(&mut self, text: &str, now_ms: f64) {
        self.session.handle_frame(text, since_origin(now_ms));
    }

    /// The time asked for by [`WebSession::next_timeout_ms`] came.
    pub fn timeout(&mut self, now_ms: f64) {
        self.session.handle_timeout(since_origin(now_ms));
    }

    /// When [`WebSession::timeout`] is next due, in the driver's milliseconds.
    pub fn next_timeout_ms(&self) -> Option<f64> {
        self.session.poll_timeout().map(|due| due.as_secs_f64() * 1000.0)
    }

    /// Asks the service for what the person (or the media link) wants, given as
    /// JSON (`{"kind":"park","call":7}`); returns the request's number, whose
    /// outcome comes as a `reply` output.
    pub fn ask(&mut self, intent_json: &str, now_ms: f64) -> f64 {
        let now = since_origin(now_ms);
        match serde_json::from_str::<WebIntent>(intent_json) {
            Ok(intent) => {
                let (body, fits) = intent.request();
                let id = self.session.request(body, fits, now);
                self.asked.insert(id, intent);
                id as f64
            }
            Err(error) => {
                // Numbered apart from the session's requests, which count up from 1.
                let id = -(self.refused.len() as f64) - 1.0;
                self.refused.push(refusal(id, "invalid", &format!("not an intent: {error}")));
                id
            }
        }
    }

    /// The next thing to do or know, as JSON, until `undefined`.
    pub fn poll_output(&mut self) -> Option<String> {
        if let Some(refused) = self.refused.pop() {
            return Some(refused);
        }
        let output = self.session.poll_output()?;
        Some(output_json(output, &mut self.asked))
    }

    /// The view model, as JSON.
    pub fn view(&self) -> String {
        let view = self.session.view();
        let json = ViewJson { view, park_group: view.policy_name(), in_call: view.in_a_call() };
        serde_json::to_string(&json).unwrap_or_else(|_| "null".to_owned())
    }

    /// The resume token of the last welcome (`undefined` before the first).
    pub fn resume_token(&self) -> Option<String> {
        self.session.resume_token().map(str::to_owned)
    }

    /// Signs off: closes the connection and stops connecting.
    pub fn stop(&mut self) {
        self.session.stop();
    }
}

#[cfg(test)]
mod tests;
