//! The ceiling a page of Outreach is measured against (issue 14): a bare axum + askama +
//! diesel page that reads 40 rows (schools, by name) through the same pool as the app
//! and renders them, with nothing else (no session, no CSRF, no layout).
//!
//! `cargo run --release --example baseline -- DATABASE_URL [BIND]` (default bind
//! 127.0.0.1:3997), then `wrk -t2 -c64 -d10s http://127.0.0.1:3997/` beside the app's
//! pages; see `benches/pages.sh`.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use diesel::prelude::*;
use outreach::db::{self, schema::schools, DbPool};

#[derive(Template)]
#[template(
    source = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Schools</title></head><body><main><h1>Schools</h1><table>{% for (id, name, postcode) in rows %}<tr><td>{{ id }}</td><td>{{ name }}</td><td>{{ postcode }}</td></tr>{% endfor %}</table></main></body></html>",
    ext = "html"
)]
struct Page {
    rows: Vec<(i32, String, String)>,
}

async fn page(State(pool): State<DbPool>) -> Response {
    let rows = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        schools::table
            .order((schools::name.asc(), schools::id.asc()))
            .limit(40)
            .select((schools::id, schools::name, schools::postcode))
            .load::<(i32, String, String)>(&mut conn)
            .map_err(|e| e.to_string())
    })
    .await;
    match rows {
        Ok(Ok(rows)) => match (Page { rows }).render() {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()
            }
        },
        Ok(Err(e)) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
        Err(e) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: baseline DATABASE_URL [BIND]")?;
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:3997".into());
    let url = db::DbUrl::parse(&url)?;
    // The app's own pool sizes (see `Config::new`).
    let size = match url.backend {
        db::Backend::Sqlite => 8,
        db::Backend::Postgres => 16,
    };
    let pool = db::connect(&url, size)?;
    let app = Router::new().route("/", get(page)).with_state(pool);
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    println!("baseline on http://{bind}/");
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}
