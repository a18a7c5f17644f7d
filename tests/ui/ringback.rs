//! A parked call nobody picks up rings back in the app, which can answer it; the
//! incoming call and the ringback raise native notifications.

use callpark_wire::admin::{PolicyFields, UserChanges};

use crate::parties::{Party, Service};
use crate::support::Desktop;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_park_rings_back_and_the_app_answers_it() {
    // Test clock ×20: the shortest park timeout (120 s) is 6 s, and the longest
    // ringing before voicemail (60 s) is 3 s.
    let service = Service::with_clock_speedup(20).await;
    let admin = service.admin().await;
    let shortest = PolicyFields { park_timeout_seconds: Some(120), ..PolicyFields::default() };
    admin.set_policy("Front desk", &shortest).await.expect("shortest timeout");
    let longest_ring = UserChanges { unanswered_delay_seconds: Some(60), ..UserChanges::default() };
    admin.set_user("bob", &longest_ring).await.expect("longest ringing");
    let dave = Party::sign_in(&service, "dave", 440.0).await;
    Desktop::launch("ringback")
        .await
        .run(async |app| {
            app.sign_in(&service.address, "bob").await?;
            dave.phone.dial("bob").await.expect("dave dials bob");
            let incoming = app.place.notifications.wait_for("Call from Dave Park-less").await?;
            assert_eq!(incoming.body, "Open Callpark to answer.");
            app.click("accept-call").await?;
            app.wait_for_text_containing("call-peer", "Dave").await?;
            app.click("park").await?;
            let code = app.by_test_id("park-code").await?.text().await?;

            app.wait_for_text("ringback-caller", "Dave Park-less is still waiting").await?;
            app.wait_for_text("ringback-code", &code).await?;
            let ringback =
                app.place.notifications.wait_for("Dave Park-less is still waiting").await?;
            assert_eq!(
                ringback.body,
                format!("Nobody picked up code {code}. Answer to take the call back.")
            );
            app.screenshot("ringing").await;
            app.click("answer-ringback").await?;
            app.wait_for_text("call-phase", "In call").await?;
            app.wait_for_text_containing("call-peer", "Dave").await?;
            app.wait_until_gone("park-code").await?;
            Ok(())
        })
        .await;
}
