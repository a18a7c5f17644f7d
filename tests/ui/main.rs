//! The WebDriver UI suite: the real desktop app, driven through tauri-driver and
//! WebKitWebDriver on a private Xvfb display. See docs/qa.md to run or extend it.

mod app_window;
mod support;
