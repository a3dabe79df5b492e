//! `outreach demo`, `import schools`, `export impact` and `report impact`.

use std::path::Path;

use super::{conn_of, describe, open, system_actor};
use crate::db;
use crate::domain::import::{self, ImportOptions};

pub fn demo(database_url: &str, reset: bool) -> Result<(), String> {
    let pool = open(database_url, 1)?;
    let mut conn = conn_of(&pool)?;
    let base = std::env::var("BASE_URL").ok();
    if reset {
        let started = std::time::Instant::now();
        let summary = crate::domain::demo::reset(&mut conn).map_err(describe)?;
        say_loaded(
            &summary,
            started.elapsed(),
            "put the demo back to its first state",
            base.as_deref(),
        );
        Ok(())
    } else {
        load_demo(&mut conn, base.as_deref())
    }
}

/// Loads the demo and says what it made; `base` is the app's address, for the feedback
/// form's link.
pub fn load_demo(conn: &mut db::AnyConnection, base: Option<&str>) -> Result<(), String> {
    let started = std::time::Instant::now();
    let summary = crate::domain::demo::load(conn).map_err(describe)?;
    say_loaded(&summary, started.elapsed(), "loaded the demo", base);
    Ok(())
}

fn say_loaded(
    summary: &crate::domain::demo::DemoSummary,
    took: std::time::Duration,
    what: &str,
    base: Option<&str>,
) {
    println!(
        "{what} in {:.2} s: the case study, Ruby 2018 (programme {}) and County Lines 2019 (programme {}); \
         the current round, {} (programme {}), dated from today; {} schools",
        took.as_secs_f64(),
        summary.ruby_id,
        summary.county_lines_id,
        crate::domain::demo::current::TITLE,
        summary.current_id,
        summary.schools,
    );
    println!(
        "log in as {} with the password '{}'",
        crate::domain::demo::describe(&summary.accounts),
        crate::domain::demo::DEMO_PASSWORD
    );
    println!(
        "a pupil's feedback form for the demo school's visit: {}{}",
        base.unwrap_or("").trim_end_matches('/'),
        summary.feedback_path
    );
}

/// A large programme for benchmarks.
pub fn synthetic(database_url: &str, events: i64, rows_per_event: i64) -> Result<(), String> {
    if !(1..=10_000_000).contains(&events) || !(1..=1_000).contains(&rows_per_event) {
        return Err("--events must be 1 to 10,000,000 and --rows-per-event 1 to 1,000".into());
    }
    let pool = open(database_url, 1)?;
    let bar = indicatif::ProgressBar::new(events as u64);
    let started = std::time::Instant::now();
    let made = crate::domain::synthetic::generate(
        &mut *conn_of(&pool)?,
        events,
        rows_per_event,
        &|done, _| bar.set_position(done as u64),
    )
    .map_err(describe)?;
    bar.finish_and_clear();
    // After a bulk load PostgreSQL plans by stale statistics until autovacuum comes round;
    // a real install's tables grow slowly and are analysed as they go.
    if let crate::db::AnyConnection::Postgresql(c) = &mut *conn_of(&pool)? {
        use diesel::connection::SimpleConnection;
        c.batch_execute("ANALYZE events; ANALYZE attendance;")
            .map_err(|e| format!("cannot analyse the new rows: {e}"))?;
    }
    println!(
        "generated programme {} with {} events and {} attendance rows in {:.1} s",
        made.programme_id,
        made.events,
        made.attendance_rows,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The impact workbook of a programme, written to a file.
pub fn export_impact(
    database_url: &str,
    programme: i32,
    out: &Path,
    time_zone: &str,
) -> Result<(), String> {
    let tz: chrono_tz::Tz = time_zone
        .parse()
        .map_err(|_| format!("TIME_ZONE '{time_zone}' is not a known time zone"))?;
    let pool = open(database_url, 1)?;
    let mut conn = conn_of(&pool)?;
    let started = std::time::Instant::now();
    let now = crate::app::now();
    let (report, _) = crate::export::programme_report(&mut conn, &system_actor(), programme, now)
        .map_err(describe)?;
    let today = now.and_utc().with_timezone(&tz).date_naive();
    // Written beside the destination and moved into place when whole, so a failure never
    // leaves half a workbook under the name asked for.
    let cannot = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", out.display());
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    // Readable as a file written the ordinary way would be (the umask still applies).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut part = builder.tempfile_in(dir).map_err(|e| cannot(&e))?;
    crate::export::xlsx::workbook_to(&mut conn, &report, now, tz, today, part.as_file_mut())
        .map_err(describe)?;
    part.as_file().sync_all().map_err(|e| cannot(&e))?;
    let size = part.as_file().metadata().map_err(|e| cannot(&e))?.len();
    part.persist(out).map_err(|e| cannot(&e))?;
    println!(
        "wrote {} ({} bytes) in {:.2} s",
        out.display(),
        size,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A programme's figures as JSON on standard output; the time taken on standard error.
pub fn report_impact(database_url: &str, programme: i32) -> Result<(), String> {
    let pool = open(database_url, 1)?;
    let mut conn = conn_of(&pool)?;
    let started = std::time::Instant::now();
    let impact = crate::domain::reports::programme_impact(
        &mut conn,
        &system_actor(),
        programme,
        crate::app::now(),
    )
    .map_err(describe)?;
    let took = started.elapsed();
    println!(
        "{}",
        serde_json::to_string_pretty(&impact).map_err(|e| e.to_string())?
    );
    eprintln!("computed in {:.3} s", took.as_secs_f64());
    Ok(())
}

/// `outreach check figures`: the figures served against a recount, for every programme
/// and organisation.
pub fn check_figures(database_url: &str) -> Result<(), String> {
    let pool = open(database_url, 1)?;
    let mut conn = conn_of(&pool)?;
    let started = std::time::Instant::now();
    let found =
        crate::domain::reports::check_figures(&mut conn, crate::app::now()).map_err(describe)?;
    for d in &found.differences {
        println!("DIFFERENT {d}");
    }
    println!(
        "checked the figures of {} programmes and organisations in {:.2} s: {}",
        found.checked,
        started.elapsed().as_secs_f64(),
        if found.differences.is_empty() {
            "all match a recount of the rows".to_string()
        } else {
            format!("{} differ", found.differences.len())
        }
    );
    if found.differences.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} figures differ from a recount",
            found.differences.len()
        ))
    }
}

/// Schools from the national register's CSV, with a progress bar and a report.
pub fn import_schools(database_url: &str, file: &Path, include_closed: bool) -> Result<(), String> {
    let pool = open(database_url, 1)?;
    let source = std::io::BufReader::new(
        std::fs::File::open(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?,
    );
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let mut conn = conn_of(&pool)?;
    let report = import::import_schools_from(
        &mut conn,
        None,
        source,
        ImportOptions { include_closed },
        &progress,
    )
    .map_err(describe)?;
    bar.finish_and_clear();
    println!(
        "inserted {}, updated {}, unchanged {}, skipped (closed) {}, rejected {}",
        report.inserted,
        report.updated,
        report.unchanged,
        report.skipped_closed,
        report.rejected.len()
    );
    for r in &report.rejected {
        println!("  line {}: {}", r.line, r.reason);
    }
    Ok(())
}

/// The kept mail queued again; a running `serve` with `SMTP_URL` sends it.
pub fn send_kept(database_url: &str) -> Result<(), String> {
    let pool = open(database_url, 1)?;
    let n = crate::domain::mail::send_kept(&mut *conn_of(&pool)?, None).map_err(describe)?;
    println!("queued {n} kept message(s); `outreach serve` with SMTP_URL set sends them");
    Ok(())
}
