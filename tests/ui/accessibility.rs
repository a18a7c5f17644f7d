//! Keyboard and screen readers: every control a person can reach has a stable
//! `data-testid` and a name a screen reader can say, and the core path (sign in,
//! pick up a parked call, park it again) works from the keyboard alone.

use thirtyfour::prelude::*;

use crate::parties::{Party, Service};
use crate::support::Desktop;

/// Every displayed control without a `data-testid` or without an accessible name,
/// one line each. The name is found the way assistive technology finds it for this
/// markup: `aria-labelledby`, `aria-label`, a `<label for>`, an enclosing label,
/// then a button's own text (without what is `aria-hidden`; a placeholder is not a
/// name).
const CONTROLS_WITHOUT_ID_OR_NAME: &str = r#"
const controls = document.querySelectorAll(
  'button, input, select, textarea, a[href], [role="button"], [tabindex]:not([tabindex="-1"])');
const said = (node) => node.nodeType === Node.TEXT_NODE ? node.textContent
  : node.nodeType === Node.ELEMENT_NODE && node.getAttribute('aria-hidden') !== 'true'
    ? [...node.childNodes].map(said).join('') : '';
const text = (node) => (node ? said(node) : '').trim();
const problems = [];
for (const control of controls) {
  if (control.getClientRects().length === 0) continue;
  const tag = control.tagName.toLowerCase();
  const testId = control.getAttribute('data-testid');
  const labelledBy = (control.getAttribute('aria-labelledby') ?? '').split(/\s+/)
    .filter(Boolean).map((id) => text(document.getElementById(id))).join(' ').trim();
  const forLabel = control.id ? text(document.querySelector(`label[for="${control.id}"]`)) : '';
  const ownText = tag === 'button' || tag === 'a' || control.getAttribute('role') === 'button'
    ? text(control) : '';
  const name = [labelledBy, (control.getAttribute('aria-label') ?? '').trim(), forLabel,
    text(control.closest('label')), ownText].find((candidate) => candidate.length > 0);
  if (!testId) problems.push(`${tag} "${name ?? ''}" has no data-testid`);
  if (!name) problems.push(`${tag} [data-testid=${testId}] has no accessible name`);
}
return problems;
"#;

/// Tab presses allowed to reach a control: the home screen has about twenty.
const MOST_TABS: usize = 60;

/// Keyboard and accessible-name helpers for any UI test.
impl Desktop {
    async fn controls_without_id_or_name(&self) -> WebDriverResult<Vec<String>> {
        self.driver.execute(CONTROLS_WITHOUT_ID_OR_NAME, Vec::new()).await?.convert()
    }

    /// The `data-testid` of the element that has the keyboard focus.
    pub(crate) async fn focused(&self) -> WebDriverResult<String> {
        let element = self.driver.active_element().await?;
        Ok(element.attr("data-testid").await?.unwrap_or_default())
    }

    /// Keys typed wherever the focus is, as a person types them.
    pub(crate) async fn press(&self, keys: impl Into<TypingData>) -> WebDriverResult<()> {
        self.driver.active_element().await?.send_keys(keys).await
    }

    /// Moves the focus with Tab until it is on `id`; fails with the order visited.
    pub(crate) async fn tab_to(&self, id: &str) -> WebDriverResult<()> {
        let mut visited = Vec::new();
        for _ in 0..MOST_TABS {
            let focused = self.focused().await?;
            if focused == id {
                return Ok(());
            }
            visited.push(focused);
            self.press(Key::Tab).await?;
        }
        panic!("Tab never reached {id}; it went through {visited:?}");
    }

    pub(crate) async fn assert_every_control_is_named(&self, screen: &str) -> WebDriverResult<()> {
        let problems = self.controls_without_id_or_name().await?;
        assert!(problems.is_empty(), "on the {screen}: {problems:#?}");
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_control_has_a_test_id_and_a_name_on_every_screen() {
    let service = Service::start().await;
    let dave = Party::sign_in(&service, "dave", 440.0).await;
    let carol = Party::sign_in(&service, "carol", 660.0).await;
    Desktop::launch("accessible_names")
        .await
        .run(async |app| {
            app.by_test_id("sign-in-submit").await?;
            app.assert_every_control_is_named("sign-in screen").await?;
            app.sign_in(&service.address, "bob").await?;

            // The home screen with a parked call listed and people to call.
            let code = carol.park_a_call_from(&dave, "carol").await;
            app.by_test_id(&format!("pickup-{code}")).await?;
            app.by_test_id("call-alice").await?;
            app.assert_every_control_is_named("home screen").await?;

            app.click("open-pickup").await?;
            app.by_test_id("pickup-code").await?;
            app.assert_every_control_is_named("pickup dialog").await?;
            app.click("pickup-cancel").await?;
            app.wait_until_gone("pickup-dialog").await?;

            app.click("open-settings").await?;
            app.by_test_id("speaker-select").await?;
            app.assert_every_control_is_named("settings dialog").await?;
            app.click("settings-close").await?;
            app.wait_until_gone("settings-dialog").await?;

            // In a call, then parked: the call controls and the code with Copy.
            app.click(&format!("pickup-{code}")).await?;
            app.wait_for_text("call-phase", "In call").await?;
            app.assert_every_control_is_named("call view").await?;
            app.click("park").await?;
            app.by_test_id("park-code").await?;
            app.assert_every_control_is_named("parked view").await?;
            Ok(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_pick_up_and_park_from_the_keyboard_alone() {
    let service = Service::start().await;
    let dave = Party::sign_in(&service, "dave", 440.0).await;
    let carol = Party::sign_in(&service, "carol", 660.0).await;
    Desktop::launch("keyboard_only")
        .await
        .run(async |app| {
            // Nothing remembered: the focus starts in the login name; the server
            // address is the field before it.
            app.by_test_id("sign-in-submit").await?;
            assert_eq!(app.focused().await?, "sign-in-login");
            app.press(Key::Shift + Key::Tab).await?;
            assert_eq!(app.focused().await?, "sign-in-server");
            app.press(Key::Control + "a").await?;
            app.press(service.address.as_str()).await?;
            app.press(Key::Tab).await?;
            app.press("bob").await?;
            app.press(Key::Tab).await?;
            app.press("bob-demo" + Key::Enter).await?;
            app.wait_for_text("connection-status", "Online").await?;

            // Pick up opens with the focus in the code; Escape closes it.
            app.tab_to("open-pickup").await?;
            app.press(Key::Enter).await?;
            app.by_test_id("pickup-dialog").await?;
            assert_eq!(app.focused().await?, "pickup-code");
            app.press(Key::Escape).await?;
            app.wait_until_gone("pickup-dialog").await?;

            let code = carol.park_a_call_from(&dave, "carol").await;
            app.tab_to("open-pickup").await?;
            app.press(Key::Enter).await?;
            assert_eq!(app.focused().await?, "pickup-code");
            app.press(code.to_string() + Key::Enter).await?;
            app.wait_for_text("call-phase", "In call").await?;
            app.wait_for_text_containing("call-peer", "Dave").await?;

            // Park with the space bar, as a button is pressed from the keyboard.
            app.tab_to("park").await?;
            app.press(Key::Space).await?;
            let parked = app.by_test_id("park-code").await?.text().await?;
            assert!(parked.parse::<u16>().is_ok_and(|c| (10..=99).contains(&c)), "{parked:?}");
            Ok(())
        })
        .await;
}
