//! The WebDriver UI suite: the real desktop app, driven through tauri-driver and
//! WebKitWebDriver on a private Xvfb display, against a real service, with headless
//! softphones as the other parties. See docs/qa.md to run or extend it.
//!
//! Linux only: WebKitWebDriver under Xvfb. (macOS has no WebDriver for its web
//! view; Windows would need Edge's driver, and CI builds and tests the rest there.)

#![cfg(target_os = "linux")]

mod accessibility;
mod app_window;
mod connection;
mod desktop_bus;
mod framebuffer;
mod page;
mod park_and_pickup;
mod parties;
mod people;
mod refusals;
mod ringback;
mod settings;
mod sign_in;
mod support;
mod voicemail;
mod web;
mod window_manager;
