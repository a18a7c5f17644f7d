//! Settings: the sound devices of the machine (here the test command's private
//! PulseAudio daemon), a choice that sticks, and a test tone.

use thirtyfour::prelude::*;

use crate::parties::Service;
use crate::support::Desktop;

/// The null sink the test command's PulseAudio daemon starts with.
const SPEAKER: &str = "callpark_default";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_are_listed_chosen_remembered_and_a_test_tone_plays() {
    let service = Service::start().await;
    Desktop::launch("settings")
        .await
        .run(async |app| {
            app.sign_in(&service.address, "bob").await?;
            app.click("open-settings").await?;
            let speakers = app.by_test_id("speaker-select").await?;
            let option =
                speakers.query(By::Css(format!("option[value=\"{SPEAKER}\"]"))).first().await?;
            option.click().await?;
            let microphones = app.by_test_id("microphone-select").await?;
            let listed = microphones.find_all(By::Tag("option")).await?;
            assert!(listed.len() >= 2, "System default and at least the sink's monitor");
            app.click("test-tone").await?;
            app.wait_for_text("test-tone", "Playing…").await?;
            app.screenshot("devices").await;
            app.click("settings-close").await?;
            app.wait_until_gone("settings-dialog").await?;

            app.click("open-settings").await?;
            let speakers = app.by_test_id("speaker-select").await?;
            app.driver
                .query(By::Css("[data-testid=\"speaker-select\"]"))
                .with_filter(|select: WebElement| async move {
                    Ok(select.prop("value").await?.as_deref() == Some(SPEAKER))
                })
                .wait(crate::support::UI_TIMEOUT, std::time::Duration::from_millis(50))
                .first()
                .await?;
            assert_eq!(speakers.prop("value").await?.as_deref(), Some(SPEAKER), "remembered");
            let error = app.driver.find(By::Css("[data-testid=\"settings-error\"]")).await?;
            assert!(!error.is_displayed().await?, "no device problem is shown");
            Ok(())
        })
        .await;
}
