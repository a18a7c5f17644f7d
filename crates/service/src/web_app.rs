//! The web app, served from the binary: `/` and `/pickup/<code>` give its page,
//! `/assets/...` its scripts, styles and WebAssembly (content-hashed names, cached
//! for a year). Every page comes with a Content-Security-Policy that lets it load
//! only this origin's files and talk only to this origin (the API and `/ws`).

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

/// One file of the web app, as built into the binary.
#[derive(Debug)]
pub(crate) struct Asset {
    pub path: &'static str,
    pub body: &'static [u8],
    pub gzip: &'static [u8],
}

static ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// Scripts only from this origin (and its WebAssembly compiled), no inline code,
/// no plugins, no framing; connections (fetch, WebSocket) only to this origin;
/// sound from the service's WebRTC and from blobs the page made (voicemail).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; \
     manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const INDEX: &str = "/index.html";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/index.html", get(page))
        .route("/pickup/{code}", get(pickup_page))
        .route("/assets/{*file}", get(asset))
}

/// Whether this binary carries the web app (a build without ui/dist-web does not).
pub fn is_built() -> bool {
    find(INDEX).is_some()
}

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.path == path)
}

async fn page(headers: HeaderMap) -> Response {
    serve(INDEX, &headers)
}

/// A shared pickup link opens the app, which reads the code from the address.
async fn pickup_page(Path(_code): Path<String>, headers: HeaderMap) -> Response {
    serve(INDEX, &headers)
}

async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    serve(&format!("/assets/{file}"), &headers)
}

fn serve(path: &str, request: &HeaderMap) -> Response {
    let Some(asset) = find(path) else {
        return not_there(path);
    };
    let gzip = accepts_gzip(request);
    let body = if gzip { asset.gzip } else { asset.body };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    // Hashed names never change their content; the page must be asked for each time
    // so that a new build's assets are found.
    let cache = if path == INDEX { "no-cache" } else { "public, max-age=31536000, immutable" };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    secure(headers);
    response
}

fn secure(headers: &mut HeaderMap) {
    headers
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

fn not_there(path: &str) -> Response {
    let (status, words) = if path == INDEX {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "This callpark-server was built without the web app. Build it with `cargo xtask \
             setup` (it writes ui/dist-web), then build callpark-server again.",
        )
    } else {
        (StatusCode::NOT_FOUND, "There is no such file in the web app.")
    };
    let mut response = (status, words).into_response();
    secure(response.headers_mut());
    response
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().any(|value| {
        value.to_str().is_ok_and(|value| {
            value.split(',').any(|coding| {
                let mut parts = coding.split(';');
                let name = parts.next().unwrap_or_default().trim();
                let refused =
                    parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
                (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
            })
        })
    })
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_sent_only_to_those_that_take_it() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
            accepts_gzip(&headers)
        };
        assert!(with("gzip, deflate, br"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(with("*"));
        assert!(!with("br"));
        assert!(!with("gzip;q=0"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn webassembly_goes_out_as_webassembly() {
        assert_eq!(content_type("/assets/callpark_web_bg-1.wasm"), "application/wasm");
        assert_eq!(content_type("/index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("/assets/x"), "application/octet-stream");
    }
}
