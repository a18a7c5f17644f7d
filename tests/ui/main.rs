//! The WebDriver UI suite: the real desktop app, driven through tauri-driver and
//! WebKitWebDriver on a private Xvfb display, against a real service, with headless
//! softphones as the other parties. See docs/qa.md to run or extend it.

mod app_window;
mod connection;
mod park_and_pickup;
mod parties;
mod people;
mod refusals;
mod ringback;
mod settings;
mod sign_in;
mod support;
mod voicemail;
