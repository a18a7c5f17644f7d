//! Declining sends the caller to voicemail; the message appears in the app at once
//! (with a native notification) and plays through the app's speaker.

use std::time::Duration;

use callpark_client::CallPhase;
use thirtyfour::prelude::*;

use crate::parties::{Party, Service};
use crate::support::{Desktop, UI_TIMEOUT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_call_leaves_a_voicemail_that_appears_and_plays() {
    let service = Service::start().await;
    let dave = Party::sign_in(&service, "dave", 440.0).await;
    Desktop::launch("voicemail")
        .await
        .run(async |app| {
            app.sign_in(&service.address, "bob").await?;
            app.by_test_id("voicemail-empty").await?;
            let call = dave.phone.dial("bob").await.expect("dave dials bob");
            app.wait_for_text_containing("incoming-caller", "Dave").await?;
            app.click("decline-call").await?;
            dave.call_in(CallPhase::Voicemail).await;
            // The greeting and beep, then a moment of Dave's tone on the recording.
            tokio::time::sleep(Duration::from_millis(3_000)).await;
            dave.phone.hang_up(call).await.expect("dave hangs up");

            let entry = app
                .driver
                .query(By::Css("[data-testid^=\"voicemail-\"]"))
                .with_text(thirtyfour::stringmatch::StringMatch::new("Dave Park-less").partial())
                .wait(UI_TIMEOUT, Duration::from_millis(50))
                .first()
                .await?;
            let notice = app.place.notifications.wait_for("New voicemail").await?;
            assert!(
                notice.body.starts_with("Dave Park-less left a "),
                "voicemail notification: {notice:?}"
            );
            let play = entry.find(By::Css("[data-testid^=\"play-voicemail-\"]")).await?;
            let play_id = play.attr("data-testid").await?.expect("a test id");
            play.click().await?;
            // "Stop" shows once the speaker opened and the message started.
            app.wait_for_text(&play_id, "Stop").await?;
            app.screenshot("playing").await;
            play.click().await?;
            app.wait_for_text(&play_id, "Play").await?;
            Ok(())
        })
        .await;
}
