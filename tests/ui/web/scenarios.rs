//! What a person does in the web app, against a real service and softphones.

use std::time::{Duration, Instant};

use callpark_client::CallPhase;
use callpark_client::audio::Heard;
use callpark_service::hold_music::SIGNATURE_HZ;
use callpark_wire::admin::{PolicyFields, UserChanges};
use thirtyfour::error::WebDriverErrorInner;
use thirtyfour::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Browser;
use super::MICROPHONE_HZ;
use crate::connection::Link;
use crate::parties::{Party, Service, heard_share};

/// The tab's microphone (Chromium's fake device) and the softphones' tones.
const TAB_HZ: f32 = MICROPHONE_HZ;
const DAVE_HZ: f32 = 660.0;
const CAROL_HZ: f32 = 880.0;

/// Polls `check` (a share of time a sound was heard) until it reaches `goal`, for
/// up to ten seconds: the best share seen.
async fn until_heard(
    what: &str,
    goal: f32,
    mut check: impl AsyncFnMut() -> WebDriverResult<f32>,
) -> WebDriverResult<f32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut best = 0.0f32;
    loop {
        let share = check().await?;
        best = best.max(share);
        if share >= goal {
            return Ok(share);
        }
        if Instant::now() >= deadline {
            // An error rather than a panic: the scenario's runner saves a screenshot.
            return Err(WebDriverError::from_inner(WebDriverErrorInner::Timeout(format!(
                "{what}: heard in at most {best:.2} of the time, wanted {goal}"
            ))));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Dave calls Bob, who answers in the tab: the call, once connected at both ends.
async fn dave_answered_in_the_tab(tab: &Browser, dave: &Party) -> WebDriverResult<u64> {
    dave.phone.dial("bob").await.expect("dave dials bob");
    tab.wait_for_text_containing("incoming-caller", "Dave").await?;
    tab.click("accept-call").await?;
    tab.wait_for_text("call-phase", "In call").await?;
    Ok(dave.call_in(CallPhase::Connected).await)
}

/// The tab hears Dave's tone and Dave hears the tab's microphone (`when`, for the
/// failure report).
async fn tab_and_dave_hear_each_other(
    tab: &Browser,
    dave_heard: &Heard,
    when: &str,
) -> WebDriverResult<()> {
    until_heard(&format!("the tab hears Dave {when}"), 0.8, async || {
        tab.hears(DAVE_HZ, 0.5, 1000).await
    })
    .await?;
    until_heard(&format!("Dave hears the tab {when}"), 0.6, async || {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        Ok(heard_share(dave_heard, TAB_HZ, 0.3, Duration::from_secs(1)))
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tab_calls_a_softphone_parks_it_and_another_softphone_picks_it_up() {
    let service = Service::start().await;
    let (dave, dave_heard) = Party::sign_in_hearing(&service, "dave", DAVE_HZ).await;
    let carol = Party::sign_in(&service, "carol", CAROL_HZ).await;
    Browser::open("park_from_the_tab", &service.address)
        .await
        .run(async |tab| {
            // In a browser the service is the page's origin: no address to type.
            let server = tab.driver.find(By::Css("[data-testid='sign-in-server']")).await?;
            assert!(!server.is_displayed().await?, "the server field is hidden in the web app");
            tab.sign_in("bob").await?;
            tab.watch_microphone().await?;
            tab.screenshot("signed-in").await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            assert_eq!(tab.microphone().await?, (0, 0), "no microphone while signed in and idle");

            tab.type_into("dial-input", "dave").await?;
            tab.click("dial-button").await?;
            let call = dave.call_in(CallPhase::Incoming).await;
            dave.phone.answer(call).await.expect("dave answers");
            tab.wait_for_text("call-phase", "In call").await?;
            tab.wait_for_text_containing("call-peer", "Dave").await?;
            assert_eq!(tab.microphone().await?, (1, 1), "the microphone is open in the call");
            let tab_heard = until_heard("the tab hears Dave", 0.8, async || {
                tab.hears(DAVE_HZ, 0.5, 1000).await
            })
            .await?;
            let dave_hears_tab = until_heard("Dave hears the tab's microphone", 0.6, async || {
                tokio::time::sleep(Duration::from_millis(1000)).await;
                Ok(heard_share(&dave_heard, TAB_HZ, 0.3, Duration::from_secs(1)))
            })
            .await?;
            tab.screenshot("in-call").await;

            tab.click("park").await?;
            let code = tab.by_test_id("park-code").await?.text().await?;
            let code: u16 = code.parse().expect("a pickup code");
            assert!((10..=99).contains(&code), "the demo policy's codes are 10–99, got {code}");
            tab.wait_for_text_containing("parked-for", "Dave").await?;
            tab.screenshot("parked").await;
            dave.call_in(CallPhase::OnHold).await;
            until_heard("Dave hears hold music", 0.9, async || {
                tokio::time::sleep(Duration::from_millis(1000)).await;
                Ok(heard_share(&dave_heard, SIGNATURE_HZ, 0.05, Duration::from_secs(1)))
            })
            .await?;
            // Parked, the tab is in no call: its microphone is released.
            let (asked, live) = tab.microphone().await?;
            assert_eq!((asked, live), (1, 0), "the microphone is released once the call is parked");

            let retrieved = carol.phone.retrieve(&code.to_string()).await.expect("carol picks up");
            assert_eq!(retrieved.code, code);
            tab.wait_until_gone("park-code").await?;
            tab.wait_for_text_containing("ended-words", "picked up").await?;
            until_heard("Dave hears Carol", 0.9, async || {
                tokio::time::sleep(Duration::from_millis(1000)).await;
                Ok(heard_share(&dave_heard, CAROL_HZ, 0.5, Duration::from_secs(1)))
            })
            .await?;
            eprintln!("tab heard Dave {tab_heard:.2}; Dave heard the tab {dave_hears_tab:.2}");
            Ok(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tab_parked_by_a_softphone_hears_hold_music_then_the_one_who_picks_up() {
    let service = Service::start().await;
    let carol = Party::sign_in(&service, "carol", CAROL_HZ).await;
    Browser::open("parked_tab", &service.address)
        .await
        .run(async |tab| {
            tab.sign_in("alice").await?;
            carol.phone.dial("alice").await.expect("carol dials alice");
            tab.wait_for_text_containing("incoming-caller", "Carol").await?;
            tab.click("accept-call").await?;
            tab.wait_for_text("call-phase", "In call").await?;
            until_heard("the tab hears Carol", 0.8, async || tab.hears(CAROL_HZ, 0.5, 1000).await)
                .await?;
            let call = carol.call_in(CallPhase::Connected).await;
            let code = carol.phone.park(call).await.expect("carol parks the tab").code;
            tab.wait_for_text("call-phase", "On hold").await?;
            let music = until_heard("the tab hears the hold music's signature", 0.8, async || {
                tab.hears(SIGNATURE_HZ, 0.05, 1500).await
            })
            .await?;
            assert!(tab.hears(CAROL_HZ, 0.5, 500).await? < 0.1, "the parker is no longer heard");
            tab.screenshot("on-hold").await;

            let bob = Party::sign_in(&service, "bob", 330.0).await;
            bob.phone.retrieve(&code.to_string()).await.expect("bob picks up");
            tab.wait_for_text("call-phase", "In call").await?;
            tab.wait_for_text_containing("call-peer", "Bob").await?;
            until_heard("the tab hears Bob", 0.8, async || tab.hears(330.0, 0.5, 1000).await)
                .await?;
            assert!(tab.hears(SIGNATURE_HZ, 0.05, 1000).await? < 0.2, "the hold music stopped");
            eprintln!("hold music signature in {music:.2} of the looks");
            Ok(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tab_picks_up_from_the_list_by_code_and_from_a_shared_link() {
    let service = Service::start().await;
    let dave = Party::sign_in(&service, "dave", DAVE_HZ).await;
    let carol = Party::sign_in(&service, "carol", CAROL_HZ).await;
    let alice = Party::sign_in(&service, "alice", 770.0).await;
    Browser::open("pickup_in_the_tab", &service.address)
        .await
        .run(async |tab| {
            tab.sign_in("bob").await?;

            // One click in the live list.
            let first = carol.park_a_call_from(&dave, "carol").await;
            tab.click(&format!("pickup-{first}")).await?;
            tab.wait_for_text("call-phase", "In call").await?;
            tab.wait_for_text_containing("call-peer", "Dave").await?;
            until_heard("the tab hears Dave", 0.8, async || tab.hears(DAVE_HZ, 0.5, 1000).await)
                .await?;
            tab.click("hang-up").await?;
            tab.wait_until_gone("call-phase").await?;

            // By code, typed into Pick up.
            let second = carol.park_a_call_from(&alice, "carol").await;
            tab.click("open-pickup").await?;
            tab.type_into("pickup-code", &second.to_string()).await?;
            tab.click("pickup-submit").await?;
            tab.wait_for_text_containing("call-peer", "Alice").await?;
            until_heard("the tab hears Alice", 0.8, async || tab.hears(770.0, 0.5, 1000).await)
                .await?;
            tab.click("hang-up").await?;
            tab.wait_until_gone("call-phase").await?;

            // A shared link: the page opens (still signed in, in this tab) with the
            // code in Pick up.
            let third = carol.park_a_call_from(&dave, "carol").await;
            tab.driver.goto(format!("{}/pickup/{third}", service.address)).await?;
            tab.wait_for_text("connection-status", "Online").await?;
            let field = tab.by_test_id("pickup-code").await?;
            field.wait_until().has_value(third.to_string()).await?;
            assert_eq!(
                tab.driver.current_url().await?.path(),
                "/",
                "the link is taken off the address bar"
            );
            tab.screenshot("pickup-link").await;
            tab.click("pickup-submit").await?;
            tab.wait_for_text_containing("call-peer", "Dave").await?;
            Ok(())
        })
        .await;
}

/// Stands in for the system's notification centre: records what the page shows.
const RECORD_NOTIFICATIONS: &str = r#"
    window.__notifications = [];
    window.Notification = class {
        static permission = "granted";
        static requestPermission() { return Promise.resolve("granted"); }
        constructor(title, options) { window.__notifications.push([title, options?.body ?? ""]); }
    };
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_park_rings_back_in_the_tab_and_is_answered_there() {
    // Test clock ×20: the shortest park timeout (120 s) is 6 s.
    let service = Service::with_clock_speedup(20).await;
    let admin = service.admin().await;
    let shortest = PolicyFields { park_timeout_seconds: Some(120), ..PolicyFields::default() };
    admin.set_policy("Front desk", &shortest).await.expect("shortest timeout");
    let longest_ring = UserChanges { unanswered_delay_seconds: Some(60), ..UserChanges::default() };
    admin.set_user("bob", &longest_ring).await.expect("longest ringing");
    let dave = Party::sign_in(&service, "dave", DAVE_HZ).await;
    Browser::open("ringback_in_the_tab", &service.address)
        .await
        .run(async |tab| {
            tab.sign_in("bob").await?;
            tab.driver.execute(RECORD_NOTIFICATIONS, Vec::new()).await?;
            dave_answered_in_the_tab(tab, &dave).await?;
            tab.wait_for_text_containing("call-peer", "Dave").await?;
            tab.click("park").await?;
            let code = tab.by_test_id("park-code").await?.text().await?;
            tab.wait_for_text("ringback-caller", "Dave Park-less is still waiting").await?;
            tab.wait_for_text("ringback-code", &code).await?;
            tab.screenshot("ringing-back").await;
            let shown: Vec<(String, String)> = tab
                .driver
                .execute("return window.__notifications;", Vec::new())
                .await?
                .convert()?;
            assert!(
                shown.contains(&(
                    "Call from Dave Park-less".into(),
                    "Open Callpark to answer.".into()
                )),
                "{shown:?}"
            );
            let ringback = (
                "Dave Park-less is still waiting".to_owned(),
                format!("Nobody picked up code {code}. Answer to take the call back."),
            );
            assert!(shown.contains(&ringback), "{shown:?}");
            tab.click("answer-ringback").await?;
            tab.wait_for_text("call-phase", "In call").await?;
            tab.wait_for_text_containing("call-peer", "Dave").await?;
            tab.wait_until_gone("park-code").await?;
            until_heard("the tab hears Dave again", 0.8, async || {
                tab.hears(DAVE_HZ, 0.5, 1000).await
            })
            .await?;
            Ok(())
        })
        .await;
}

/// A page of another origin, served on its own port.
async fn foreign_page() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let address = listener.local_addr().expect("its address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                let page = "<!doctype html><title>Another site</title><p>Not Callpark.</p>";
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                    page.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
            });
        }
    });
    format!("http://{address}/")
}

/// A ticket for `/ws`, as the web app gets one: signed in as `login`.
async fn ticket(service: &Service, login: &str) -> String {
    let address = callpark_client::ServiceAddress::parse(&service.address).expect("address");
    let token = callpark_client::login(&address, login, &format!("{login}-demo"))
        .await
        .expect("login")
        .token;
    let host = service.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&host).await.expect("the service");
    let request = format!(
        "POST /api/v1/ws-ticket HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("the request");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.expect("the reply");
    let body = reply.split("\r\n\r\n").nth(1).expect("a body");
    let json: serde_json::Value = serde_json::from_str(body).expect("JSON");
    json["ticket"].as_str().expect("a ticket").to_owned()
}

const FROM_ANOTHER_ORIGIN: &str = r#"
    const [service, ticket, done] = arguments;
    const outcome = {};
    try {
        const reply = await fetch(service + "/api/v1/login", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ login: "bob", password: "bob-demo" }),
        });
        outcome.login = "read " + reply.status;
    } catch (error) {
        outcome.login = "blocked";
    }
    const socket = new WebSocket(service.replace("http:", "ws:") + "/ws?ticket=" + encodeURIComponent(ticket));
    socket.onopen = () => { outcome.socket = "open"; socket.close(); done(outcome); };
    socket.onclose = () => { outcome.socket ??= "refused"; done(outcome); };
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_from_another_origin_can_neither_sign_in_nor_open_the_socket() {
    let service = Service::start().await;
    let elsewhere = foreign_page().await;
    Browser::open("another_origin", &elsewhere)
        .await
        .run(async |tab| {
            // A valid ticket, even: the origin is what is refused.
            let ticket = ticket(&service, "bob").await;
            let outcome: serde_json::Value = tab
                .driver
                .execute_async(
                    FROM_ANOTHER_ORIGIN,
                    vec![service.address.clone().into(), ticket.into()],
                )
                .await?
                .json()
                .clone();
            assert_eq!(outcome["login"], "blocked", "{outcome}");
            assert_eq!(outcome["socket"], "refused", "{outcome}");
            Ok(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_in_the_tab_stays_through_a_lost_connection_and_its_audio_goes_on() {
    let service = Service::start().await;
    let (listen, upstream, link) = Link::to(&service).await;
    let (dave, dave_heard) = Party::sign_in_hearing(&service, "dave", DAVE_HZ).await;
    Browser::open("tab_through_a_drop", &format!("http://{listen}/"))
        .await
        .run(async |tab| {
            tab.sign_in("bob").await?;
            let call = dave_answered_in_the_tab(tab, &dave).await?;
            tab_and_dave_hear_each_other(tab, &dave_heard, "before the drop").await?;

            drop(link);
            tab.wait_for_text_containing("connection-status", "Connection lost — reconnecting")
                .await?;
            // The call stays on screen, with whom, saying it is reconnecting; Dave
            // hears that Bob is reconnecting, not that the call ended.
            tab.wait_for_text("call-phase", "Reconnecting…").await?;
            tab.wait_for_text_containing("call-peer", "Dave").await?;
            dave.wait_for("dave to hear bob is reconnecting", |view| {
                view.calls.get(&call).is_some_and(|c| c.peer_reconnecting)
            })
            .await;
            tab.screenshot("reconnecting").await;
            let _back = Link::up(listen, upstream).await;
            tab.wait_for_text("connection-status", "Online").await?;
            tab.wait_for_text("call-phase", "In call").await?;
            tab.wait_for_text_containing("call-peer", "Dave").await?;
            // Both ways (the tab offers a new peer connection after the welcome; the
            // service drops the old one when the device resumes).
            tab_and_dave_hear_each_other(tab, &dave_heard, "after the drop").await?;
            tab.click("hang-up").await?;
            dave.wait_for("the hang-up to reach Dave", |view| !view.calls.contains_key(&call))
                .await;
            Ok(())
        })
        .await;
}

/// Whether the page is playing sound it made itself (a voicemail, the test tone).
const PLAYING: &str = r#"
    const player = document.querySelector('[data-testid="playback-audio"]');
    return player !== null && !player.paused && player.currentTime > 0;
"#;

/// Waits (up to two seconds) until the page's own player has started: `play()`
/// resolves before the first samples have played.
async fn playing_soon(tab: &Browser, what: &str) -> WebDriverResult<()> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let playing: bool = tab.driver.execute(PLAYING, Vec::new()).await?.convert()?;
        if playing {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(WebDriverError::from_inner(WebDriverErrorInner::Timeout(format!(
                "{what} did not start playing within 2 s"
            ))));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voicemail_appears_and_plays_in_the_tab_and_settings_list_the_browsers_devices() {
    let service = Service::start().await;
    let dave = Party::sign_in(&service, "dave", DAVE_HZ).await;
    Browser::open("voicemail_and_settings_in_the_tab", &service.address)
        .await
        .run(async |tab| {
            tab.sign_in("bob").await?;
            tab.driver.execute(RECORD_NOTIFICATIONS, Vec::new()).await?;
            tab.by_test_id("voicemail-empty").await?;
            let call = dave.phone.dial("bob").await.expect("dave dials bob");
            tab.wait_for_text_containing("incoming-caller", "Dave").await?;
            tab.click("decline-call").await?;
            dave.call_in(CallPhase::Voicemail).await;
            // The greeting and beep, then a moment of Dave's tone on the recording.
            tokio::time::sleep(Duration::from_millis(3_000)).await;
            dave.phone.hang_up(call).await.expect("dave hangs up");

            let entry = tab
                .driver
                .query(By::Css("[data-testid^=\"voicemail-\"]"))
                .with_text(thirtyfour::stringmatch::StringMatch::new("Dave Park-less").partial())
                .wait(crate::page::UI_TIMEOUT, crate::page::POLL)
                .first()
                .await?;
            let shown: Vec<(String, String)> = tab
                .driver
                .execute("return window.__notifications;", Vec::new())
                .await?
                .convert()?;
            assert!(
                shown.iter().any(|(title, body)| title == "New voicemail"
                    && body.starts_with("Dave Park-less left a ")),
                "{shown:?}"
            );
            // The message is fetched with the sign-in's token and played from a blob,
            // which the page's Content-Security-Policy allows (and nothing else).
            let play = entry.find(By::Css("[data-testid^=\"play-voicemail-\"]")).await?;
            let play_id = play.attr("data-testid").await?.expect("a test id");
            play.click().await?;
            tab.wait_for_text(&play_id, "Stop").await?;
            playing_soon(tab, "the voicemail").await?;
            tab.screenshot("voicemail-playing").await;
            play.click().await?;
            tab.wait_for_text(&play_id, "Play").await?;

            tab.click("open-settings").await?;
            // System default, then the browser's (fake) microphone, once listed.
            tab.driver
                .query(By::Css("[data-testid=\"microphone-select\"] option:nth-child(2)"))
                .wait(crate::page::UI_TIMEOUT, crate::page::POLL)
                .first()
                .await?;
            let speakers = tab.by_test_id("speaker-select").await?;
            let outputs = speakers.find_all(By::Tag("option")).await?;
            let chosen = match outputs.get(1) {
                Some(option) => {
                    let value = option.value().await?.unwrap_or_default();
                    option.click().await?;
                    Some(value)
                }
                None => None,
            };
            tab.click("test-tone").await?;
            tab.wait_for_text("test-tone", "Playing…").await?;
            playing_soon(tab, "the test tone").await?;
            tab.screenshot("settings").await;
            tab.click("settings-close").await?;
            tab.wait_until_gone("settings-dialog").await?;
            let error = tab.driver.find(By::Css("[data-testid=\"settings-error\"]")).await?;
            assert!(!error.is_displayed().await?, "{}", error.text().await?);
            if let Some(chosen) = chosen {
                // Remembered, for this tab and the next.
                tab.click("open-settings").await?;
                tab.driver
                    .query(By::Css("[data-testid=\"speaker-select\"]"))
                    .with_filter(move |select: WebElement| {
                        let chosen = chosen.clone();
                        async move {
                            Ok(select.prop("value").await?.as_deref() == Some(chosen.as_str()))
                        }
                    })
                    .wait(crate::page::UI_TIMEOUT, crate::page::POLL)
                    .first()
                    .await?;
            }
            Ok(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_in_a_call_comes_back_to_the_same_call() {
    let service = Service::start().await;
    let (dave, dave_heard) = Party::sign_in_hearing(&service, "dave", DAVE_HZ).await;
    Browser::open("reload_in_a_call", &service.address)
        .await
        .run(async |tab| {
            tab.sign_in("bob").await?;
            let call = dave_answered_in_the_tab(tab, &dave).await?;

            // The tab keeps its sign-in and its device's resume token through a
            // reload: it comes back as the same device, and the call with it.
            tab.driver.refresh().await?;
            tab.wait_for_text("connection-status", "Online").await?;
            tab.wait_for_text("call-phase", "In call").await?;
            tab.wait_for_text_containing("call-peer", "Dave").await?;
            tab_and_dave_hear_each_other(tab, &dave_heard, "after the reload").await?;
            let view = dave
                .wait_for("the call still connected", |view| {
                    view.calls
                        .get(&call)
                        .is_some_and(|c| c.phase == CallPhase::Connected && !c.peer_reconnecting)
                })
                .await;
            assert_eq!(view.calls.len(), 1, "the same call, not a new one: {:?}", view.calls);
            Ok(())
        })
        .await;
}
