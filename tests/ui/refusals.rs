//! Every refusal in plain words, and nothing lost: wrong and taken codes, park not
//! enabled, no enterprise voice, no free codes (the call stays connected).

use callpark_client::CallPhase;
use callpark_wire::admin::{PolicyFields, UserChanges};
use thirtyfour::prelude::*;

use crate::parties::{Party, Service};
use crate::support::Desktop;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_and_already_taken_codes_show_their_messages() {
    let service = Service::start().await;
    let dave = Party::sign_in(&service, "dave", 440.0).await;
    let carol = Party::sign_in(&service, "carol", 660.0).await;
    let alice = Party::sign_in(&service, "alice", 550.0).await;
    Desktop::launch("pickup_refusals")
        .await
        .run(async |app| {
            app.sign_in(&service.address, "bob").await?;
            app.click("open-pickup").await?;
            let input = app.by_test_id("pickup-code").await?;
            input.send_keys("5x").await?;
            app.wait_for_text("pickup-error", "Pickup codes are digits only.").await?;
            assert_eq!(input.prop("value").await?.as_deref(), Some("5"));
            input.send_keys("5" + Key::Enter).await?;
            app.wait_for_text(
                "pickup-error",
                "No call is parked with code 55. Check the code and try again.",
            )
            .await?;

            let code = carol.park_a_call_from(&dave, "carol").await;
            alice.phone.retrieve(&code.to_string()).await.expect("alice picks up");
            input.clear().await?;
            input.send_keys(code.to_string() + Key::Enter).await?;
            app.wait_for_text_containing("pickup-error", "Picked up by Alice Moreau").await?;
            app.screenshot("taken").await;
            // Still open, for another try.
            app.by_test_id("pickup-dialog").await?;
            app.click("pickup-cancel").await?;
            app.wait_until_gone("pickup-dialog").await?;
            Ok(())
        })
        .await;
}

const PARK_OFF: &str =
    "Call park is not enabled for you. Ask your admin to assign a call park policy.";
const NEEDS_VOICE: &str =
    "Call park needs enterprise voice, which is not enabled for you. Ask your admin to enable it.";

/// Alice calls `login` in the app, who answers and presses Park: the banner says
/// `refusal` and the call stays connected on both sides.
async fn park_is_refused_and_the_call_stays(
    app: &Desktop,
    alice: &Party,
    login: &str,
    refusal: &str,
) -> WebDriverResult<()> {
    let call = alice.phone.dial(login).await.expect("alice dials");
    app.click("accept-call").await?;
    app.wait_for_text("call-phase", "In call").await?;
    app.click("park").await?;
    app.wait_for_text("banner-text", refusal).await?;
    app.screenshot("refused").await;
    app.wait_for_text("call-phase", "In call").await?;
    let view = alice.wait_for("the call", |view| view.calls.contains_key(&call)).await;
    assert_eq!(view.calls[&call].phase, CallPhase::Connected, "still connected");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn park_off_for_the_user_is_explained_and_the_call_stays_connected() {
    let service = Service::start().await;
    let alice = Party::sign_in(&service, "alice", 550.0).await;
    Desktop::launch("park_not_enabled")
        .await
        .run(async |app| {
            app.sign_in(&service.address, "dave").await?;
            app.wait_for_text("parked-off", PARK_OFF).await?;

            park_is_refused_and_the_call_stays(app, &alice, "dave", PARK_OFF).await
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_enterprise_voice_park_is_explained_until_the_admin_turns_it_on() {
    let service = Service::start().await;
    let admin = service.admin().await;
    let voice = |enabled| UserChanges { enterprise_voice: Some(enabled), ..UserChanges::default() };
    admin.set_user("bob", &voice(false)).await.expect("enterprise voice off for bob");
    let alice = Party::sign_in(&service, "alice", 550.0).await;
    Desktop::launch("not_enterprise_voice")
        .await
        .run(async |app| {
            app.sign_in(&service.address, "bob").await?;
            app.wait_for_text("parked-off", NEEDS_VOICE).await?;

            park_is_refused_and_the_call_stays(app, &alice, "bob", NEEDS_VOICE).await?;

            // Turned on while Bob is in the call: the side panel follows and Park works.
            admin.set_user("bob", &voice(true)).await.expect("enterprise voice on for bob");
            app.wait_until_gone("parked-off").await?;
            app.wait_for_text_containing("parked-policy", "Front desk").await?;
            app.click("park").await?;
            let code = app.by_test_id("park-code").await?.text().await?;
            assert!(code.parse::<u16>().is_ok_and(|code| (10..=99).contains(&code)), "{code:?}");
            Ok(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_free_code_keeps_the_call_connected() {
    let service = Service::start().await;
    let one_code = PolicyFields {
        pickup_range_start: Some(10),
        pickup_range_end: Some(10),
        ..PolicyFields::default()
    };
    service.admin().await.set_policy("Front desk", &one_code).await.expect("one code only");
    let dave = Party::sign_in(&service, "dave", 440.0).await;
    let carol = Party::sign_in(&service, "carol", 660.0).await;
    let alice = Party::sign_in(&service, "alice", 550.0).await;
    Desktop::launch("no_free_code")
        .await
        .run(async |app| {
            app.sign_in(&service.address, "bob").await?;
            assert_eq!(carol.park_a_call_from(&dave, "carol").await, 10);
            alice.phone.dial("bob").await.expect("alice dials bob");
            app.click("accept-call").await?;
            app.wait_for_text_containing("call-peer", "Alice").await?;
            app.click("park").await?;
            app.wait_for_text(
                "banner-text",
                "All pickup codes 10–10 are in use; the call is still connected.",
            )
            .await?;
            app.wait_for_text("call-phase", "In call").await?;
            app.wait_for_text_containing("call-peer", "Alice").await?;
            Ok(())
        })
        .await;
}
