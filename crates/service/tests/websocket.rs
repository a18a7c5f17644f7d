//! The service over real sockets on 127.0.0.1: login, the signaling WebSocket, and
//! a park picked up by a second client.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use callpark_wire::*;
use common::Server;
use serde_json::Value;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_park_and_retrieve_over_websockets() {
    let server = Server::start().await;
    let health = reqwest::get(format!("http://{}/healthz", server.0.base)).await.unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");

    let mut alice = server.connect("alice").await;
    let mut carol = server.connect("carol").await;
    let mut dave = server.connect("dave").await;
    let mut events = Vec::new();

    let ReplyResult::Ok(ReplyBody::Dialing { call }) =
        dave.ask(RequestBody::Dial { to: "alice".into() }, &mut events).await
    else {
        panic!("dial failed")
    };
    assert!(matches!(alice.event().await, Event::IncomingCall { .. }));
    assert!(matches!(
        alice.ask(RequestBody::Answer { call }, &mut events).await,
        ReplyResult::Ok(ReplyBody::Done)
    ));
    let ReplyResult::Ok(ReplyBody::Parked { code, .. }) =
        alice.ask(RequestBody::Park { call }, &mut events).await
    else {
        panic!("park failed")
    };
    let retrieved = carol.ask(RequestBody::Retrieve { code: code.to_string() }, &mut events).await;
    assert!(
        matches!(retrieved, ReplyResult::Ok(ReplyBody::Retrieved { caller, .. }) if caller.name == "Dave")
    );
    assert!(matches!(carol.event().await, Event::Connected { peer, .. } if peer.name == "Dave"));

    // Dave is in the call with Carol, so his retrieve is refused (busy), and his
    // connection lives on.
    let refused = dave.ask(RequestBody::Retrieve { code: code.to_string() }, &mut events).await;
    assert!(matches!(&refused, ReplyResult::Error(e) if e.code == "busy"), "{refused:?}");

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_error_and_the_connection_stays() {
    let server = Server::start().await;
    let wrong = server.login("alice", "not-the-password").await;
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");

    // No token, and a forged token: refused before the upgrade.
    let no_token = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.0.base)).await;
    assert!(
        matches!(no_token, Err(tungstenite::Error::Http(response)) if response.status() == 401)
    );
    let forged =
        tokio_tungstenite::connect_async(format!("ws://{}/ws?ticket=forged", server.0.base)).await;
    assert!(matches!(forged, Err(tungstenite::Error::Http(response)) if response.status() == 401));

    let mut alice = server.open("alice").await;
    let mut events = Vec::new();
    // Before hello only ping is answered; anything else is told to say hello first.
    assert_eq!(alice.ask(RequestBody::Ping, &mut events).await, ReplyResult::Ok(ReplyBody::Pong));
    let early = alice.ask(RequestBody::Park { call: 1 }, &mut events).await;
    assert!(matches!(&early, ReplyResult::Error(e) if e.code == "hello_required"), "{early:?}");
    let old = RequestBody::Hello { protocol: 99, device_name: "old".into(), resume: None };
    let refused = alice.ask(old, &mut events).await;
    assert!(
        matches!(&refused, ReplyResult::Error(e) if e.code == "protocol_unsupported"),
        "{refused:?}"
    );
    let still_early = alice.ask(RequestBody::Park { call: 1 }, &mut events).await;
    assert!(matches!(&still_early, ReplyResult::Error(e) if e.code == "hello_required"));
    let hello =
        RequestBody::Hello { protocol: PROTOCOL_VERSION, device_name: "test".into(), resume: None };
    assert!(matches!(alice.ask(hello, &mut events).await, ReplyResult::Ok(ReplyBody::Welcome(_))));
    let cases = [
        ("{not json".to_owned(), None, "bad_json"),
        (r#"{"type": "ping"}"#.to_owned(), None, "bad_request"),
        (r#"{"id": 5, "type": "teleport"}"#.to_owned(), Some(5), "unknown_type"),
        (r#"{"id": 6, "type": "park"}"#.to_owned(), Some(6), "bad_request"),
        (
            format!(r#"{{"id": 7, "type": "dial", "to": "{}"}}"#, "x".repeat(MAX_FRAME_BYTES)),
            None,
            "frame_too_large",
        ),
    ];
    for (text, id, code) in cases {
        alice.send_text(text).await;
        match alice.receive().await {
            ServerMessage::Reply { id: got, result: ReplyResult::Error(error) } => {
                assert_eq!((got, error.code.as_str()), (id, code));
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    let after = alice.ask(RequestBody::Park { call: 1 }, &mut events).await;
    assert!(
        matches!(&after, ReplyResult::Error(e) if e.code == "call_not_found"),
        "still connected: {after:?}"
    );

    // A frame too large to read at all: a last reply and a close frame that say so.
    alice
        .send_text(format!(r#"{{"id": 8, "type": "dial", "to": "{}"}}"#, "x".repeat(1 << 20)))
        .await;
    match alice.receive().await {
        ServerMessage::Reply { id: None, result: ReplyResult::Error(error) } => {
            assert_eq!(error.code, "frame_too_large");
        }
        other => panic!("expected frame_too_large, got {other:?}"),
    }
    match alice.next_frame().await {
        Some(Ok(tungstenite::Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 1009, "{frame:?}");
            assert_eq!(frame.reason.as_str(), "frame_too_large");
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    server.stop().await;
}

/// Waits for the service to close `client` with the signed-out code; its reason.
async fn closed_as_signed_out(client: &mut common::Client) -> String {
    loop {
        match client.next_frame().await {
            Some(Ok(tungstenite::Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), CLOSE_SIGNED_OUT, "{frame:?}");
                return frame.reason.to_string();
            }
            Some(Ok(tungstenite::Message::Text(_))) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_the_token_everywhere_and_closes_its_connections_with_a_reason() {
    let server = Server::start().await;
    let http = reqwest::Client::new();
    let token = server.token("bob").await;
    let other_token = server.token("bob").await;
    let mut socket = server.open_with(&token).await;
    let mut other_device = server.open_with(&other_token).await;

    let logout = |token: &str| {
        http.post(server.0.http("/api/v1/logout")).bearer_auth(token.to_owned()).send()
    };
    assert_eq!(logout(&token).await.unwrap().status(), 204);
    assert_eq!(closed_as_signed_out(&mut socket).await, "You signed out.");
    // The token is gone for REST and WebSocket alike; signing out twice says so.
    let voicemail = http.get(server.0.http("/api/v1/voicemail")).bearer_auth(&token).send();
    assert_eq!(voicemail.await.unwrap().status(), 401);
    let again = logout(&token).await.unwrap();
    assert_eq!(again.status(), 401);
    let mut request = format!("ws://{}/ws", server.0.base).into_client_request().unwrap();
    request.headers_mut().insert("Authorization", format!("Bearer {token}").parse().unwrap());
    let reconnect = tokio_tungstenite::connect_async(request).await;
    assert!(matches!(reconnect, Err(tungstenite::Error::Http(r)) if r.status() == 401));
    // Bob's other sign-in is untouched.
    let mut events = Vec::new();
    assert_eq!(
        other_device.ask(RequestBody::Ping, &mut events).await,
        ReplyResult::Ok(ReplyBody::Pong)
    );

    // An admin signs Bob out everywhere; then removes Carol, whose socket closes too.
    let admin = server.token("alice").await;
    let revoked = http
        .delete(server.0.http("/api/v1/users/bob/sessions"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    assert!(closed_as_signed_out(&mut other_device).await.contains("An admin signed you out"));
    let mut carol = server.connect("carol").await;
    let removed =
        http.delete(server.0.http("/api/v1/users/carol")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(removed.status(), 204);
    assert_eq!(closed_as_signed_out(&mut carol).await, "Your account was removed.");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_services_own_pages_and_allowed_origins_may_open_the_socket() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let data = common::tenant_data_dir().await;
    let mut config = common::config_for(&data);
    config.allowed_origins = vec!["https://Intranet.Example/".into()];
    let server = Server(common::TestServer::start_with(data, config).await);
    let token = server.token("bob").await;
    let open = |origin: Option<String>| {
        let mut request = format!("ws://{}/ws", server.0.base).into_client_request().unwrap();
        request.headers_mut().insert("Authorization", format!("Bearer {token}").parse().unwrap());
        if let Some(origin) = origin {
            request.headers_mut().insert("Origin", origin.parse().unwrap());
        }
        tokio_tungstenite::connect_async(request)
    };
    assert!(open(None).await.is_ok(), "no Origin: not a browser, let in");
    assert!(open(Some(format!("http://{}", server.0.base))).await.is_ok(), "its own pages");
    assert!(open(Some("https://intranet.example".into())).await.is_ok(), "an allowed origin");
    for foreign in ["http://evil.example", "null", "http://127.0.0.1:1"] {
        match open(Some(foreign.into())).await {
            Err(tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 403, "{foreign}");
                let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                    .to_string();
                assert!(body.contains("origin_not_allowed"), "{foreign}: {body}");
            }
            other => panic!("{foreign}: expected a refusal, got {:?}", other.map(|_| ())),
        }
    }
    // The API: an allowed origin's preflight and requests get CORS headers; any other
    // origin gets none, so its page cannot read a reply.
    let http = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, server.0.http("/api/v1/login"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let allowed = preflight("https://intranet.example").await.unwrap();
    assert!(allowed.status().is_success(), "{allowed:?}");
    let header = |reply: &reqwest::Response, name: &str| {
        reply.headers().get(name).map(|value| value.to_str().unwrap().to_owned())
    };
    assert_eq!(
        header(&allowed, "access-control-allow-origin").as_deref(),
        Some("https://intranet.example")
    );
    assert!(header(&allowed, "access-control-allow-methods").unwrap().contains("POST"));
    let foreign = preflight("http://evil.example").await.unwrap();
    assert_eq!(header(&foreign, "access-control-allow-origin"), None);
    let tickets = http
        .post(server.0.http("/api/v1/ws-ticket"))
        .bearer_auth(&token)
        .header("Origin", "https://intranet.example");
    let reply = tickets.send().await.unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(
        header(&reply, "access-control-allow-origin").as_deref(),
        Some("https://intranet.example")
    );
    server.stop().await;
}

/// The status and error code of a refused upgrade.
fn refused(
    opened: Result<
        (
            tokio_tungstenite::WebSocketStream<
                impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
            >,
            tungstenite::handshake::client::Response,
        ),
        tungstenite::Error,
    >,
) -> (u16, String) {
    match opened {
        Err(tungstenite::Error::Http(response)) => {
            let body: Value = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
            (response.status().as_u16(), body["code"].as_str().unwrap().to_owned())
        }
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("the socket opened"),
    }
}

#[tokio::test]
async fn a_browser_opens_the_socket_with_a_single_use_ticket_never_with_the_token_in_the_url() {
    let server = Server::start().await;
    let http = reqwest::Client::new();
    let token = server.token("bob").await;
    let ticket = |token: String| {
        let request = http.post(server.0.http("/api/v1/ws-ticket")).bearer_auth(token).send();
        async move {
            let reply = request.await.unwrap();
            let status = reply.status().as_u16();
            (status, reply.json::<Value>().await.unwrap())
        }
    };
    let open = |query: String| {
        tokio_tungstenite::connect_async(format!("ws://{}/ws?{query}", server.0.base))
    };

    // The long-lived token in the URL is refused, saying what to do instead.
    let (status, code) = refused(open(format!("token={token}")).await);
    assert_eq!((status, code.as_str()), (400, "token_in_url"));

    // A ticket opens one connection, as Bob; used again, it opens nothing.
    let (status, issued) = ticket(token.clone()).await;
    assert_eq!(status, 200, "{issued}");
    assert_eq!(issued["expires_in_ms"], 30_000);
    let ticket_text = issued["ticket"].as_str().unwrap().to_owned();
    assert!(!ticket_text.contains(&token));
    let (socket, _) = open(format!("ticket={ticket_text}")).await.unwrap();
    let mut bob = common::Client::from_socket(socket);
    let hello =
        RequestBody::Hello { protocol: PROTOCOL_VERSION, device_name: "tab".into(), resume: None };
    let welcome = bob.ask(hello, &mut Vec::new()).await;
    assert!(
        matches!(&welcome, ReplyResult::Ok(ReplyBody::Welcome(w)) if w.user.name == "Bob"),
        "{welcome:?}"
    );
    let (status, code) = refused(open(format!("ticket={ticket_text}")).await);
    assert_eq!((status, code.as_str()), (401, "unauthorized"), "a ticket works once");

    // No ticket without a sign-in; a ticket whose sign-in ended opens nothing, and
    // the connection its ticket opened closes with the sign-out.
    let (status, _) = ticket("forged".into()).await;
    assert_eq!(status, 401);
    let (_, unused) = ticket(token.clone()).await;
    let logout = http.post(server.0.http("/api/v1/logout")).bearer_auth(&token).send();
    assert_eq!(logout.await.unwrap().status(), 204);
    assert_eq!(closed_as_signed_out(&mut bob).await, "You signed out.");
    let unused = unused["ticket"].as_str().unwrap().to_owned();
    let (status, code) = refused(open(format!("ticket={unused}")).await);
    assert_eq!((status, code.as_str()), (401, "unauthorized"));
}
