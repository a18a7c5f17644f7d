//! People in the organisation with live presence, one click to call.

use callpark_client::CallPhase;
use thirtyfour::By;

use crate::parties::{Party, Service};
use crate::support::Desktop;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_show_live_presence_and_are_one_click_to_call() {
    let service = Service::start().await;
    let dave = Party::sign_in(&service, "dave", 440.0).await;
    Desktop::launch("people")
        .await
        .run(async |app| {
            app.sign_in(&service.address, "bob").await?;
            app.wait_for_text("presence-dave", "Available").await?;
            app.wait_for_text("presence-alice", "Offline").await?;
            // The dial box suggests everyone else by login.
            let mut suggested = Vec::new();
            let options = "[data-testid='people-logins'] option";
            for option in app.driver.find_all(By::Css(options)).await? {
                suggested.push(option.attr("value").await?.unwrap_or_default());
            }
            assert_eq!(suggested, ["alice", "carol", "dave"]);
            let alice = Party::sign_in(&service, "alice", 550.0).await;
            app.wait_for_text("presence-alice", "Available").await?;

            app.click("call-dave").await?;
            app.wait_for_text("call-phase", "Calling…").await?;
            let incoming = dave.call_in(CallPhase::Incoming).await;
            dave.phone.answer(incoming).await.expect("dave answers");
            app.wait_for_text("call-phase", "In call").await?;
            app.wait_for_text("presence-dave", "In a call").await?;
            app.screenshot("presence").await;

            alice.phone.sign_out().await;
            app.wait_for_text("presence-alice", "Offline").await?;
            Ok(())
        })
        .await;
}
