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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_opens_where_and_as_large_as_it_was_left() {
    let home = tempfile::tempdir().expect("a directory the app keeps between runs");
    // What the app saved when it last quit (the window-state plugin's file).
    let config = home.path().join("config/app.callpark.desktop");
    std::fs::create_dir_all(&config).expect("the app's config directory");
    let left = serde_json::json!({ "main": {
        "x": 140, "y": 90, "width": 820, "height": 600, "prev_x": 140, "prev_y": 90,
        "maximized": false, "visible": true, "decorated": true, "fullscreen": false,
    }});
    std::fs::write(config.join(".window-state.json"), left.to_string()).expect("window state");
    Desktop::launch_at(home.path(), "window_state", &[])
        .await
        .run(async |app| {
            let rect = app.driver.get_window_rect().await?;
            assert_eq!((rect.x, rect.y, rect.width, rect.height), (140, 90, 820, 600));
            Ok(())
        })
        .await;
}
