//! Two `outreach serve` processes on one PostgreSQL database, as behind a load balancer:
//! bookings sent at once through both keep every promise (never more places than the event
//! holds, places taken equal to the confirmed bookings' places, one live booking per school),
//! and every booking answered 201 is in the database as answered; their mail workers send
//! each letter of the shared outbox exactly once.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::fixtures::{a_programme, live_stream, schools};
use crate::harness::{free_port, Db, Serve, TestApp};

/// POSTs JSON over one connection; the status and the body.
fn post(port: u16, path: &str, token: &str, body: &Value) -> (u16, Value) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let body = body.to_string();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("the answer");
    let status = answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let json = answer
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookings_sent_at_once_through_two_processes_keep_every_promise() {
    crate::harness::run(Db::Postgres, |app: TestApp| async move {
        let p = a_programme(&app).funded().create().await;
        // Room for ten schools of two pupils and a teacher.
        let stream = live_stream(&app, p, 12, Some(30)).await;
        let ids = schools(&app, 24).await;
        let ports = [free_port(), free_port()];
        let _servers: Vec<Serve> = ports
            .iter()
            .map(|&port| Serve::start(&app.database_url, port, &[]))
            .collect();
        let token = app.lead.token.clone();
        let path = format!("/api/v1/events/{stream}/bookings");
        // Each school asks twice, once through each process, all at the same moment.
        let requests: Vec<(u16, i64)> = ids
            .iter()
            .flat_map(|&school| [(ports[0], school), (ports[1], school)])
            .collect();
        let answers = tokio::task::spawn_blocking(move || {
            let gate = Arc::new(Barrier::new(requests.len()));
            let threads: Vec<_> = requests
                .into_iter()
                .map(|(port, school)| {
                    let (gate, token, path) = (gate.clone(), token.clone(), path.clone());
                    std::thread::spawn(move || {
                        gate.wait();
                        let body = json!({"school_id": school, "pupils": 2, "staff": 1});
                        (school, post(port, &path, &token, &body))
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().expect("a client"))
                .collect::<Vec<_>>()
        })
        .await
        .expect("the clients");
        // Every school: exactly one booking made, the other refused as a second one.
        let mut made = Vec::new();
        for &school in &ids {
            let mine: Vec<&(u16, Value)> = answers
                .iter()
                .filter(|(s, _)| *s == school)
                .map(|(_, a)| a)
                .collect();
            let statuses: Vec<u16> = mine.iter().map(|(s, _)| *s).collect();
            assert!(
                statuses.contains(&201) && statuses.contains(&409),
                "school {school}: {mine:?}"
            );
            let booking = mine
                .iter()
                .find(|(s, _)| *s == 201)
                .map(|(_, v)| v.clone())
                .expect("a booking");
            made.push(booking);
        }
        // The database holds each booking as it was answered, and the promises hold.
        let rows: Vec<(i32, String, i32, i32)> = app
            .with_db(|c| {
                use outreach::db::schema::bookings as b;
                b::table
                    .order(b::id)
                    .select((b::id, b::status, b::pupils, b::staff))
                    .load(c)
                    .unwrap()
            })
            .await;
        assert_eq!(rows.len(), ids.len(), "{rows:?}");
        for answer in &made {
            let id = answer["id"].as_i64().expect("an id") as i32;
            let row = rows.iter().find(|r| r.0 == id).expect("in the database");
            assert_eq!(answer["status"], row.1.as_str(), "{answer}");
        }
        let confirmed: i32 = rows
            .iter()
            .filter(|r| r.1 == "confirmed")
            .map(|r| r.2 + r.3)
            .sum();
        assert_eq!(confirmed, 30, "the stream fills exactly: {rows:?}");
        let taken: i32 = app
            .with_db(move |c| {
                use outreach::db::schema::events as e;
                e::table
                    .find(stream as i32)
                    .select(e::places_confirmed)
                    .first(c)
                    .unwrap()
            })
            .await;
        assert_eq!(taken, confirmed);
        assert_eq!(
            rows.iter().filter(|r| r.1 == "waitlisted").count(),
            ids.len() - 10
        );
    })
    .await;
}

/// A mail server that takes every message and counts them by recipient.
fn smtp_sink() -> (u16, Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let got = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = got.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut out = conn.try_clone().expect("clone");
                let mut lines = BufReader::new(conn);
                let _ = out.write_all(b"220 sink ESMTP\r\n");
                let mut to = String::new();
                let mut line = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250 sink\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        to = line[8..].trim().to_string();
                        b"250 ok\r\n"
                    } else if upper.starts_with("DATA") {
                        let _ = out.write_all(b"354 go on\r\n");
                        loop {
                            line.clear();
                            if lines.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if line == ".\r\n" {
                                break;
                            }
                        }
                        seen.lock().expect("lock").push(to.clone());
                        b"250 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = out.write_all(b"221 bye\r\n");
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = out.write_all(reply);
                }
            });
        }
    });
    (port, got)
}

/// Two processes' mail workers share one outbox: every letter is sent, each exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_send_each_letter_once() {
    crate::harness::run(Db::Postgres, |app: TestApp| async move {
        let invited: Vec<String> = (0..30)
            .map(|i| format!("teacher{i:02}@example.org"))
            .collect();
        for email in &invited {
            let (s, v) = app
                .post(
                    "/invitations",
                    Some(outreach::domain::types::Role::Admin),
                    json!({"email": email, "role": "school", "school_id": app.school_id}),
                )
                .await;
            assert_eq!(s, axum::http::StatusCode::CREATED, "{v}");
        }
        let (smtp, got) = smtp_sink();
        let _servers: Vec<Serve> = [free_port(), free_port()]
            .iter()
            .map(|&port| {
                Serve::start(
                    &app.database_url,
                    port,
                    &[("SMTP_URL", &format!("smtp://127.0.0.1:{smtp}"))],
                )
            })
            .collect();
        let started = Instant::now();
        loop {
            let sent: i64 = app
                .with_db(|c| {
                    use outreach::db::schema::outbox as o;
                    o::table
                        .filter(o::status.eq("sent"))
                        .count()
                        .get_result(c)
                        .unwrap()
                })
                .await;
            if sent == invited.len() as i64 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{sent} of {} sent",
                invited.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // A moment more, for any second send of a letter.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut received = got.lock().expect("lock").clone();
        received.sort();
        let mut expected: Vec<String> = invited.iter().map(|e| format!("<{e}>")).collect();
        expected.sort();
        assert_eq!(received, expected, "each letter once");
    })
    .await;
}
