//! The web app as the service serves it: its page at `/` and at pickup links, its
//! hashed files cached for good, gzip for those that take it, and a
//! Content-Security-Policy that keeps the page to this origin.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use callpark_service::web_app::{CONTENT_SECURITY_POLICY, is_built};
use common::TestServer;
use reqwest::header;

/// The `/assets/...` files named in `text` (the page's tags, the script's URL of
/// its WebAssembly).
fn assets_named_in(text: &str) -> Vec<String> {
    text.match_indices("/assets/")
        .filter_map(|(at, _)| {
            let rest = &text[at..];
            let end = rest.find(['"', '\'', '`', ')', ' ', '>'])?;
            Some(rest[..end].to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_app_is_served_from_the_binary_with_a_strict_policy_and_cache_headers() {
    assert!(
        is_built(),
        "callpark-server was built without the web app: run `cargo xtask setup` (it builds ui/dist-web), then the tests"
    );
    let server = TestServer::start().await;
    let http = reqwest::Client::new();

    let page = http.get(server.http("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache", "a new build's page is seen at once");
    assert_eq!(headers[header::CONTENT_SECURITY_POLICY], CONTENT_SECURITY_POLICY);
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    assert!(headers.get(header::CONTENT_ENCODING).is_none(), "no gzip unless asked for");
    let html = page.text().await.unwrap();
    assert!(html.contains("data-testid=\"sign-in\""), "the app's page");
    for forbidden in ["'unsafe-inline'", "'unsafe-eval'", "*"] {
        assert!(!CONTENT_SECURITY_POLICY.contains(forbidden), "the policy allows {forbidden}");
    }
    assert!(
        !html.contains("<script>") && !html.contains("style=\""),
        "nothing inline the policy would block"
    );

    // A shared pickup link opens the same page (the app reads the code from the address).
    let link = http.get(server.http("/pickup/42")).send().await.unwrap();
    assert_eq!(link.status(), 200);
    assert_eq!(link.text().await.unwrap(), html);

    let mut files = assets_named_in(&html);
    assert!(
        files.iter().any(|f| f.ends_with(".js")) && files.iter().any(|f| f.ends_with(".css")),
        "{files:?}"
    );
    let scripts: Vec<String> = files.iter().filter(|f| f.ends_with(".js")).cloned().collect();
    for script in scripts {
        let text = http.get(server.http(&script)).send().await.unwrap().text().await.unwrap();
        files.extend(assets_named_in(&text));
        // The WebAssembly is found relative to the script (`new URL(…, import.meta.url)`).
        files.extend(text.match_indices(".wasm").filter_map(|(at, _)| {
            let start = text[..at].rfind(['"', '\'', '/'])? + 1;
            Some(format!("/assets/{}.wasm", &text[start..at]))
        }));
    }
    files.sort();
    files.dedup();
    assert!(
        files.iter().any(|f| f.ends_with(".wasm")),
        "the client session's WebAssembly: {files:?}"
    );
    for file in &files {
        let plain = http.get(server.http(file)).send().await.unwrap();
        assert_eq!(plain.status(), 200, "{file}");
        assert_eq!(
            plain.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable",
            "{file}"
        );
        let expected = match file.rsplit('.').next() {
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("wasm") => "application/wasm",
            other => panic!("unexpected asset kind {other:?} in {file}"),
        };
        assert_eq!(plain.headers()[header::CONTENT_TYPE], expected, "{file}");
        let plain_bytes = plain.bytes().await.unwrap();
        let gzip = http
            .get(server.http(file))
            .header(header::ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(gzip.headers()[header::CONTENT_ENCODING], "gzip", "{file}");
        assert_eq!(gzip.headers()[header::VARY], "Accept-Encoding", "{file}");
        let gzip_bytes = gzip.bytes().await.unwrap();
        assert_eq!(gzip_bytes[..2], [0x1f, 0x8b], "{file} is gzip");
        assert!(gzip_bytes.len() < plain_bytes.len(), "{file} is smaller compressed");
    }

    let missing = http.get(server.http("/assets/nothing-here.js")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.headers().contains_key(header::CONTENT_SECURITY_POLICY));
    // The API and the page share the origin; an unknown address outside them is still refused.
    let unknown = http.get(server.http("/no/such/page")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    server.stop().await;
}
