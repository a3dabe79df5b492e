//! The five journeys of SPEC §1's people, walked in headless Chromium over WebDriver
//! against the app's binary on a fresh SQLite database with the demo data, at a phone's
//! width (390 px) and a desktop's (1280 px):
//!
//! - the school books places at the performance its demo line points to, and asks for a
//!   visit on a free tour date;
//! - the lead confirms a request, then enters the attendance of the visit held on the last
//!   weekday and completes it;
//! - the school makes a feedback link and a pupil answers it without logging in;
//! - the funder downloads the workbook, whose total audience is the page's;
//! - the admin imports the register file.
//!
//! At every step: no page is wider than the window, the step's primary action is in view
//! without scrolling sideways, and axe-core finds no critical or serious violation (moderate
//! and minor ones are listed). Screenshots go to `target/journeys/`.
//!
//! Needs `chromedriver` and `chromium` (`CHROMEDRIVER`, `CHROME` to point elsewhere) and
//! axe-core's `axe.min.js` (`AXE_JS`, default `target/axe/package/axe.min.js`; `.ci/run`
//! fetches it). Without them the test says so and passes, except under `CI=true`, where a
//! missing piece is a failure. `OUTREACH_BIN` names the binary (CI: the release build).

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use thirtyfour::prelude::*;

const PASSWORD: &str = "outreach-demo";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A program on the PATH (or named by `var`), if there is one.
fn program(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(var) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_for_port(port: u16, what: &str) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what} did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A child process killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The app on a fresh SQLite database with the demo data, logging JSON lines to `log`.
struct App {
    _process: Process,
    base: String,
    log: PathBuf,
}

fn start_app(dir: &Path, width: u32) -> App {
    let binary = std::env::var("OUTREACH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_BIN_EXE_outreach")));
    let db = dir.join("journeys.db");
    let _ = std::fs::remove_file(&db);
    let database_url = format!("sqlite://{}", db.display());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let log = dir.join(format!("server-{width}.log"));
    let log_file = std::fs::File::create(&log).expect("the server's log file");
    let child = Command::new(&binary)
        .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", &database_url)
        .env("BASE_URL", &base)
        .env("RUST_LOG", "info")
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
    let process = Process(child);
    wait_for_port(port, "the app");
    App {
        _process: process,
        base,
        log,
    }
}

/// The server's log of a whole walk: JSON lines, a line for every request with its id,
/// route pattern, status and time, and none of the walk's secrets or personal data.
fn check_log(log: &Path, secrets: &[String], findings: &mut Findings) {
    let text = std::fs::read_to_string(log).expect("the server's log");
    let mut answered = 0;
    for line in text.lines() {
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else {
            findings
                .problems
                .push(format!("a log line is not JSON: {line}"));
            continue;
        };
        if entry["target"] == "outreach::access" {
            answered += 1;
            let complete = entry["span"]["id"]
                .as_str()
                .is_some_and(|id| id.len() == 16)
                && entry["route"].is_string()
                && entry["status"].is_u64()
                && entry["ms"].is_number();
            if !complete {
                findings
                    .problems
                    .push(format!("a request's log line lacks a field: {line}"));
            }
        }
        if line.contains('@') {
            findings
                .problems
                .push(format!("a log line holds a mail address: {line}"));
        }
        for secret in secrets {
            if line.contains(secret.as_str()) {
                findings
                    .problems
                    .push(format!("a log line holds {secret:?}: {line}"));
            }
        }
    }
    if answered < 20 {
        findings.problems.push(format!(
            "the log has {answered} request lines for a whole walk ({})",
            log.display()
        ));
    }
}

/// What the journeys find, across steps.
#[derive(Default)]
struct Findings {
    /// Violations by impact: (page, rule, nodes).
    axe: BTreeMap<String, Vec<(String, String, u64)>>,
    problems: Vec<String>,
    steps: usize,
}

struct Browser {
    driver: WebDriver,
    width: u32,
    base: String,
    axe: Option<String>,
    shots: PathBuf,
}

impl Browser {
    async fn open(url: &str, width: u32, base: &str, axe: Option<String>) -> Browser {
        let mut caps = DesiredCapabilities::chrome();
        for arg in [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            &format!("--window-size={width},900"),
        ] {
            caps.add_arg(arg).expect("an argument");
        }
        if let Some(chrome) = program("CHROME", &["chromium", "chromium-browser", "google-chrome"])
        {
            caps.set_binary(&chrome.to_string_lossy()).expect("binary");
        }
        if width < 500 {
            caps.add_experimental_option(
                "mobileEmulation",
                json!({"deviceMetrics": {"width": width, "height": 844, "pixelRatio": 1.0}}),
            )
            .expect("mobile emulation");
        }
        let driver = WebDriver::new(url, caps)
            .await
            .expect("a WebDriver session");
        let shots = root().join("target/journeys");
        std::fs::create_dir_all(&shots).expect("target/journeys");
        Browser {
            driver,
            width,
            base: base.to_string(),
            axe,
            shots,
        }
    }

    async fn go(&self, path: &str) {
        self.driver
            .goto(format!("{}{path}", self.base))
            .await
            .expect("goto");
    }

    async fn path(&self) -> String {
        let url = self.driver.current_url().await.expect("url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    async fn find(&self, css: &str) -> WebElement {
        self.driver
            .find(By::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} on {}: {e}", self.width))
    }

    async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    /// Clicks what leads to another page, and waits for that page.
    async fn click(&self, css: &str) {
        self.driver
            .execute("window.journeyMark = 1;", vec![])
            .await
            .expect("mark the page");
        self.tap(css).await;
        for _ in 0..100 {
            let arrived = self
                .driver
                .execute(
                    "return typeof window.journeyMark === 'undefined' \
                     && document.readyState === 'complete';",
                    vec![],
                )
                .await
                .map(|r| r.json() == true)
                .unwrap_or(false);
            if arrived {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("clicking {css} at {} px led to no page", self.width);
    }

    /// Clicks what stays on the page (a choice, a box).
    async fn tap(&self, css: &str) {
        let target = self.find(css).await;
        target.scroll_into_view().await.expect("scroll");
        target
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css} at {} px: {e}", self.width));
    }

    /// The page now shown is the one a step should lead to.
    async fn expect(&self, part: &str) {
        let path = self.path().await;
        if !path.contains(part) {
            let source = self.driver.source().await.unwrap_or_default();
            panic!("at {} px, expected {part}, at {path}: {source}", self.width);
        }
    }

    async fn login(&self, email: &str) {
        self.driver.delete_all_cookies().await.expect("cookies");
        self.go("/login").await;
        self.fill("#email", email).await;
        self.fill("#password", PASSWORD).await;
        self.click("main form button[type=submit]").await;
    }

    async fn text(&self) -> String {
        self.find("main").await.text().await.expect("text")
    }

    /// The checks of a step: width, the primary action in view, axe; and a screenshot.
    async fn step(&self, findings: &mut Findings, journey: &str, name: &str, primary: &str) {
        findings.steps += 1;
        let page = format!(
            "{journey} / {name} at {} px ({})",
            self.width,
            self.path().await
        );
        let sizes = self
            .driver
            .execute(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
                vec![],
            )
            .await
            .expect("sizes");
        let (wide, window) = (
            sizes.json()[0].as_f64().unwrap_or(0.0),
            sizes.json()[1].as_f64().unwrap_or(0.0),
        );
        if wide > window {
            findings.problems.push(format!(
                "{page}: the page is {wide} px wide in a {window} px window"
            ));
        }
        let rect = self
            .driver
            .execute(
                "var e = document.querySelector(arguments[0]); if (!e) return null; \
                 var r = e.getBoundingClientRect(); \
                 return [r.left + window.scrollX, r.right + window.scrollX, r.width];",
                vec![json!(primary)],
            )
            .await
            .expect("the primary action");
        match rect.json().as_array() {
            Some(r) => {
                let (left, right, w) = (
                    r[0].as_f64().unwrap_or(-1.0),
                    r[1].as_f64().unwrap_or(f64::MAX),
                    r[2].as_f64().unwrap_or(0.0),
                );
                if left < 0.0 || right > window || w == 0.0 {
                    findings.problems.push(format!(
                        "{page}: the primary action {primary} is out of view ({left}–{right} of {window})"
                    ));
                }
            }
            None => findings
                .problems
                .push(format!("{page}: no primary action {primary}")),
        }
        if let Some(axe) = &self.axe {
            self.driver
                .execute(axe.as_str(), vec![])
                .await
                .expect("axe-core loads");
            let result = self
                .driver
                .execute_async(
                    "var done = arguments[arguments.length - 1]; \
                     axe.run(document, {resultTypes: ['violations']}).then(function (r) { \
                       done(r.violations.map(function (v) { \
                         return {id: v.id, impact: v.impact || 'minor', nodes: v.nodes.length}; })); \
                     }, function (e) { done(String(e)); });",
                    vec![],
                )
                .await
                .expect("axe.run");
            match result.json().as_array() {
                Some(violations) => {
                    for v in violations {
                        findings
                            .axe
                            .entry(v["impact"].as_str().unwrap_or("minor").to_string())
                            .or_default()
                            .push((
                                page.clone(),
                                v["id"].as_str().unwrap_or("?").to_string(),
                                v["nodes"].as_u64().unwrap_or(0),
                            ));
                    }
                }
                None => findings
                    .problems
                    .push(format!("{page}: axe failed: {}", result.json())),
            }
        }
        let shot = self.shots.join(format!(
            "{}-{journey}-{:02}-{name}.png",
            self.width, findings.steps
        ));
        // A full-page picture: the window as tall as the page, then back.
        let height = self
            .driver
            .execute("return document.documentElement.scrollHeight;", vec![])
            .await
            .ok()
            .and_then(|h| h.json().as_u64())
            .unwrap_or(900)
            .clamp(600, 6000);
        if self.width >= 500 {
            let _ = self
                .driver
                .set_window_rect(0, 0, self.width, height as u32)
                .await;
        }
        // (A phone's picture is its screen: its emulated size does not follow the window.)
        self.driver.screenshot(&shot).await.expect("a screenshot");
        if self.width >= 500 {
            let _ = self.driver.set_window_rect(0, 0, self.width, 900).await;
        }
    }

    /// A download of the signed-in user, as bytes.
    async fn download(&self, href: &str) -> Vec<u8> {
        let r = self
            .driver
            .execute_async(
                "var done = arguments[arguments.length - 1]; \
                 fetch(arguments[0], {credentials: 'same-origin'}).then(function (r) { return r.arrayBuffer(); }) \
                 .then(function (b) { done(Array.from(new Uint8Array(b))); }) \
                 .catch(function (e) { done([]); });",
                vec![json!(href)],
            )
            .await
            .expect("download");
        r.json()
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|b| b.as_u64())
                    .map(|b| b as u8)
                    .collect()
            })
            .unwrap_or_default()
    }
}

async fn walk(width: u32, driver_url: &str, axe: Option<String>, findings: &mut Findings) {
    let dir = root().join("target/journeys");
    std::fs::create_dir_all(&dir).expect("target/journeys");
    let app = start_app(&dir, width);
    let b = Browser::open(driver_url, width, &app.base, axe).await;
    // What the walk types or is given that no log may hold.
    let mut secrets: Vec<String> = vec![
        PASSWORD.into(),
        "It made us think about who we trust".into(),
        "Sam Teacher".into(),
    ];

    // A teacher with no account finds What's on and asks for one for their school.
    b.go("/").await;
    let join = "main a.button[href=\"/join\"]";
    b.step(findings, "visitor", "whats-on", join).await;
    b.click(join).await;
    b.fill("#q", "Coniston").await;
    b.click("main form.search button[type=submit]").await;
    b.step(findings, "visitor", "find-school", "ul.choice-list a")
        .await;
    b.click("ul.choice-list a").await;
    b.step(
        findings,
        "visitor",
        "join-form",
        "main form button[type=submit]",
    )
    .await;
    b.fill("#name", "Sam Teacher").await;
    b.fill("#email", "s.teacher@coniston-water-school.example.org")
        .await;
    b.click("main form button[type=submit]").await;
    b.step(findings, "visitor", "join-sent", "main .notice")
        .await;
    b.go("/login").await;

    // The school books places and asks for a visit, as the demo's line suggests.
    b.login("school@demo.example").await;
    b.expect("/whats-on").await;
    let book = ".demo-hint a[href$=\"/book\"]";
    b.step(findings, "school", "whats-on", book).await;
    let performance = b
        .find(book)
        .await
        .attr("href")
        .await
        .expect("href")
        .expect("the hint's link");
    b.click(book).await;
    b.step(
        findings,
        "school",
        "book-form",
        "main form button[type=submit]",
    )
    .await;
    // Sent with no pupils, the form comes back with its error by the field.
    b.click("main form button[type=submit]").await;
    b.find("#f-pupils[aria-invalid=\"true\"]").await;
    b.step(
        findings,
        "school",
        "book-error",
        "main form button[type=submit]",
    )
    .await;
    b.fill("#f-pupils", "30").await;
    b.fill("#f-staff", "3").await;
    b.click("main form button[type=submit]").await;
    b.expect("notice=booking_confirmed").await;
    b.step(findings, "school", "booked", "main .notice").await;
    // Back to the page that showed the error: an ordinary visit, never "resubmit?".
    b.driver.back().await.expect("back");
    let url = b.driver.current_url().await.expect("url");
    let text = b.driver.source().await.unwrap_or_default();
    assert!(
        url.path() == performance && !text.contains("ERR_CACHE_MISS"),
        "Back at {width} px asks to resend a form: {url}"
    );
    // The form's page, as the browser kept it or afresh: an ordinary page either way.
    b.find("main h1").await;
    b.go("/whats-on").await;
    b.click("a.date-link").await;
    b.step(
        findings,
        "school",
        "visit-form",
        "main form button[type=submit]",
    )
    .await;
    b.fill("#f-pupils", "60").await;
    b.click("main form button[type=submit]").await;
    b.expect("notice=booking_requested").await;
    b.step(findings, "school", "requested", "main .notice")
        .await;

    // The lead confirms the visit, enters attendance and completes an event.
    b.login("lead@demo.example").await;
    b.go("/requests").await;
    let confirm = "form[action$=\"/confirm\"] button[type=submit]";
    b.step(findings, "lead", "requests", confirm).await;
    b.click(confirm).await;
    b.expect("notice=request_confirmed").await;
    b.step(findings, "lead", "confirmed", "main .notice").await;
    // The visit held on the last weekday, from the lead's first page.
    b.go("/").await;
    b.click(".demo-hint a[href^=\"/events/\"]").await;
    let save = "form[action$=\"/attendance\"] button[type=submit]";
    b.step(findings, "lead", "event", save).await;
    b.fill("#pupils_0", "148").await;
    b.fill("#staff_0", "4").await;
    b.click(save).await;
    b.expect("notice=attendance_saved").await;
    let complete = "form[action$=\"/complete\"] button[type=submit]";
    b.step(findings, "lead", "attendance-saved", complete).await;
    b.click(complete).await;
    b.expect("notice=event_completed").await;
    b.step(findings, "lead", "completed", "main .notice").await;

    // The school makes a feedback link; a pupil answers it with no login.
    b.login("school@demo.example").await;
    b.go("/bookings").await;
    let feedback = "a[href$=\"/feedback\"]";
    b.step(findings, "feedback", "our-bookings", feedback).await;
    b.click(feedback).await;
    let make = "form[action$=\"/feedback-links\"] button[type=submit]";
    b.step(findings, "feedback", "links", make).await;
    b.click(make).await;
    let link = b.path().await;
    assert!(link.starts_with("/feedback/"), "{link}");
    if let Some(token) = link.split(['/', '?']).nth(2) {
        secrets.push(token.to_string());
    }
    b.driver
        .delete_all_cookies()
        .await
        .expect("a pupil's browser");
    b.go(link.split('?').next().unwrap_or_default()).await;
    let send = "main form button[type=submit]";
    b.step(findings, "feedback", "form", send).await;
    b.tap("input[name=rating][value=\"5\"]").await;
    b.fill("#quote", "It made us think about who we trust.")
        .await;
    b.tap("input[name=consent]").await;
    b.click(send).await;
    b.expect("thanks=1").await;
    b.step(findings, "feedback", "thanks", "main h1").await;

    // The funder downloads the workbook; its total audience is the page's.
    b.login("funder@demo.example").await;
    let download = "a[href$=\"/export/impact.xlsx\"]";
    b.step(findings, "funder", "landing", download).await;
    let page_total = b
        .driver
        .execute(
            "var rows = document.querySelectorAll('.figures-table tr.total td'); \
             return rows.length > 2 ? rows[2].textContent : null;",
            vec![],
        )
        .await
        .expect("the page's total");
    let page_total: f64 = page_total
        .json()
        .as_str()
        .expect("the total row's audience")
        .replace(',', "")
        .trim()
        .parse()
        .expect("a number");
    let href = b
        .find(download)
        .await
        .attr("href")
        .await
        .expect("href")
        .expect("a download address");
    let bytes = b.download(&href).await;
    let total = workbook_total_audience(bytes);
    assert_eq!(
        total, page_total,
        "the workbook's total audience is the page's"
    );
    b.click("a[href$=\"/report\"]").await;
    b.step(findings, "funder", "report", "main h1").await;

    // The admin imports the register.
    b.login("admin@demo.example").await;
    b.go("/import/schools").await;
    let upload = "main form button[type=submit]";
    b.step(findings, "admin", "import", upload).await;
    let file = root().join("tests/fixtures/register-sample.csv");
    b.find("#file")
        .await
        .send_keys(file.to_string_lossy())
        .await
        .expect("choose the file");
    b.click(upload).await;
    let report = b.text().await;
    assert!(report.contains("Import report"), "{report}");
    b.step(findings, "admin", "imported", "#report-h").await;
    b.go("/audit?entity=attendance").await;
    let text = b.text().await;
    assert!(text.contains("pupils") && text.contains("added"), "{text}");
    b.step(findings, "admin", "audit", "main form button[type=submit]")
        .await;
    for name in ["outreach_session", "outreach_csrf"] {
        if let Ok(cookie) = b.driver.get_named_cookie(name).await {
            secrets.push(cookie.value);
        }
    }

    b.driver.quit().await.expect("quit");
    let log = app.log.clone();
    drop(app);
    check_log(&log, &secrets, findings);
}

/// The total audience of the workbook's Summary (the row "Total", column "Audience").
fn workbook_total_audience(bytes: Vec<u8>) -> f64 {
    use calamine::{Data, Reader, Xlsx};
    let mut book = Xlsx::new(std::io::Cursor::new(bytes)).expect("an xlsx workbook");
    let sheet = book.worksheet_range("Summary").expect("a Summary sheet");
    let header = sheet
        .rows()
        .position(|r| r.iter().any(|c| c == &Data::String("Audience".into())))
        .expect("the delivery table");
    let column = sheet
        .rows()
        .nth(header)
        .and_then(|r| r.iter().position(|c| c == &Data::String("Audience".into())))
        .expect("Audience");
    let total = sheet
        .rows()
        .skip(header)
        .find(|r| r.first() == Some(&Data::String("Total".into())))
        .expect("a Total row");
    match &total[column] {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("the total audience is {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_journeys_on_a_phone_and_a_desktop() {
    let Some(chromedriver) = program("CHROMEDRIVER", &["chromedriver"]) else {
        assert!(
            !in_ci(),
            "CI needs chromedriver (chromium-driver) for the journeys"
        );
        eprintln!(
            "journeys skipped: no chromedriver on the PATH (apt-get install chromium-driver)"
        );
        return;
    };
    let axe_path = std::env::var("AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target/axe/package/axe.min.js"));
    let axe = std::fs::read_to_string(&axe_path).ok();
    if axe.is_none() {
        assert!(!in_ci(), "CI needs axe-core at {}", axe_path.display());
        eprintln!("journeys without axe: no {}", axe_path.display());
    }
    let port = free_port();
    let _driver = Process(
        Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver"),
    );
    wait_for_port(port, "chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let mut findings = Findings::default();
    for width in [390, 1280] {
        walk(width, &url, axe.clone(), &mut findings).await;
    }
    let counts: Vec<String> = ["critical", "serious", "moderate", "minor"]
        .iter()
        .map(|i| {
            let found = findings.axe.get(*i).map(Vec::len).unwrap_or(0);
            format!("{i} {found}")
        })
        .collect();
    let mut summary = format!(
        "journeys: {} steps at 390 and 1280 px in {:.1} s; axe-core violations by impact: {}\n",
        findings.steps,
        started.elapsed().as_secs_f64(),
        counts.join(", ")
    );
    for impact in ["moderate", "minor"] {
        for (page, rule, nodes) in findings.axe.get(impact).into_iter().flatten() {
            summary.push_str(&format!(
                "  axe {impact}: {rule} ({nodes} nodes) on {page}\n"
            ));
        }
    }
    eprint!("{summary}");
    let _ = std::fs::write(root().join("target/journeys/summary.txt"), &summary);
    let mut failures = findings.problems.clone();
    for impact in ["critical", "serious"] {
        for (page, rule, nodes) in findings.axe.get(impact).into_iter().flatten() {
            failures.push(format!("axe {impact}: {rule} ({nodes} nodes) on {page}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
