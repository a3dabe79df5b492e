//! Logging in and out, sessions, the rate limit, CSRF, tokens and security headers.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::harness::{TestApp, PASSWORD};

fn session_from(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("outreach_session=") && !c.starts_with("outreach_session=;"))
        .map(|c| {
            c["outreach_session=".len()..]
                .split(';')
                .next()
                .unwrap_or("")
                .to_string()
        })
}

both!(login_opens_a_session_and_logout_ends_it);
async fn login_opens_a_session_and_logout_ends_it(app: TestApp) {
    let (s, _, body) = app.page("/login", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("name=\"csrf_token\""));
    let (s, headers, _) = app
        .form(
            "/login",
            None,
            &[
                ("email", "LEAD@example.org"),
                ("password", PASSWORD),
                ("next", "/schools"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/schools");
    let cookie = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("outreach_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let secret = session_from(&headers).unwrap();
    let req = |path: &str, method: Method, body: String| {
        Request::builder()
            .method(method)
            .uri(path)
            .header(
                header::COOKIE,
                format!(
                    "outreach_csrf={}; outreach_session={secret}",
                    crate::harness::CSRF
                ),
            )
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let (s, _, body) = app.send(req("/schools", Method::GET, String::new())).await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("Seed School"));
    let (s, _, _) = app
        .send(req(
            "/logout",
            Method::POST,
            format!("csrf_token={}", crate::harness::csrf_for(&secret)),
        ))
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, headers, _) = app.send(req("/schools", Method::GET, String::new())).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "the session is gone after logout");
    assert!(headers[header::LOCATION]
        .to_str()
        .unwrap()
        .starts_with("/login"));
}

both!(external_next_is_not_followed);
async fn external_next_is_not_followed(app: TestApp) {
    let (_, headers, _) = app
        .form(
            "/login",
            None,
            &[
                ("email", "lead@example.org"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
            true,
        )
        .await;
    assert_eq!(headers[header::LOCATION], "/");
}

both!(wrong_password_is_refused_then_rate_limited);
async fn wrong_password_is_refused_then_rate_limited(app: TestApp) {
    for _ in 0..5 {
        let (s, headers, body) = app
            .form(
                "/login",
                None,
                &[
                    ("email", "admin@example.org"),
                    ("password", "wrong password!"),
                ],
                true,
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(session_from(&headers).is_none());
        assert!(body.contains("The email or password is not right."));
        assert!(
            body.contains("value=\"admin@example.org\""),
            "the form keeps the email"
        );
    }
    // Even the right password is refused now, for this account.
    let (s, headers, body) = app
        .form(
            "/login",
            None,
            &[("email", "admin@example.org"), ("password", PASSWORD)],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(session_from(&headers).is_none());
    // Another account from the same client is still allowed (per-client limit is higher).
    let (s, _, _) = app
        .form(
            "/login",
            None,
            &[("email", "lead@example.org"), ("password", PASSWORD)],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
}

both!(unknown_account_is_refused_like_a_wrong_password);
async fn unknown_account_is_refused_like_a_wrong_password(app: TestApp) {
    let (s, _, body) = app
        .form(
            "/login",
            None,
            &[
                ("email", "nobody@example.org"),
                ("password", "whatever it is"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("The email or password is not right."));
}

both!(forms_without_the_csrf_token_are_rejected);
async fn forms_without_the_csrf_token_are_rejected(app: TestApp) {
    let before = app.count("schools").await;
    let (s, _, body) = app
        .form(
            "/schools",
            Some(Role::Admin),
            &[("name", "Sneaky School")],
            false,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(body.contains("reload the page"), "{body}");
    let (s, _, _) = app
        .form(
            "/login",
            None,
            &[("email", "admin@example.org"), ("password", PASSWORD)],
            false,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A token that does not match the cookie is refused too.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/schools")
        .header(
            header::COOKIE,
            format!(
                "outreach_csrf={}; outreach_session={}",
                crate::harness::CSRF,
                app.admin.session
            ),
        )
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "csrf_token={}&name=Sneaky",
            "f".repeat(64)
        )))
        .unwrap();
    let (s, _, _) = app.send(req).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(app.count("schools").await, before);
}

/// A GET of an API path with a bearer secret.
fn bearer(path: &str, secret: &str) -> Request<Body> {
    Request::builder()
        .uri(format!("/api/v1{path}"))
        .header(header::AUTHORIZATION, format!("Bearer {secret}"))
        .body(Body::empty())
        .unwrap()
}

both!(api_needs_a_valid_token_not_a_cookie);
async fn api_needs_a_valid_token_not_a_cookie(app: TestApp) {
    let (s, v) = app.get("/schools", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["error"]["code"], "unauthenticated");
    let (s, _, _) = app.send(bearer("/schools", "otr_wrong")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // A session cookie does not authenticate the API.
    let req = Request::builder()
        .uri("/api/v1/schools")
        .header(
            header::COOKIE,
            format!("outreach_session={}", app.admin.session),
        )
        .body(Body::empty())
        .unwrap();
    let (s, _, _) = app.send(req).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

both!(api_tokens_are_stored_hashed_and_can_be_revoked);
async fn api_tokens_are_stored_hashed_and_can_be_revoked(app: TestApp) {
    let tokens = format!("/users/{}/tokens", app.lead.user_id);
    let (s, created) = app
        .post(&tokens, Some(Role::Admin), json!({"label": "script"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let secret = created["secret"].as_str().unwrap().to_string();
    let hashes: Vec<String> = app
        .with_db(|c| {
            use diesel::prelude::*;
            use outreach::db::schema::api_tokens;
            api_tokens::table
                .select(api_tokens::token_hash)
                .load(c)
                .unwrap()
        })
        .await;
    assert!(!hashes.contains(&secret));
    let (s, _, body) = app.send(bearer("/me", &secret)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("lead@example.org"));
    let revoke = format!("{tokens}/{}/revoke", created["token"]["id"]);
    let (s, _) = app.post(&revoke, Some(Role::Admin), json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = app.send(bearer("/me", &secret)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

both!(archived_users_lose_access);
async fn archived_users_lose_access(app: TestApp) {
    let (s, _) = app
        .post(
            &format!("/users/{}/archive", app.lead.user_id),
            Some(Role::Admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.get("/me", Some(Role::Lead)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = app.page("/schools", Some(Role::Lead)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, _) = app
        .post(
            &format!("/users/{}/archive", app.admin.user_id),
            Some(Role::Admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "an admin cannot archive itself");
}

both!(security_headers_and_health);
async fn security_headers_and_health(app: TestApp) {
    let (s, headers, _) = app.page("/login", None).await;
    assert_eq!(s, StatusCode::OK);
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'")
            && csp.contains("script-src 'self'")
            && !csp.contains("unsafe-inline")
    );
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::REFERRER_POLICY], "same-origin");
    let (s, _, body) = app.page("/healthz", None).await;
    assert_eq!((s, body.as_str()), (StatusCode::OK, "ok"));
    let (s, _, _) = app.page("/readyz", None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, headers, _) = app.page("/static/app.css", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    let (s, v) = app.get("/openapi.json", Some(Role::School)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["paths"]["/api/v1/schools"].is_object(), "{v}");
}

#[test]
fn the_api_document_is_valid_and_complete() {
    let doc = serde_json::to_value(outreach::web::api::document()).expect("the document");
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let mut ids = std::collections::BTreeSet::new();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            operations += 1;
            let id = op["operationId"].as_str().expect("an operation id");
            assert!(ids.insert(id.to_string()), "{id} twice");
            let answers = op["responses"].as_object().expect("responses");
            assert!(answers.contains_key("default"), "{method} {path}");
            let ok = answers
                .iter()
                .find(|(code, _)| code.starts_with('2'))
                .unwrap_or_else(|| panic!("{method} {path} has no success answer"));
            // A success answers a body, except a 204 ("done; no body").
            assert!(
                ok.1["content"].is_object() || ok.0 == "204",
                "{method} {path}: {}",
                ok.1
            );
            if let Some(body) = op.get("requestBody") {
                let schema = &body["content"]["application/json"]["schema"];
                let closed = schema["additionalProperties"] == false
                    || schema["items"]["additionalProperties"] == false
                    || body["content"]["text/csv"].is_object();
                assert!(closed, "{method} {path}: a body names all it takes: {body}");
            }
        }
    }
    assert!(operations >= 80, "{operations} operations");
    // Every route whose query parameters are listed is a route of the API.
    for (path, _) in outreach::web::api::QUERY_PARAMS {
        assert!(
            doc["paths"][format!("/api/v1{path}")].is_object(),
            "{path} in QUERY_PARAMS is no route"
        );
    }
    // Every schema a reference names is in the document.
    let text = doc.to_string();
    for name in text.split("#/components/schemas/").skip(1) {
        let name = name.split('"').next().expect("a name");
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{name} is named but missing"
        );
    }
}
