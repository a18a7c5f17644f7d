//! A page of the Callpark UI under WebDriver, found by `data-testid`: the desktop
//! app's web view and the web app in a browser alike, so that a scenario is
//! written once for both.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use thirtyfour::error::WebDriverErrorInner;
use thirtyfour::extensions::query::ElementQuery;
use thirtyfour::prelude::*;
use thirtyfour::stringmatch::{Needle, StringMatch};

/// How long to wait for something the user would see.
pub const UI_TIMEOUT: Duration = Duration::from_secs(15);
pub const POLL: Duration = Duration::from_millis(50);

pub struct Page {
    pub driver: WebDriver,
}

/// Runs a query again when the UI replaced an element between finding it and
/// looking at it (it re-renders on every update, the countdowns every second): a
/// stale element is not an answer. Bounded by [`UI_TIMEOUT`].
async fn again_if_replaced<T>(
    mut query: impl AsyncFnMut() -> WebDriverResult<T>,
) -> WebDriverResult<T> {
    let deadline = Instant::now() + UI_TIMEOUT;
    loop {
        match query().await {
            Err(error)
                if matches!(error.as_inner(), WebDriverErrorInner::StaleElementReference(_))
                    && Instant::now() < deadline => {}
            answer => return answer,
        }
    }
}

impl Page {
    /// What is displayed with this `data-testid`, waited for up to [`UI_TIMEOUT`].
    fn displayed(&self, id: &str) -> ElementQuery {
        self.driver
            .query(By::Css(format!("[data-testid=\"{id}\"]")))
            .wait(UI_TIMEOUT, POLL)
            .and_displayed()
    }

    /// The element with this `data-testid` once it is displayed with text `text`
    /// matches.
    async fn displayed_with_text(
        &self,
        id: &str,
        text: impl Needle + Clone + Send + Sync + 'static,
    ) -> WebDriverResult<WebElement> {
        again_if_replaced(async || self.displayed(id).with_text(text.clone()).first().await).await
    }

    /// The element with this `data-testid`, once it is displayed.
    pub async fn by_test_id(&self, id: &str) -> WebDriverResult<WebElement> {
        again_if_replaced(async || self.displayed(id).first().await).await
    }

    /// Waits until the element with this `data-testid` shows exactly `text`.
    pub async fn wait_for_text(&self, id: &str, text: &str) -> WebDriverResult<WebElement> {
        self.displayed_with_text(id, text.to_owned()).await
    }

    /// Clicks the element with this `data-testid` once it is displayed.
    pub async fn click(&self, id: &str) -> WebDriverResult<()> {
        again_if_replaced(async || self.by_test_id(id).await?.click().await).await
    }

    /// Replaces the text of the input with this `data-testid`.
    pub async fn type_into(&self, id: &str, text: &str) -> WebDriverResult<()> {
        again_if_replaced(async || {
            let input = self.by_test_id(id).await?;
            input.clear().await?;
            if text.is_empty() { Ok(()) } else { input.send_keys(text).await }
        })
        .await
    }

    /// Waits until the element with this `data-testid` shows text containing `part`.
    pub async fn wait_for_text_containing(
        &self,
        id: &str,
        part: &str,
    ) -> WebDriverResult<WebElement> {
        self.displayed_with_text(id, StringMatch::new(part).partial()).await
    }

    /// Waits until the element with this `data-testid` shows text that `ok` accepts.
    pub async fn wait_for_text_where(
        &self,
        id: &str,
        ok: impl Fn(&str) -> bool + Clone + Send + Sync + 'static,
    ) -> WebDriverResult<WebElement> {
        self.displayed_with_text(id, ok).await
    }

    /// Waits until nothing with this `data-testid` is displayed.
    pub async fn wait_until_gone(&self, id: &str) -> WebDriverResult<()> {
        again_if_replaced(async || self.displayed(id).wait_until_gone().await).await
    }

    /// How many changes (nodes, attributes, text) the page goes through in the next
    /// `window_ms`, counted by a MutationObserver in the page.
    pub async fn page_changes_within(&self, window_ms: u64) -> WebDriverResult<u64> {
        const COUNT_CHANGES: &str = r#"
            const [windowMs, done] = arguments;
            let changes = 0;
            const observer = new MutationObserver((records) => { changes += records.length; });
            observer.observe(document.documentElement,
                { subtree: true, childList: true, attributes: true, characterData: true });
            setTimeout(() => { observer.disconnect(); done(changes); }, windowMs);
        "#;
        self.driver.execute_async(COUNT_CHANGES, vec![window_ms.into()]).await?.convert()
    }

    /// Waits for two frames to be painted, so that a screenshot shows what the
    /// test just checked.
    pub async fn painted(&self) {
        let painted = self
            .driver
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 50)));",
                Vec::new(),
            )
            .await;
        if let Err(error) = painted {
            eprintln!("waiting for a paint before the screenshot: {error}");
        }
    }

    /// Ends a scenario: closes the WebDriver session, then fails the test when the
    /// scenario failed, naming the screenshot taken of it.
    pub async fn close_after(&self, test_name: &str, failure: Option<(WebDriverError, PathBuf)>) {
        if let Err(error) = self.driver.clone().quit().await
            && failure.is_none()
        {
            eprintln!("closing the WebDriver session: {error}");
        }
        if let Some((error, shot)) = failure {
            panic!("{test_name} failed: {error}\nscreenshot: {}", shot.display());
        }
    }
}
