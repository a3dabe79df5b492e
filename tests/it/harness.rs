//! The test harness: a fresh database per test on SQLite and on PostgreSQL, seeded users
//! of each role with API tokens and sessions, and helpers to call the router in memory.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use http_body_util::BodyExt;
use outreach::app::{App, AppState};
use outreach::config::Config;
use outreach::db::{self, schema, AnyConnection};
use outreach::domain::types::Role;
use outreach::domain::{sessions, tokens, users};
use serde_json::Value;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
pub const PASSWORD: &str = "a long test password";
/// The install's `METRICS_TOKEN` in tests.
pub const METRICS_TOKEN: &str = "a-metrics-token-of-some-length";

/// The form token of a browser holding this session cookie.
pub fn csrf_for(session: &str) -> String {
    outreach::web::csrf::form_token(Some(session), Some(CSRF)).expect("token")
}

pub struct Seeded {
    pub user_id: i32,
    pub token: String,
    pub session: String,
}

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub school_id: i32,
    pub organisation_id: i32,
    pub admin: Seeded,
    pub lead: Seeded,
    pub funder: Seeded,
    pub school: Seeded,
    pub database_url: String,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

fn postgres_server() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// The PostgreSQL server, if reachable; with CI=true an unreachable server fails the test.
fn postgres_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let url = format!("{}/postgres", postgres_server().trim_end_matches('/'));
        match diesel::PgConnection::establish(&url) {
            Ok(_) => true,
            Err(e) => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("CI=true but PostgreSQL at {url} is unreachable: {e}");
                }
                // Written past the test harness's capture, so it shows in the summary.
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "NOTICE: PostgreSQL at {url} is unreachable ({e}); the PostgreSQL runs of the tests are skipped"
                );
                false
            }
        }
    })
}

fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| users::hash_password(PASSWORD).expect("hash"))
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Queries sent, by the database address of the connection that sent them.
static QUERIES: OnceLock<std::sync::Mutex<std::collections::HashMap<String, usize>>> =
    OnceLock::new();

/// Counts every query of every connection made from now on, by its database address (so a
/// test reads its own database's count, whatever other tests run at the same time).
fn count_queries() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        QUERIES.get_or_init(Default::default);
        let _ = diesel::connection::set_default_instrumentation(counter);
    });
}

fn counter() -> Option<Box<dyn diesel::connection::Instrumentation>> {
    use diesel::connection::InstrumentationEvent;
    let mut url: Option<String> = None;
    Some(Box::new(
        move |event: InstrumentationEvent<'_>| match event {
            InstrumentationEvent::StartEstablishConnection { url: u, .. } => {
                url = Some(u.to_string())
            }
            InstrumentationEvent::StartQuery { .. } => {
                if let (Some(u), Some(Ok(mut m))) = (&url, QUERIES.get().map(|m| m.lock())) {
                    *m.entry(u.clone()).or_insert(0) += 1;
                }
            }
            _ => {}
        },
    ))
}

/// Runs a test body against a fresh app on the given backend.
pub async fn run<F, Fut>(db: Db, body: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    if let Some(app) = TestApp::new(db).await {
        body(app).await;
    }
}

/// Declares a test that runs on both backends: `both!(name);` above `async fn name(app: TestApp)`.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::harness::run($crate::harness::Db::Sqlite, super::$name).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::harness::run($crate::harness::Db::Postgres, super::$name).await
            }
        }
    };
}

/// A fresh database: a file in `dir`, or a new PostgreSQL database (with the server and
/// its name, to drop it afterwards); `None` when PostgreSQL is not there.
fn fresh_database(db: Db, dir: &tempfile::TempDir) -> Option<(String, Option<(String, String)>)> {
    match db {
        Db::Sqlite => Some((
            format!("sqlite://{}", dir.path().join("test.db").display()),
            None,
        )),
        Db::Postgres => {
            if !postgres_available() {
                return None;
            }
            let server = postgres_server().trim_end_matches('/').to_string();
            let name = format!(
                "outreach_test_{}_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst),
                &tokens::random_secret().expect("random")[..8]
            );
            let mut admin =
                diesel::PgConnection::establish(&format!("{server}/postgres")).expect("postgres");
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .expect("create database");
            Some((format!("{server}/{name}"), Some((server, name))))
        }
    }
}

/// What every test starts with: an organisation, a school, and a user of each role.
struct Seed {
    organisation_id: i32,
    school_id: i32,
    admin: Seeded,
    lead: Seeded,
    funder: Seeded,
    school: Seeded,
}

fn seed(c: &mut db::AnyConnection) -> Result<Seed, outreach::error::AppError> {
    let now = outreach::app::now();
    let organisation_id: i32 = diesel::insert_into(schema::organisations::table)
        .values((
            schema::organisations::name.eq("Test Partnership"),
            schema::organisations::kind.eq("partnership"),
            schema::organisations::created_at.eq(now),
            schema::organisations::updated_at.eq(now),
        ))
        .returning(schema::organisations::id)
        .get_result(c)?;
    let school_id: i32 = diesel::insert_into(schema::schools::table)
        .values((
            schema::schools::name.eq("Seed School"),
            schema::schools::urn.eq(900001),
            schema::schools::created_at.eq(now),
            schema::schools::updated_at.eq(now),
        ))
        .returning(schema::schools::id)
        .get_result(c)?;
    Ok(Seed {
        organisation_id,
        school_id,
        admin: seed_user(c, Role::Admin, None, None)?,
        lead: seed_user(c, Role::Lead, None, None)?,
        funder: seed_user(c, Role::Funder, None, Some(organisation_id))?,
        school: seed_user(c, Role::School, Some(school_id), None)?,
    })
}

/// `ROLE@example.org` with an API token and a session.
fn seed_user(
    c: &mut db::AnyConnection,
    role: Role,
    school: Option<i32>,
    org: Option<i32>,
) -> Result<Seeded, outreach::error::AppError> {
    use outreach::domain::input::TextEnum;
    let now = outreach::app::now();
    let user_id: i32 = diesel::insert_into(schema::users::table)
        .values((
            schema::users::email.eq(format!("{}@example.org", role.as_str())),
            schema::users::name.eq(format!("Test {}", role.label())),
            schema::users::password_hash.eq(password_hash()),
            schema::users::role.eq(role.as_str()),
            schema::users::school_id.eq(school),
            schema::users::organisation_id.eq(org),
            schema::users::created_at.eq(now),
            schema::users::updated_at.eq(now),
        ))
        .returning(schema::users::id)
        .get_result(c)?;
    let (_, token) = tokens::create(c, None, user_id, "test")?;
    let config = Config::new("sqlite://x", "127.0.0.1:0", None, "Europe/London", None)
        .map_err(outreach::error::AppError::internal)?;
    let session = sessions::start(c, &config, user_id)?;
    Ok(Seeded {
        user_id,
        token,
        session,
    })
}

impl TestApp {
    pub async fn new(db: Db) -> Option<TestApp> {
        outreach::db::tune_sqlite();
        count_queries();
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, pg) = fresh_database(db, &dir)?;
        let config = Config::new(
            &database_url,
            "127.0.0.1:0",
            Some("http://localhost"),
            "Europe/London",
            None,
        )
        .expect("config");
        // `/metrics` is on, so the route matrix checks that no role's token opens it.
        let mut config = config;
        config.metrics_token = Some(METRICS_TOKEN.into());
        let pool = db::connect(&config.database, 6).expect("connect");
        db::migrate(&mut pool.get().expect("conn")).expect("migrate");
        let state = App::new(pool, config);
        let seeded = state.db(seed).await.expect("seed");
        Some(TestApp {
            router: outreach::build_router(state.clone()),
            state,
            school_id: seeded.school_id,
            organisation_id: seeded.organisation_id,
            admin: seeded.admin,
            lead: seeded.lead,
            funder: seeded.funder,
            school: seeded.school,
            database_url,
            _dir: dir,
            pg,
        })
    }

    pub fn seeded(&self, role: Role) -> &Seeded {
        match role {
            Role::Admin => &self.admin,
            Role::Lead => &self.lead,
            Role::Funder => &self.funder,
            Role::School => &self.school,
        }
    }

    pub async fn send(
        &self,
        request: Request<Body>,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let response = self.router.clone().oneshot(request).await.expect("router");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        (status, headers, body)
    }

    /// Calls the API as a role (None: no token) with an optional JSON body.
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        role: Option<Role>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("/api/v1{path}"));
        if let Some(role) = role {
            req = req.header(
                header::AUTHORIZATION,
                format!("Bearer {}", self.seeded(role).token),
            );
        }
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let (status, _, bytes) = self.send(req.body(body).expect("request")).await;
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str, role: Option<Role>) -> (StatusCode, Value) {
        self.api(Method::GET, path, role, None).await
    }

    pub async fn post(&self, path: &str, role: Option<Role>, body: Value) -> (StatusCode, Value) {
        self.api(Method::POST, path, role, Some(body)).await
    }

    fn cookies(&self, role: Option<Role>) -> String {
        let mut cookies = format!("outreach_csrf={CSRF}");
        if let Some(role) = role {
            cookies.push_str(&format!("; outreach_session={}", self.seeded(role).session));
        }
        cookies
    }

    /// The token a form of this role's browser carries (bound to its session).
    pub fn csrf(&self, role: Option<Role>) -> String {
        match role {
            Some(r) => csrf_for(&self.seeded(r).session),
            None => CSRF.to_string(),
        }
    }

    /// GETs a page as a role (None: anonymous).
    pub async fn page(
        &self,
        path: &str,
        role: Option<Role>,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let req = Request::builder()
            .uri(path)
            .header(header::COOKIE, self.cookies(role))
            .body(Body::empty())
            .expect("request");
        let (status, headers, body) = self.send(req).await;
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    /// POSTs a form as a role; `csrf` false leaves the token out.
    pub async fn form(
        &self,
        path: &str,
        role: Option<Role>,
        fields: &[(&str, &str)],
        csrf: bool,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let req = self.form_request(path, role, fields, csrf);
        let (status, headers, body) = self.send(req).await;
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    /// The request [`TestApp::form`] sends, to send through another router.
    pub fn form_request(
        &self,
        path: &str,
        role: Option<Role>,
        fields: &[(&str, &str)],
        csrf: bool,
    ) -> Request<Body> {
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        if csrf {
            serializer.append_pair("csrf_token", &self.csrf(role));
        }
        for (k, v) in fields {
            serializer.append_pair(k, v);
        }
        Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, self.cookies(role))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(serializer.finish()))
            .expect("request")
    }

    /// The links (`{kind}<64 hex>`, e.g. `/invitations/…`) in the mail sent to `to`, oldest
    /// first.
    pub async fn mailed_links(&self, to: &str, kind: &'static str) -> Vec<String> {
        let to = to.to_string();
        let bodies: Vec<String> = self
            .with_db(move |c| {
                schema::outbox::table
                    .filter(schema::outbox::to_address.eq(to))
                    .order(schema::outbox::id.asc())
                    .select(schema::outbox::body)
                    .load(c)
                    .unwrap_or_default()
            })
            .await;
        bodies
            .iter()
            .filter_map(|b| {
                let at = b.find(kind)?;
                b.get(at..at + kind.len() + 64).map(str::to_string)
            })
            .collect()
    }

    /// POSTs a form as a visitor who is not signed in, from the client address `client`:
    /// status, headers and page.
    pub async fn anon_form(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        client: &str,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("csrf_token", CSRF);
        for (k, v) in fields {
            form.append_pair(k, v);
        }
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, format!("outreach_csrf={CSRF}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.finish()))
            .expect("request");
        let addr: std::net::SocketAddr = format!("{client}:40000").parse().expect("an address");
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(addr));
        let (s, h, body) = self.send(req).await;
        (s, h, String::from_utf8_lossy(&body).into_owned())
    }

    /// A page as someone holding this session: the status, and where it sends them
    /// followed by the body.
    pub async fn page_as(&self, session: &str, path: &str) -> (StatusCode, String) {
        let req = Request::builder()
            .uri(path)
            .header(
                header::COOKIE,
                format!("outreach_csrf={CSRF}; outreach_session={session}"),
            )
            .body(Body::empty())
            .expect("request");
        let (s, h, body) = self.send(req).await;
        let at = h
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .unwrap_or("")
            .to_string();
        (s, format!("{at}{}", String::from_utf8_lossy(&body)))
    }

    /// How many queries the app has sent to this test's database so far.
    pub fn queries(&self) -> usize {
        let marker = match &self.pg {
            Some((_, name)) => name.clone(),
            None => self._dir.path().display().to_string(),
        };
        QUERIES
            .get()
            .and_then(|m| m.lock().ok())
            .map(|m| {
                m.iter()
                    .filter(|(url, _)| url.contains(&marker))
                    .map(|(_, n)| *n)
                    .sum()
            })
            .unwrap_or(0)
    }

    /// The number of rows in a table.
    pub async fn count(&self, table: &'static str) -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        self.state
            .db(move |c| {
                Ok(
                    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
                        .get_result::<N>(c)?
                        .n,
                )
            })
            .await
            .expect("count")
    }

    /// Runs diesel code against the test database.
    pub async fn with_db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> T + Send + 'static,
    ) -> T {
        self.state.db(move |c| Ok(f(c))).await.expect("db")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        drop_database(self.pg.take());
    }
}

fn drop_database(pg: Option<(String, String)>) {
    if let Some((server, name)) = pg {
        if let Ok(mut admin) = diesel::PgConnection::establish(&format!("{server}/postgres")) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}

/// Another database on the test's backend, empty (not migrated), dropped with it.
pub struct Spare {
    pub url: String,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl Drop for Spare {
    fn drop(&mut self) {
        drop_database(self.pg.take());
    }
}

impl TestApp {
    pub fn spare_database(&self) -> Spare {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = if self.pg.is_some() {
            Db::Postgres
        } else {
            Db::Sqlite
        };
        let (url, pg) = fresh_database(db, &dir).expect("a database like the test's");
        Spare { url, _dir: dir, pg }
    }
}

/// Every (method, route) of the router: the pages and the rest read from the files that
/// build them, the API from its document (built with its router from one table).
pub fn router_routes() -> std::collections::BTreeSet<(String, String)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut found = std::collections::BTreeSet::new();
    let api = serde_json::to_value(outreach::web::api::document()).expect("the API document");
    for (path, item) in api["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            found.insert((method.to_uppercase(), path.clone()));
        }
    }
    for file in ["src/web/pages/mod.rs", "src/web/router.rs"] {
        let text = std::fs::read_to_string(format!("{root}/{file}")).expect("router source");
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            let after = &rest[at + ".route(".len()..];
            let mut depth = 1;
            let end = after
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map(|(i, _)| i)
                .expect("a closing parenthesis");
            let call = &after[..end];
            rest = &after[end..];
            let Some(quoted) = call.trim_start().strip_prefix('"') else {
                continue;
            };
            let (route, handlers) = quoted.split_once('"').expect("a quoted route");
            for method in ["get", "post", "put", "delete", "patch"] {
                let called = handlers.match_indices(&format!("{method}(")).any(|(i, _)| {
                    i == 0 || !handlers[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                });
                if called {
                    found.insert((method.to_uppercase(), route.to_string()));
                }
            }
        }
    }
    found
}

/// Every route of the router (see `router_routes`), with its path parameters filled in
/// (`{id}` by `ids[0]`, or 1), so a test can walk them all.
pub fn all_routes(ids: &[&str]) -> Vec<String> {
    let id = ids.first().copied().unwrap_or("1");
    let routes: std::collections::BTreeSet<String> = router_routes()
        .into_iter()
        .map(|(_, route)| route)
        .collect();
    let mut paths = Vec::new();
    for path in routes {
        let filled: Vec<String> = path
            .split('/')
            .map(|seg| match seg {
                "{kind}" => "programmes".to_string(),
                "{file}" => "schools.csv".to_string(),
                "{year}" => "2019".to_string(),
                "{token}" => "0".repeat(64),
                s if s.starts_with('{') => id.to_string(),
                s => s.to_string(),
            })
            .collect();
        paths.push(filled.join("/"));
    }
    assert!(paths.len() > 100, "found only {} routes", paths.len());
    paths
}

/// A POST of JSON to an API path on a router with a bearer token: the status and JSON.
/// For requests sent at once from spawned tasks (or to a second router).
pub async fn post_json(
    router: Router,
    token: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    send_json(router, token, Method::POST, path, body).await
}

/// A request with a JSON body to an API path on a router with a bearer token.
pub async fn send_json(
    router: Router,
    token: &str,
    method: Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(format!("/api/v1{path}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("a request");
    let response = router.oneshot(req).await.expect("a response");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

impl TestApp {
    /// A second app process on the same database: its own pool and router.
    pub fn second_router(&self) -> Router {
        let url = db::DbUrl::parse(&self.database_url).expect("url");
        let pool = db::connect(&url, 6).expect("connect");
        let config = Config::new(
            &self.database_url,
            "127.0.0.1:0",
            Some("http://localhost"),
            "Europe/London",
            None,
        )
        .expect("config");
        outreach::build_router(App::new(pool, config))
    }
}

/// A port no one listens on, for a server a test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `outreach serve` on the database and port, with these settings; killed when dropped.
pub struct Serve(pub std::process::Child);

impl Serve {
    /// Starts it and waits (at most 30 s) until it listens.
    pub fn start(database_url: &str, port: u16, settings: &[(&str, &str)]) -> Serve {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_outreach"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", database_url)
            .env("RUST_LOG", "error")
            .envs(settings.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("serve");
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "serve on {port} did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Serve(child)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
