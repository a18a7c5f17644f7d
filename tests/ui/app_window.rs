use crate::support::Desktop;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_opens_on_the_sign_in_screen_with_the_embedded_ui() {
    Desktop::launch("app_window")
        .await
        .run(async |app| {
            let title = app.by_test_id("app-title").await?;
            assert_eq!(title.text().await?, "Callpark");
            // "Ready" comes from a round trip to the Rust backend through a command.
            app.wait_for_text("app-status", "Ready").await?;
            let version = app.by_test_id("app-version").await?;
            assert_eq!(version.text().await?, format!("v{}", env!("CARGO_PKG_VERSION")));
            assert_eq!(app.driver.title().await?, "Callpark");
            let server = app.by_test_id("sign-in-server").await?;
            assert_eq!(server.prop("value").await?.as_deref(), Some("http://127.0.0.1:7300"));
            app.by_test_id("sign-in-submit").await?;
            app.screenshot("sign-in").await;
            Ok(())
        })
        .await;
}
