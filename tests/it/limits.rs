//! Abuse limits: bodies refused before they are read, uploads streamed under their own cap,
//! slow and idle connections closed, a busy pool answered with 503.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{header, Method, Request, StatusCode};
use outreach::domain::types::Role;
use outreach::web::server::ConnectionLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::both;
use crate::harness::{Db, TestApp, CSRF};

/// A body that records whether anyone read it.
fn watched_body(read: Arc<AtomicBool>) -> Body {
    let stream = futures_util::stream::poll_fn(move |_| {
        read.store(true, Ordering::SeqCst);
        std::task::Poll::Ready(Some(Ok::<_, std::io::Error>(Bytes::from(vec![b'a'; 1024]))))
    });
    Body::from_stream(stream)
}

both!(every_route_refuses_an_oversized_body_without_reading_it);
async fn every_route_refuses_an_oversized_body_without_reading_it(app: TestApp) {
    let limits = app.state.config.limits;
    for path in crate::harness::all_routes(&[]) {
        let cap = if outreach::web::limits::is_upload(&path) {
            limits.upload
        } else {
            limits.body
        };
        for (method, role) in [
            (Method::POST, None),
            (Method::PUT, Some(Role::Admin)),
            (Method::GET, Some(Role::Lead)),
        ] {
            let read = Arc::new(AtomicBool::new(false));
            let mut req = Request::builder()
                .method(method.clone())
                .uri(&path)
                .header(header::CONTENT_LENGTH, (cap + 1).to_string())
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            if let Some(role) = role {
                req = req
                    .header(
                        header::AUTHORIZATION,
                        format!("Bearer {}", app.seeded(role).token),
                    )
                    .header(
                        header::COOKIE,
                        format!(
                            "outreach_csrf={CSRF}; outreach_session={}",
                            app.seeded(role).session
                        ),
                    );
            }
            let (s, _, _) = app
                .send(req.body(watched_body(read.clone())).unwrap())
                .await;
            assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{method} {path}");
            assert!(
                !read.load(Ordering::SeqCst),
                "{method} {path} read the body"
            );
        }
    }
}

both!(a_body_without_length_is_cut_off_at_the_cap);
async fn a_body_without_length_is_cut_off_at_the_cap(app: TestApp) {
    let cap = app.state.config.limits.body;
    for (path, role_cookie) in [
        ("/login", format!("outreach_csrf={CSRF}")),
        ("/api/v1/schools", String::new()),
    ] {
        let sent = Arc::new(AtomicUsize::new(0));
        let counter = sent.clone();
        let chunk = format!("csrf_token={CSRF}&name=");
        let stream = futures_util::stream::iter(0..10_000).map(move |i| {
            let bytes = if i == 0 {
                Bytes::from(chunk.clone())
            } else {
                Bytes::from(vec![b'a'; 16 * 1024])
            };
            counter.fetch_add(bytes.len(), Ordering::SeqCst);
            Ok::<_, std::io::Error>(bytes)
        });
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, role_cookie)
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", app.seeded(Role::Admin).token),
            )
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from_stream(stream))
            .unwrap();
        let (s, _, _) = app.send(req).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        let read = sent.load(Ordering::SeqCst);
        assert!(
            read <= cap + 64 * 1024,
            "{path}: {read} bytes were read for a cap of {cap}"
        );
    }
    assert_eq!(app.count("schools").await, 1);
}

use futures_util::StreamExt;

/// A register CSV of `n` fictional schools.
fn register(n: usize) -> Vec<u8> {
    let mut out =
        String::from("URN,EstablishmentName,LA (name),Postcode,EstablishmentStatus (name)\n");
    for i in 0..n {
        out.push_str(&format!(
            "{},Large Register School {i} with a long name to fill the line,Cumbria,LA{} 1AA,Open\n",
            700_000 + i,
            i % 10
        ));
    }
    out.into_bytes()
}

both!(only_an_admin_upload_gets_the_upload_limits);
async fn only_an_admin_upload_gets_the_upload_limits(app: TestApp) {
    let limits = app.state.config.limits;
    let size = (limits.body * 4).to_string();
    for (cookie, bearer) in [
        (format!("outreach_csrf={CSRF}"), None),
        (
            format!(
                "outreach_csrf={CSRF}; outreach_session={}",
                app.lead.session
            ),
            None,
        ),
        (String::new(), Some(app.lead.token.clone())),
        (String::new(), Some("otr_not_a_token".to_string())),
    ] {
        let path = if bearer.is_some() {
            "/api/v1/import/schools"
        } else {
            "/import/schools"
        };
        let read = Arc::new(AtomicBool::new(false));
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_LENGTH, &size)
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=B")
            .header(header::COOKIE, cookie);
        if let Some(b) = &bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {b}"));
        }
        let (s, _, _) = app
            .send(req.body(watched_body(read.clone())).unwrap())
            .await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{path} {bearer:?}");
        assert!(!read.load(Ordering::SeqCst));
    }
    // An anonymous form gets a smaller cap still.
    let (s, _, _) = app
        .form(
            "/login",
            None,
            &[("email", &"a".repeat(limits.anonymous_body + 10))],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
}

both!(a_large_upload_streams_through_under_its_own_cap);
async fn a_large_upload_streams_through_under_its_own_cap(app: TestApp) {
    let file = register(6000);
    assert!(file.len() > app.state.config.limits.body * 2);
    let boundary = "BoUnDaRy7";
    let token = app.csrf(Some(Role::Admin));
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    // Sent in small pieces, as a network delivers it: the token is found across pieces.
    let pieces: Vec<Result<Bytes, std::io::Error>> = body
        .chunks(7 * 1024 + 13)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/import/schools")
        .header(
            header::COOKIE,
            format!(
                "outreach_csrf={CSRF}; outreach_session={}",
                app.admin.session
            ),
        )
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from_stream(futures_util::stream::iter(pieces)))
        .unwrap();
    let (s, _, page) = app.send(req).await;
    let page = String::from_utf8_lossy(&page);
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("<dt>Added</dt><dd>6000</dd>"), "{page}");
    assert_eq!(app.count("schools").await, 6001);

    // The API takes the same file as a raw body.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/import/schools")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.admin.token))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(register(6000)))
        .unwrap();
    let (s, _, body) = app.send(req).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let report: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(report["unchanged"], 6000);
}

both!(an_anonymous_upload_is_refused_after_its_first_part);
async fn an_anonymous_upload_is_refused_after_its_first_part(app: TestApp) {
    // A forged upload: a cookie of the sender's choosing and the matching token, then
    // megabytes. It is refused without the rest being read.
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let head = format!(
        "--B\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{CSRF}\r\n--B\r\n\
         Content-Disposition: form-data; name=\"file\"; filename=\"r.csv\"\r\n\r\n"
    );
    let stream = futures_util::stream::iter(0..2000).map(move |i| {
        let bytes = if i == 0 {
            Bytes::from(head.clone())
        } else {
            Bytes::from(vec![b'x'; 32 * 1024])
        };
        counter.fetch_add(bytes.len(), Ordering::SeqCst);
        Ok::<_, std::io::Error>(bytes)
    });
    let req = Request::builder()
        .method(Method::POST)
        .uri("/import/schools")
        .header(header::COOKIE, format!("outreach_csrf={CSRF}"))
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=B")
        .body(Body::from_stream(stream))
        .unwrap();
    let (s, headers, _) = app.send(req).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "anonymous: to the login page");
    assert!(headers[header::LOCATION]
        .to_str()
        .unwrap()
        .starts_with("/login"));
    let read = sent.load(Ordering::SeqCst);
    assert!(read < 256 * 1024, "{read} bytes were read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_pool_answers_503_quickly() {
    crate::harness::run(Db::Sqlite, |app: TestApp| async move {
        let pool = outreach::db::connect_with_wait(
            &app.state.config.database,
            1,
            Duration::from_millis(300),
        )
        .unwrap();
        let state = outreach::app::App::new(pool.clone(), app.state.config.clone());
        let router = outreach::build_router(state);
        let held = tokio::task::spawn_blocking(move || pool.get().unwrap())
            .await
            .unwrap();
        for path in ["/readyz", "/api/v1/me"] {
            let started = Instant::now();
            let req = Request::builder()
                .uri(path)
                .header(header::AUTHORIZATION, format!("Bearer {}", app.admin.token))
                .body(Body::empty())
                .unwrap();
            let response = tower::ServiceExt::oneshot(router.clone(), req)
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
            assert!(started.elapsed() < Duration::from_secs(3));
        }
        drop(held);
    })
    .await;
}

/// Serves the test app on a real socket with short timeouts.
async fn serve(app: &TestApp, limits: ConnectionLimits) -> std::net::SocketAddr {
    serve_router(app.router.clone(), limits).await
}

async fn serve_router(router: axum::Router, limits: ConnectionLimits) -> std::net::SocketAddr {
    let (listener, addr) = outreach::web::server::bind("127.0.0.1:0").await.unwrap();
    tokio::spawn(outreach::web::server::serve(
        listener,
        router,
        limits,
        std::future::pending(),
        Duration::from_secs(1),
    ));
    addr
}

/// Reads until the server closes the connection; how long that took.
async fn until_closed(stream: &mut tokio::net::TcpStream) -> (Duration, Vec<u8>) {
    let started = Instant::now();
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut got)).await;
    (started.elapsed(), got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed() {
    crate::harness::run(Db::Sqlite, |app: TestApp| async move {
        let addr = serve(
            &app,
            ConnectionLimits {
                max_connections: 64,
                header_read_timeout: Duration::from_millis(700),
                idle_timeout: Duration::from_millis(1500),
                ..Default::default()
            },
        )
        .await;
        // Half a header block, then nothing: closed at the header timeout.
        let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let (took, _) = until_closed(&mut slow).await;
        assert!(took < Duration::from_secs(3), "closed after {took:?}");

        // Connected and silent: closed too.
        let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (took, _) = until_closed(&mut silent).await;
        assert!(took < Duration::from_secs(4), "closed after {took:?}");

        // A whole request is answered, and the kept-alive connection is closed once idle.
        let mut fine = tokio::net::TcpStream::connect(addr).await.unwrap();
        fine.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let (took, got) = until_closed(&mut fine).await;
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        assert!(took < Duration::from_secs(4), "closed after {took:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_their_turn() {
    crate::harness::run(Db::Sqlite, |app: TestApp| async move {
        let addr = serve(
            &app,
            ConnectionLimits {
                max_connections: 1,
                header_read_timeout: Duration::from_millis(800),
                idle_timeout: Duration::from_secs(5),
                ..Default::default()
            },
        )
        .await;
        let mut first = tokio::net::TcpStream::connect(addr).await.unwrap();
        first
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        let mut second = tokio::net::TcpStream::connect(addr).await.unwrap();
        second
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let (_, got) = until_closed(&mut second).await;
        assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"));
        // Served only once the first (stalled) connection was dropped at its timeout.
        assert!(started.elapsed() >= Duration::from_millis(500));
        drop(first);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_answer_is_not_cut_off_by_the_idle_timeout() {
    // A handler that thinks longer than the idle timeout: the connection is quiet both
    // ways meanwhile, and must not be closed under it.
    let router = axum::Router::new().route(
        "/slow",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            "done"
        }),
    );
    let addr = serve_router(
        router,
        ConnectionLimits {
            max_connections: 8,
            header_read_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_millis(500),
            ..Default::default()
        },
    )
    .await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (_, got) = until_closed(&mut stream).await;
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("HTTP/1.1 200") && text.ends_with("done"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stops_reading_is_dropped() {
    // 64 MB sent to a client that never reads: once the socket has been full for the idle
    // time, the server lets go of the connection.
    let router = axum::Router::new().route(
        "/big",
        axum::routing::get(|| async {
            let chunk = Bytes::from(vec![b'x'; 1024 * 1024]);
            let stream = futures_util::stream::iter(
                (0..64).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
            );
            Body::from_stream(stream)
        }),
    );
    let addr = serve_router(
        router,
        ConnectionLimits {
            max_connections: 8,
            header_read_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_millis(500),
            ..Default::default()
        },
    )
    .await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut got)).await;
    assert!(
        got.len() < 64 * 1024 * 1024,
        "{} bytes: the stalled download was not dropped",
        got.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_cannot_take_every_connection() {
    crate::harness::run(Db::Sqlite, |app: TestApp| async move {
        let addr = serve(
            &app,
            ConnectionLimits {
                per_client: 2,
                header_read_timeout: Duration::from_secs(5),
                idle_timeout: Duration::from_secs(5),
                ..Default::default()
            },
        )
        .await;
        let _a = tokio::net::TcpStream::connect(addr).await.unwrap();
        let _b = tokio::net::TcpStream::connect(addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut third = tokio::net::TcpStream::connect(addr).await.unwrap();
        let _ = third
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await;
        let (took, got) = until_closed(&mut third).await;
        assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
        assert!(took < Duration::from_secs(2), "closed after {took:?}");
        // A trusted proxy carries many clients and is not limited so.
        let addr = serve(
            &app,
            ConnectionLimits {
                per_client: 1,
                trusted_proxies: outreach::web::client::parse_trusted("127.0.0.1").unwrap(),
                ..Default::default()
            },
        )
        .await;
        let _held = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut next = tokio::net::TcpStream::connect(addr).await.unwrap();
        next.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let (_, got) = until_closed(&mut next).await;
        assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"));
    })
    .await;
}
