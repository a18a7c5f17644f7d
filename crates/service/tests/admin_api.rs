//! The admin REST API over real sockets and a real SQLite store: every refusal is a
//! clear `{code, message, field}` that changes nothing, and every change survives a
//! restart.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{Server, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Admin {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Admin {
    async fn new(server: &Server, login: &str) -> Admin {
        Admin {
            http: reqwest::Client::new(),
            base: format!("http://{}", server.0.base),
            token: server.token(login).await,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request =
            self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let value =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
        (status, value)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }
}

fn assert_refused(reply: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(reply.0, status, "{}", reply.1);
    assert_eq!(reply.1["code"], code, "{}", reply.1);
    assert!(!reply.1["message"].as_str().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_follow_the_cmdlets_and_refuse_bad_values_naming_the_range() {
    let server = Server::start().await;
    let admin = Admin::new(&server, "alice").await;

    let created = admin
        .call(
            Method::POST,
            "/api/v1/policies",
            Some(json!({"identity": "Front desk", "allow_call_park": true})),
        )
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    assert_eq!(created.1["identity"], "Tag:Front desk");
    assert_eq!(
        (
            &created.1["pickup_range_start"],
            &created.1["pickup_range_end"],
            &created.1["park_timeout_seconds"]
        ),
        (&json!(10), &json!(99), &json!(300)),
        "unset fields take the defaults"
    );
    let duplicate =
        admin.call(Method::POST, "/api/v1/policies", Some(json!({"identity": "front DESK"}))).await;
    assert_refused(&duplicate, StatusCode::CONFLICT, "policy_exists");

    // Out-of-range values: 400 naming the field, the value and the allowed range; the
    // policy is as it was.
    for (field, value, allowed) in [
        ("pickup_range_start", json!(5), "between 10 and 9999"),
        ("pickup_range_end", json!(10000), "between 10 and 9999"),
        ("park_timeout_seconds", json!(60), "between 120 and 1800"),
        ("park_timeout_seconds", json!(-1), "between 120 and 1800"),
    ] {
        let reply = admin
            .call(Method::PATCH, "/api/v1/policies/Front%20desk", Some(json!({ field: value })))
            .await;
        assert_refused(&reply, StatusCode::BAD_REQUEST, "policy_invalid");
        let message = reply.1["message"].as_str().unwrap();
        assert!(message.contains(&value.to_string()) && message.contains(allowed), "{message}");
        assert!(reply.1["field"].as_str().is_some(), "{}", reply.1);
    }
    let reversed = admin
        .call(
            Method::PATCH,
            "/api/v1/policies/Tag:Front%20desk",
            Some(json!({"pickup_range_start": 500, "pickup_range_end": 400})),
        )
        .await;
    assert_refused(&reversed, StatusCode::BAD_REQUEST, "policy_invalid");
    let unchanged = admin.get("/api/v1/policies/Front%20desk").await;
    assert_eq!(unchanged.1["pickup_range_start"], 10);
    assert_eq!(unchanged.1["park_timeout_seconds"], 300);

    // Set is partial.
    let set = admin
        .call(
            Method::PATCH,
            "/api/v1/policies/Front%20desk",
            Some(json!({"pickup_range_start": 100, "pickup_range_end": 199})),
        )
        .await;
    assert_eq!(set.0, StatusCode::OK, "{}", set.1);
    assert_eq!(
        (set.1["pickup_range_start"].clone(), set.1["allow_call_park"].clone()),
        (json!(100), json!(true))
    );

    // Get: all, one, filtered; unknown.
    let all = admin.get("/api/v1/policies").await.1;
    let names: Vec<&str> =
        all.as_array().unwrap().iter().map(|p| p["identity"].as_str().unwrap()).collect();
    assert_eq!(names, ["Global", "Tag:Sales", "Tag:Front desk"]);
    let filtered = admin.get("/api/v1/policies?filter=Tag:F*").await.1;
    assert_eq!(filtered.as_array().unwrap().len(), 1);
    assert_refused(
        &admin.get("/api/v1/policies/Nope").await,
        StatusCode::NOT_FOUND,
        "policy_not_found",
    );
    let bad_json = admin
        .http
        .post(format!("{}/api/v1/policies", admin.base))
        .bearer_auth(&admin.token)
        .header("content-type", "application/json")
        .body("{\"identity\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_json.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad_json.json::<Value>().await.unwrap()["code"], "bad_json");

    // Remove: Global never, by any of its names; a granted policy only with force.
    for global in ["Global", "Tag:Global", "tag:global"] {
        assert_refused(
            &admin.call(Method::DELETE, &format!("/api/v1/policies/{global}"), None).await,
            StatusCode::CONFLICT,
            "policy_protected",
        );
    }
    let in_use = admin.call(Method::DELETE, "/api/v1/policies/Sales", None).await;
    assert_refused(&in_use, StatusCode::CONFLICT, "policy_in_use");
    assert!(in_use.1["message"].as_str().unwrap().contains("2 user(s)"), "{}", in_use.1);
    let forced = admin.call(Method::DELETE, "/api/v1/policies/Sales?force=true", None).await;
    assert_eq!(forced.0, StatusCode::NO_CONTENT);
    let carol = admin.get("/api/v1/users/carol").await.1;
    assert_eq!(carol["effective_policy"], json!({"policy": "Global", "source": "tenant_default"}));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_groups_and_grants_with_rank_and_only_admins_may_administer() {
    let server = Server::start().await;
    let admin = Admin::new(&server, "alice").await;

    // Not signed in, and signed in but not an admin.
    let anonymous = reqwest::get(server.0.http("/api/v1/policies")).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // The authentication scheme is case-insensitive (RFC 7235); a bare scheme is not a token.
    for (header, status) in [
        (format!("bearer {}", admin.token), StatusCode::OK),
        (format!("BEARER  {}", admin.token), StatusCode::OK),
        ("Bearer ".to_owned(), StatusCode::UNAUTHORIZED),
        (format!("Basic {}", admin.token), StatusCode::UNAUTHORIZED),
    ] {
        let response = admin
            .http
            .get(server.0.http("/api/v1/policies"))
            .header("Authorization", &header)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{header:?}");
    }
    let bob = Admin::new(&server, "bob").await;
    assert_refused(&bob.get("/api/v1/users").await, StatusCode::FORBIDDEN, "forbidden");
    assert_refused(&bob.get("/api/v1/audit").await, StatusCode::FORBIDDEN, "forbidden");
    let sneaky = bob.call(Method::PATCH, "/api/v1/users/bob", Some(json!({"admin": true}))).await;
    assert_refused(&sneaky, StatusCode::FORBIDDEN, "forbidden");

    // Users: create, refuse bad ones without creating them.
    let erin = admin
        .call(
            Method::POST,
            "/api/v1/users",
            Some(json!({"login": "erin", "display_name": "Erin", "password": "erin-password",
                "enterprise_voice": true, "unanswered": "forward:bob", "unanswered_delay_seconds": 15})),
        )
        .await;
    assert_eq!(erin.0, StatusCode::CREATED, "{}", erin.1);
    assert_eq!(erin.1["unanswered"], "forward:bob");
    for (body, code, field) in [
        (
            json!({"login": "Erin", "display_name": "E", "password": "long-enough"}),
            "user_exists",
            None,
        ),
        (
            json!({"login": "f r", "display_name": "F", "password": "long-enough"}),
            "user_invalid",
            Some("login"),
        ),
        (
            json!({"login": "fred", "display_name": "Fred", "password": "short"}),
            "user_invalid",
            Some("password"),
        ),
        (
            json!({"login": "fred", "display_name": "Fred", "password": "long-enough", "unanswered": "forward:nobody"}),
            "user_not_found",
            Some("unanswered"),
        ),
        (
            json!({"login": "fred", "display_name": "Fred", "password": "long-enough", "unanswered_delay_seconds": 5}),
            "user_invalid",
            Some("unanswered_delay_seconds"),
        ),
    ] {
        let reply = admin.call(Method::POST, "/api/v1/users", Some(body)).await;
        assert_eq!(reply.1["code"], code, "{}", reply.1);
        assert_eq!(reply.1["field"].as_str(), field, "{}", reply.1);
    }
    assert_refused(&admin.get("/api/v1/users/fred").await, StatusCode::NOT_FOUND, "user_not_found");
    let delay = admin
        .call(Method::PATCH, "/api/v1/users/erin", Some(json!({"unanswered_delay_seconds": 61})))
        .await;
    assert!(delay.1["message"].as_str().unwrap().contains("between 10 and 60"), "{}", delay.1);
    let to_self = admin
        .call(Method::PATCH, "/api/v1/users/erin", Some(json!({"unanswered": "forward:erin"})))
        .await;
    assert_eq!(to_self.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        (&to_self.1["code"], &to_self.1["field"], &to_self.1["message"]),
        (
            &json!("user_invalid"),
            &json!("unanswered"),
            &json!("Unanswered calls cannot be forwarded to the user themselves.")
        )
    );
    assert_eq!(admin.get("/api/v1/users/erin").await.1["unanswered"], "forward:bob", "unchanged");

    // Groups with members, and group grants with rank: rank 1 wins.
    for (name, members) in [("Lobby", json!(["erin", "bob"])), ("Night", json!(["erin"]))] {
        let group = admin
            .call(Method::POST, "/api/v1/groups", Some(json!({"name": name, "members": members})))
            .await;
        assert_eq!(group.0, StatusCode::CREATED, "{}", group.1);
    }
    for identity in ["Lobby park", "Night park"] {
        admin
            .call(
                Method::POST,
                "/api/v1/policies",
                Some(json!({"identity": identity, "allow_call_park": true})),
            )
            .await;
    }
    let grant = |group: &str, policy: &str, rank: i64| json!({"policy": policy, "group": group, "rank": rank});
    let lobby =
        admin.call(Method::POST, "/api/v1/grants", Some(grant("Lobby", "Lobby park", 1))).await;
    assert_eq!(lobby.1, json!({"rank": 1}));
    // Night takes rank 1; Lobby moves to 2, as the cmdlet does.
    admin.call(Method::POST, "/api/v1/grants", Some(grant("Night", "Night park", 1))).await;
    let erin = admin.get("/api/v1/users/erin").await.1;
    assert_eq!(
        erin["effective_policy"],
        json!({"policy": "Tag:Night park", "source": "group:Night"})
    );
    let lobby = admin.get("/api/v1/groups/lobby").await.1;
    assert_eq!(lobby["policy"], json!({"policy": "Tag:Lobby park", "rank": 2}));
    assert_eq!(lobby["members"], json!(["bob", "erin"]));
    let bad_rank =
        admin.call(Method::POST, "/api/v1/grants", Some(grant("Lobby", "Lobby park", 0))).await;
    assert_refused(&bad_rank, StatusCode::BAD_REQUEST, "rank_invalid");
    let two_targets = admin
        .call(
            Method::POST,
            "/api/v1/grants",
            Some(json!({"policy": "Sales", "user": "bob", "global": true})),
        )
        .await;
    assert_refused(&two_targets, StatusCode::BAD_REQUEST, "grant_invalid");

    // A direct grant beats groups; the tenant default catches everyone else.
    admin
        .call(Method::POST, "/api/v1/grants", Some(json!({"policy": "Sales", "user": "erin"})))
        .await;
    admin
        .call(Method::POST, "/api/v1/grants", Some(json!({"policy": "Lobby park", "global": true})))
        .await;
    let erin = admin.get("/api/v1/users/erin").await.1;
    assert_eq!(erin["effective_policy"], json!({"policy": "Tag:Sales", "source": "direct"}));
    let dave = admin.get("/api/v1/users/dave").await.1;
    assert_eq!(
        dave["effective_policy"],
        json!({"policy": "Tag:Lobby park", "source": "tenant_default"})
    );

    // Membership changes, removal.
    let night = admin.call(Method::DELETE, "/api/v1/groups/Night/members/erin", None).await;
    assert_eq!(night.1["members"], json!([]));
    assert_refused(
        &admin.call(Method::PUT, "/api/v1/groups/Night/members/nobody", None).await,
        StatusCode::NOT_FOUND,
        "user_not_found",
    );
    assert_refused(
        &admin.call(Method::DELETE, "/api/v1/users/alice", None).await,
        StatusCode::CONFLICT,
        "user_protected",
    );
    let bob = Admin::new(&server, "bob").await;
    assert_eq!(bob.get("/api/v1/users").await.0, StatusCode::FORBIDDEN, "signed in, not an admin");
    assert_eq!(
        admin.call(Method::DELETE, "/api/v1/users/bob", None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(bob.get("/api/v1/users").await.0, StatusCode::UNAUTHORIZED, "bob's token ended");
    let lobby = admin.get("/api/v1/groups/Lobby").await.1;
    assert_eq!(lobby["members"], json!(["erin"]));
    let erin = admin.get("/api/v1/users/erin").await.1;
    assert_eq!(erin["unanswered"], "voicemail", "a forward to a removed user becomes voicemail");
    assert_eq!(server.login("bob", "bob-password").await.status(), StatusCode::UNAUTHORIZED);

    // Everything survives a restart, erin's password and alice's sign-in included.
    let before_users = admin.get("/api/v1/users").await.1;
    let before_groups = admin.get("/api/v1/groups").await.1;
    let before_policies = admin.get("/api/v1/policies").await.1;
    let data = server.stop().await;
    let server = Server(TestServer::start_in(data).await);
    let admin = Admin { base: format!("http://{}", server.0.base), ..admin };
    let bob = Admin { base: admin.base.clone(), ..bob };
    assert_eq!(bob.get("/api/v1/users").await.0, StatusCode::UNAUTHORIZED, "still ended");
    assert_eq!(admin.get("/api/v1/users").await.1, before_users);
    assert_eq!(admin.get("/api/v1/groups").await.1, before_groups);
    assert_eq!(admin.get("/api/v1/policies").await.1, before_policies);
    assert_eq!(server.login("erin", "erin-password").await.status(), StatusCode::OK);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failed_logins_are_throttled_per_account() {
    let server = Server::start().await;
    for _ in 0..5 {
        assert_eq!(server.login("carol", "guess-guess").await.status(), StatusCode::UNAUTHORIZED);
    }
    // The lock follows the 5th failure: the 6th attempt is refused unchecked.
    let locked = server.login("carol", &common::password("carol")).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.headers().get("retry-after").is_some());
    let body: Value = locked.json().await.unwrap();
    assert_eq!(body["code"], "too_many_attempts");
    assert!(body["message"].as_str().unwrap().contains("try again in"), "{body}");
    // Other accounts are not locked out by carol's.
    assert_eq!(server.login("dave", &common::password("dave")).await.status(), StatusCode::OK);
    // Once the lock passes, the right password works again.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(server.login("carol", &common::password("carol")).await.status(), StatusCode::OK);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_passwords_get_no_more_checks_and_lock_no_one_else_out() {
    let server = Server::start().await;
    let wrong: Vec<String> = (0..200).map(|n| format!("guess-{n}")).collect();
    let burst = std::time::Instant::now();
    let guesses =
        futures_util::future::join_all(wrong.iter().map(|guess| server.login("carol", guess)))
            .await;
    // Each lock that runs out while the burst still queues (1 s, then 2, 4, … on a
    // busy machine) lets one more guess be checked, and locks for twice as long.
    let burst_s = burst.elapsed().as_secs_f64();
    let locks_run_out = (burst_s + 1.0).log2().floor() as usize;
    let statuses: Vec<StatusCode> = guesses.iter().map(|reply| reply.status()).collect();
    let checked = statuses.iter().filter(|status| **status == StatusCode::UNAUTHORIZED).count();
    let refused =
        statuses.iter().filter(|status| **status == StatusCode::TOO_MANY_REQUESTS).count();
    assert!(
        (1..=5 + locks_run_out).contains(&checked),
        "at most the 5 free attempts (and one per lock run out in {burst_s:.1} s) are checked: \
         {checked}"
    );
    assert_eq!(checked + refused, 200, "{statuses:?}");
    // Another user behind the same address signs in at once.
    let started = std::time::Instant::now();
    assert_eq!(server.login("dave", &common::password("dave")).await.status(), StatusCode::OK);
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "{:?}", started.elapsed());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_route() {
    let server = Server::start().await;
    let doc: Value =
        reqwest::get(server.0.http("/api/v1/openapi.json")).await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/v1/login", &["post"][..]),
        ("/api/v1/policies", &["get", "post"]),
        ("/api/v1/policies/{identity}", &["get", "patch", "delete"]),
        ("/api/v1/grants", &["post"]),
        ("/api/v1/users", &["get", "post"]),
        ("/api/v1/users/{login}", &["get", "patch", "delete"]),
        ("/api/v1/groups", &["get", "post"]),
        ("/api/v1/groups/{name}", &["get", "delete"]),
        ("/api/v1/groups/{name}/members/{login}", &["put", "delete"]),
        ("/api/v1/audit", &["get"]),
    ] {
        for method in methods {
            assert!(paths.get(path).and_then(|p| p.get(*method)).is_some(), "{method} {path}");
        }
    }
    assert!(doc["components"]["schemas"]["PolicyView"].is_object());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_states_the_bearer_scheme_every_refusal_and_every_limit() {
    let server = Server::start().await;
    let doc: Value =
        reqwest::get(server.0.http("/api/v1/openapi.json")).await.unwrap().json().await.unwrap();
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert_eq!(doc["security"], json!([{"bearer": []}]));
    let operation = |path: &str, method: &str| doc["paths"][path][method].clone();
    assert_eq!(operation("/api/v1/login", "post")["security"], json!([{}]), "no token to sign in");
    let statuses = |path: &str, method: &str| -> Vec<String> {
        operation(path, method)["responses"].as_object().unwrap().keys().cloned().collect()
    };
    for (path, method, wanted) in [
        ("/api/v1/login", "post", &["200", "400", "401", "429"][..]),
        ("/api/v1/policies/{identity}", "get", &["200", "400", "401", "403", "404"]),
        ("/api/v1/voicemail/{id}", "delete", &["204", "400", "401", "404"]),
        ("/api/v1/voicemail/{id}/audio", "get", &["200", "400", "401", "404"]),
        ("/api/v1/groups", "post", &["201", "400", "401", "403", "404", "409"]),
        ("/api/v1/users", "get", &["200", "401", "403"]),
    ] {
        assert_eq!(statuses(path, method), wanted, "{method} {path}");
    }
    let schema =
        |name: &str, field: &str| doc["components"]["schemas"][name]["properties"][field].clone();
    assert_eq!(schema("NewUser", "password")["minLength"], 8);
    assert_eq!(schema("NewUser", "display_name")["maxLength"], 128);
    assert_eq!(schema("NewUser", "login")["pattern"], callpark_wire::admin::LOGIN_PATTERN);
    assert_eq!(schema("NewGroup", "name")["pattern"], callpark_wire::admin::NAME_PATTERN);
    assert_eq!(
        doc["components"]["schemas"]["NewPolicy"]["allOf"][1]["properties"]["identity"]["pattern"],
        callpark_wire::admin::POLICY_IDENTITY_PATTERN
    );
    assert_eq!(schema("PolicyFields", "pickup_range_start")["minimum"], 10);
    assert_eq!(schema("PolicyFields", "pickup_range_end")["maximum"], 9999);
    assert_eq!(schema("PolicyFields", "park_timeout_seconds")["minimum"], 120);
    assert_eq!(schema("PolicyFields", "park_timeout_seconds")["maximum"], 1800);
    assert_eq!(schema("GrantRequest", "rank")["minimum"], 1);
    assert_eq!(schema("UserChanges", "unanswered_delay_seconds")["maximum"], 60);
    let parameter = |path: &str, method: &str, name: &str| {
        operation(path, method)["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|parameter| parameter["name"] == name)
            .unwrap()["schema"]["pattern"]
            .clone()
    };
    assert_eq!(
        parameter("/api/v1/groups/{name}/members/{login}", "put", "login"),
        callpark_wire::admin::LOGIN_PATTERN
    );
    assert_eq!(
        parameter("/api/v1/policies/{identity}", "patch", "identity"),
        callpark_wire::admin::POLICY_IDENTITY_PATTERN
    );
    let audit = operation("/api/v1/audit", "get")["parameters"].clone();
    for parameter in audit.as_array().unwrap() {
        assert_eq!(parameter["in"], "query", "{parameter}");
        assert_eq!(parameter["required"], false, "{parameter}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_names_and_audit_filters_outside_the_documented_rules_are_refused() {
    let server = Server::start().await;
    let alice = Admin::new(&server, "alice").await;
    let post = |path: &'static str, body: Value| alice.call(Method::POST, path, Some(body));
    let user = |login: &str, display_name: &str| json!({"login": login, "display_name": display_name, "password": "long-enough-1"});
    // serde reads a struct from an array of its fields; nobody means that.
    let array = alice.call(Method::PATCH, "/api/v1/users/bob", Some(json!([null, null]))).await;
    assert_refused(&array, StatusCode::BAD_REQUEST, "bad_request");
    for name in ["", " Lobby", "Lobby ", "Empfang Süd", "a/b"] {
        let refused = post("/api/v1/groups", json!({"name": name})).await;
        assert_refused(&refused, StatusCode::BAD_REQUEST, "group_invalid");
    }
    assert_eq!(
        post("/api/v1/groups", json!({"name": "Front desk-2"})).await.0,
        StatusCode::CREATED
    );
    let unknown_member = post("/api/v1/groups", json!({"name": "Night", "members": ["nobody"]}));
    assert_refused(&unknown_member.await, StatusCode::NOT_FOUND, "user_not_found");
    for display_name in ["   ", "Tab\there", "\u{1c}", &"x".repeat(129)] {
        let refused = post("/api/v1/users", user("erin", display_name)).await;
        assert_refused(&refused, StatusCode::BAD_REQUEST, "user_invalid");
        assert_eq!(refused.1["field"], "display_name");
    }
    let spaced = post("/api/v1/users", user("erin", "  José Núñez  ")).await;
    assert_eq!(
        (spaced.0, spaced.1["display_name"].as_str()),
        (StatusCode::CREATED, Some("José Núñez"))
    );
    let forward = alice
        .call(Method::PATCH, "/api/v1/users/erin", Some(json!({"unanswered": "forward:nobody"})))
        .await;
    assert_refused(&forward, StatusCode::NOT_FOUND, "user_not_found");
    assert_eq!(forward.1["field"], "unanswered");
    let policy = post("/api/v1/policies", json!({"identity": "Tag:Empfang Süd"})).await;
    assert_refused(&policy, StatusCode::BAD_REQUEST, "policy_invalid");
    for query in ["kind=parkd", "before=0", "policy=Empfang%20S%C3%BCd", "policy=a%2Fb"] {
        let refused = alice.get(&format!("/api/v1/audit?{query}")).await;
        assert_refused(&refused, StatusCode::BAD_REQUEST, "bad_request");
    }
    assert_eq!(alice.get("/api/v1/audit?kind=parked&policy=sales").await.0, StatusCode::OK);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_admin_can_be_neither_demoted_nor_removed() {
    let server = Server::start().await;
    let alice = Admin::new(&server, "alice").await;
    let demoted = alice.call(Method::PATCH, "/api/v1/users/alice", Some(json!({"admin": false})));
    let demoted = demoted.await;
    assert_refused(&demoted, StatusCode::CONFLICT, "user_protected");
    assert!(demoted.1["message"].as_str().unwrap().contains("only admin"), "{}", demoted.1);
    assert_eq!(alice.get("/api/v1/users/alice").await.1["admin"], true, "nothing changed");

    // With a second admin, either may step down, but not the one left.
    let made = alice.call(Method::PATCH, "/api/v1/users/bob", Some(json!({"admin": true})));
    assert_eq!(made.await.0, StatusCode::OK);
    let bob = Admin::new(&server, "bob").await;
    let stepped_down =
        alice.call(Method::PATCH, "/api/v1/users/alice", Some(json!({"admin": false})));
    assert_eq!(stepped_down.await.0, StatusCode::OK);
    let last = bob.call(Method::PATCH, "/api/v1/users/bob", Some(json!({"admin": false}))).await;
    assert_refused(&last, StatusCode::CONFLICT, "user_protected");
    assert_eq!(bob.get("/api/v1/users").await.0, StatusCode::OK, "bob is still an admin");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_is_json_with_a_stable_code_bad_addresses_and_queries_included() {
    let server = Server::start().await;
    let alice = Admin::new(&server, "alice").await;
    let cases = [
        (Method::GET, "/api/v1/voicemail/-1/audio", StatusCode::BAD_REQUEST, "bad_request"),
        (Method::DELETE, "/api/v1/voicemail/x", StatusCode::BAD_REQUEST, "bad_request"),
        (Method::GET, "/api/v1/audit?limit=many", StatusCode::BAD_REQUEST, "bad_request"),
        (Method::GET, "/api/v1/audit?before=1&before=2", StatusCode::BAD_REQUEST, "bad_request"),
        (
            Method::DELETE,
            "/api/v1/policies/Sales?force=perhaps",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (Method::GET, "/api/v1/nothing-here", StatusCode::NOT_FOUND, "not_found"),
        (Method::PUT, "/api/v1/audit", StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        (Method::GET, "/ws?token=a&token=b", StatusCode::BAD_REQUEST, "bad_request"),
    ];
    for (method, path, status, code) in cases {
        let reply = alice.call(method.clone(), path, None).await;
        assert_eq!(
            (reply.0, reply.1["code"].as_str()),
            (status, Some(code)),
            "{method} {path}: {}",
            reply.1
        );
        assert!(!reply.1["message"].as_str().unwrap_or_default().is_empty(), "{path}");
    }
    server.stop().await;
}
