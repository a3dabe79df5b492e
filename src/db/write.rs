//! Write transactions that hold under contention. On SQLite a write transaction starts as
//! a writer (`BEGIN IMMEDIATE`), so it waits its turn (the busy timeout) instead of failing
//! when it first writes after reading. On either backend a transaction the database gave up
//! on (a deadlock, a serialisation failure, SQLite still busy) is tried again from the
//! start a few times, after a short pause, before the error reaches the user as 503.

use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, Connection, TransactionManager};

use crate::db::AnyConnection;
use crate::error::{AppError, AppResult};

/// How many times a transaction is tried in all.
const ATTEMPTS: u32 = 6;

/// No new attempt starts this long after the first began: SQLite reports "busy" only after
/// its own wait (the busy timeout), and a user should not wait several of those.
const PATIENCE: Duration = Duration::from_secs(3);

/// Runs `work` in a write transaction (a savepoint when one is already open; only the
/// outermost transaction is tried again). `work` may run more than once, each time on a
/// database rolled back to where it started.
pub fn write<T>(
    conn: &mut AnyConnection,
    mut work: impl FnMut(&mut AnyConnection) -> AppResult<T>,
) -> AppResult<T> {
    if in_transaction(conn) {
        return conn.transaction(|c| work(c));
    }
    let started = Instant::now();
    let mut attempt = 1;
    loop {
        match once(conn, &mut work) {
            Err(AppError::Contention) if attempt < ATTEMPTS && started.elapsed() < PATIENCE => {
                tracing::debug!(attempt, "a transaction met contention; trying again");
                std::thread::sleep(pause(attempt));
                attempt += 1;
            }
            other => return other,
        }
    }
}

fn in_transaction(conn: &mut AnyConnection) -> bool {
    let status =
        <AnyConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn);
    !matches!(status.transaction_depth(), Ok(None))
}

fn once<T>(
    conn: &mut AnyConnection,
    work: &mut impl FnMut(&mut AnyConnection) -> AppResult<T>,
) -> AppResult<T> {
    match conn {
        AnyConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        AnyConnection::Postgresql(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    type Manager = <AnyConnection as Connection>::TransactionManager;
    match work(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => match Manager::rollback_transaction(conn) {
            Ok(()) => Err(e),
            // The connection's state is unknown, so the work is not tried on it again.
            Err(rollback) => {
                tracing::warn!(error = %rollback, cause = %e, "a rollback failed");
                Err(AppError::Internal(anyhow::Error::new(rollback)))
            }
        },
    }
}

/// 5, 10, 20, 40, 80 ms, each with up to as much again at random, so two losers do not
/// meet again at once.
fn pause(attempt: u32) -> Duration {
    let base = 5u64 << (attempt - 1).min(5);
    let mut bytes = [0u8; 8];
    let jitter = match getrandom::fill(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes) % (base + 1),
        Err(_) => base / 2,
    };
    Duration::from_millis(base + jitter)
}
