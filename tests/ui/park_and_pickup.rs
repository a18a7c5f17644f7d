//! Park from the app, pick up in the app, the caller parked in the app, and the live
//! parked-calls list.

use callpark_client::CallPhase;
use thirtyfour::prelude::*;

use crate::parties::{Party, Service};
use crate::support::Desktop;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incoming_call_is_answered_parked_and_picked_up_by_a_headless_client() {
    let service = Service::start().await;
    let dave = Party::sign_in(&service, "dave", 440.0).await;
    let carol = Party::sign_in(&service, "carol", 660.0).await;
    Desktop::launch("park_from_the_app")
        .await
        .run(async |app| {
            app.sign_in(&service.address, "bob").await?;
            let call = dave.phone.dial("bob").await.expect("dave dials bob");
            app.wait_for_text_containing("incoming-caller", "Dave").await?;
            app.screenshot("incoming").await;
            app.click("accept-call").await?;
            app.wait_for_text("call-phase", "In call").await?;
            app.wait_for_text_containing("call-peer", "Dave").await?;
            dave.wait_for("bob to answer", |view| {
                view.calls.get(&call).is_some_and(|c| c.phase == CallPhase::Connected)
            })
            .await;

            app.click("park").await?;
            let code: u16 =
                app.by_test_id("park-code").await?.text().await?.parse().expect("a code");
            assert!((10..=99).contains(&code), "the demo policy's codes are 10–99, got {code}");
            app.wait_for_text_containing("parked-for", "Dave").await?;
            app.wait_for_text_containing("ringback-countdown", "Rings back in").await?;
            app.click(&format!("copy-code-{code}")).await?;
            app.wait_for_text(&format!("copy-code-{code}"), "Copied").await?;
            assert_eq!(pasted_into_the_dial_box(app).await?, code.to_string());
            // The confirmation is a moment, not a new label: the button offers to copy again.
            app.wait_for_text(&format!("copy-code-{code}"), "Copy").await?;
            app.click(&format!("copy-link-{code}")).await?;
            app.wait_for_text(&format!("copy-link-{code}"), "Link copied").await?;
            assert_eq!(pasted_into_the_dial_box(app).await?, format!("callpark://pickup/{code}"));
            // The link pasted into Pick up gives the code, with no complaint.
            app.click("open-pickup").await?;
            let field = app.by_test_id("pickup-code").await?;
            field.send_keys(Key::Control + "v").await?;
            field.wait_until().has_value(code.to_string()).await?;
            let error = app.driver.find(By::Css("[data-testid='pickup-error']")).await?;
            assert!(!error.is_displayed().await?, "{}", error.text().await?);
            app.click("pickup-cancel").await?;
            app.screenshot("parked").await;
            app.by_test_id("idle").await?; // the call view is gone, the dial box is back
            dave.wait_for("dave to be on hold", |view| {
                view.calls.get(&call).is_some_and(|c| c.phase == CallPhase::OnHold)
            })
            .await;

            let retrieved = carol.phone.retrieve(&code.to_string()).await.expect("carol picks up");
            assert_eq!(retrieved.caller.name, "Dave Park-less");
            app.wait_until_gone("park-code").await?;
            // How the park ended stays on screen until dismissed, on any of Bob's
            // devices: his second device has it too, and loses it when the app
            // dismisses it.
            let said = format!("Carol Lindqvist picked up Dave Park-less (code {code}).");
            app.wait_for_text("ended-words", &said).await?;
            app.screenshot("park-ended").await;
            let bob_elsewhere = Party::sign_in(&service, "bob", 330.0).await;
            bob_elsewhere
                .wait_for("bob's other device to list the outcome", |view| {
                    view.ended_parks.contains_key(&call)
                })
                .await;
            app.click(&format!("dismiss-ended-{call}")).await?;
            app.wait_until_gone("ended-parks").await?;
            bob_elsewhere
                .wait_for("bob's other device to drop the outcome", |view| {
                    view.ended_parks.is_empty()
                })
                .await;
            Ok(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_picks_up_a_code_parked_by_a_headless_client_and_audio_flows() {
    let service = Service::start().await;
    let dave = Party::sign_in(&service, "dave", 440.0).await;
    let carol = Party::sign_in(&service, "carol", 660.0).await;
    Desktop::launch("pickup_in_the_app")
        .await
        .run(async |app| {
            app.sign_in(&service.address, "bob").await?;
            // Signed in with nothing to count: once settled, the page stays still (it
            // used to re-render every second, waking the app for nothing).
            let mut quiet = false;
            for _ in 0..6 {
                if app.page_changes_within(2_000).await? == 0 {
                    quiet = true;
                    break;
                }
            }
            assert!(quiet, "the idle page kept changing for 12 s");
            let code = carol.park_a_call_from(&dave, "carol").await;
            // Signed in and idle: the microphone is closed, and the app says nothing of it.
            for indicator in ["mic-live", "header-mic-live"] {
                let shown =
                    app.driver.find(By::Css(format!("[data-testid='{indicator}']"))).await?;
                assert!(!shown.is_displayed().await?, "{indicator} shown while idle");
            }

            app.click("open-pickup").await?;
            let input = app.by_test_id("pickup-code").await?;
            app.screenshot("dialog").await;
            input.send_keys(code.to_string() + Key::Enter).await?;
            app.wait_for_text("call-phase", "In call").await?;
            app.wait_for_text_containing("call-peer", "Dave").await?;
            app.wait_until_gone("pickup-dialog").await?;
            app.wait_for_text("mic-live", "Microphone on").await?;
            app.wait_for_text("header-mic-live", "Microphone on").await?;
            app.screenshot("pickup-connected").await;
            // In a call the clock ticks: its duration moves on within two seconds.
            let shown = app.by_test_id("call-duration").await?.text().await?;
            app.wait_for_text_where("call-duration", move |now| now != shown).await?;
            // Dave's tone arrives: the call's statistics count received packets.
            app.wait_for_text_where("stats-received", |text| {
                text.parse::<u64>().is_ok_and(|packets| packets >= 50)
            })
            .await?;
            app.screenshot("in-call").await;
            app.click("mute").await?;
            app.wait_for_text("mute", "Unmute").await?;
            app.wait_for_text("mic-live", "Microphone on, muted").await?;
            let mute = app.by_test_id("mute").await?;
            assert_eq!(mute.attr("aria-pressed").await?.as_deref(), Some("true"));
            dave.wait_for("dave to be connected with bob", |view| {
                view.calls.values().any(|c| {
                    c.phase == CallPhase::Connected
                        && c.peer.as_ref().is_some_and(|p| p.name.starts_with("Bob"))
                })
            })
            .await;
            app.click("hang-up").await?;
            app.by_test_id("idle").await?;
            app.wait_until_gone("header-mic-live").await?;
            app.wait_until_gone("mic-live").await?;
            Ok(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_parked_list_follows_parks_live_and_picks_up_with_one_click() {
    let service = Service::start().await;
    let dave = Party::sign_in(&service, "dave", 440.0).await;
    let carol = Party::sign_in(&service, "carol", 660.0).await;
    let alice = Party::sign_in(&service, "alice", 550.0).await;
    Desktop::launch("parked_list")
        .await
        .run(async |app| {
            app.sign_in(&service.address, "bob").await?;
            app.by_test_id("parked-empty").await?;

            let first = carol.park_a_call_from(&dave, "carol").await;
            let row = app.by_test_id(&format!("parked-row-{first}")).await?;
            let text = row.text().await?;
            app.screenshot("list").await;
            assert!(text.contains("Dave Park-less") && text.contains("Carol Lindqvist"), "{text}");

            alice.phone.retrieve(&first.to_string()).await.expect("alice picks up");
            app.wait_until_gone(&format!("parked-row-{first}")).await?;
            app.by_test_id("parked-empty").await?;

            // Alice parks it again; Bob picks it up from the list.
            let again = alice.call_in(CallPhase::Connected).await;
            let second = alice.phone.park(again).await.expect("alice parks").code;
            app.click(&format!("pickup-{second}")).await?;
            app.wait_for_text_containing("call-peer", "Dave").await?;
            app.wait_until_gone(&format!("parked-row-{second}")).await?;
            Ok(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pickup_link_opens_the_pickup_dialog_with_its_code() {
    let service = Service::start().await;
    Desktop::launch_with_args("pickup_link", &["callpark://pickup/42"])
        .await
        .run(async |app| {
            app.sign_in(&service.address, "bob").await?;
            let input = app.by_test_id("pickup-code").await?;
            assert_eq!(input.prop("value").await?.as_deref(), Some("42"));
            input.send_keys(Key::Enter).await?;
            app.wait_for_text(
                "pickup-error",
                "No call is parked with code 42. Check the code and try again.",
            )
            .await?;
            Ok(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_clicked_while_the_app_runs_opens_its_pickup_dialog_there() {
    let service = Service::start().await;
    Desktop::launch("pickup_link_running")
        .await
        .run(async |app| {
            app.sign_in(&service.address, "bob").await?;
            // What the desktop does for a clicked callpark:// link: start the app again.
            let second = app.start_second_copy(&["callpark://pickup/57"]).await;
            assert!(second.success(), "the second copy handed the link over and exited: {second}");
            let input = app.by_test_id("pickup-code").await?;
            assert_eq!(input.prop("value").await?.as_deref(), Some("57"));
            Ok(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_in_the_app_is_told_of_the_hold_and_of_who_picked_up() {
    let service = Service::start().await;
    let bob = Party::sign_in(&service, "bob", 440.0).await;
    let carol = Party::sign_in(&service, "carol", 660.0).await;
    Desktop::launch("parked_caller")
        .await
        .run(async |app| {
            app.sign_in(&service.address, "dave").await?;
            app.type_into("dial-input", "bob").await?;
            app.click("dial-button").await?;
            let call = bob.call_in(CallPhase::Incoming).await;
            bob.phone.answer(call).await.expect("bob answers");
            app.wait_for_text("call-phase", "In call").await?;
            app.wait_for_text_containing("call-peer", "Bob").await?;

            let code = bob.phone.park(call).await.expect("bob parks dave").code;
            app.wait_for_text("call-phase", "On hold").await?;
            app.wait_for_text("call-peer", "Parked by Bob Okafor").await?;
            assert!(!app.by_test_id("park").await?.is_enabled().await?, "nothing to park on hold");
            app.screenshot("on-hold").await;

            carol.phone.retrieve(&code.to_string()).await.expect("carol picks up");
            app.wait_for_text("call-phase", "In call").await?;
            app.wait_for_text("call-peer", "Carol Lindqvist").await?;
            assert!(app.by_test_id("park").await?.is_enabled().await?);
            Ok(())
        })
        .await;
}

/// What the clipboard holds, as a person would see it: pasted (Ctrl+V) into the
/// dial box, which is then emptied again.
async fn pasted_into_the_dial_box(app: &Desktop) -> WebDriverResult<String> {
    let dial = app.by_test_id("dial-input").await?;
    dial.clear().await?;
    dial.send_keys(Key::Control + "v").await?;
    let pasted = dial.prop("value").await?.unwrap_or_default();
    dial.clear().await?;
    Ok(pasted)
}
