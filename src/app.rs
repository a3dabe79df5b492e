//! The shared application state: the pool, the settings and the clock.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use chrono::{NaiveDateTime, Utc};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Config;
use crate::db::{AnyConnection, Backend, DbPool};
use crate::error::{AppError, AppResult};

pub type AppState = Arc<App>;

pub struct App {
    pub pool: DbPool,
    pub config: Config,
    /// Exports that may run at once (half the pool).
    exports: Arc<Semaphore>,
    /// Password checks that may run at once.
    hashing: Arc<Semaphore>,
    /// Database visits that may run at once: as many as the pool has connections, so the
    /// rest wait here, on the async runtime, rather than as blocking threads parked on the
    /// pool's lock (which a profile under 64 connections found costly).
    visits: Arc<Semaphore>,
    /// Turns of the bookings of each event being booked (see `booking_turn`); an event's
    /// entry lives as long as someone holds or waits for one of its turns.
    turns: std::sync::Mutex<HashMap<i32, Weak<Semaphore>>>,
    /// What `/metrics` reports.
    pub metrics: crate::web::observe::Metrics,
}

/// Entries of `turns` above which the finished ones are swept out.
const TURNS_SWEPT_ABOVE: usize = 256;

/// How many bookings of one event go to the database at once from one process: two, so
/// that one's work before the programme's hold overlaps the other's under it.
const TURN_TAKERS: usize = 2;

/// A turn of a booking (see `App::booking_turn`), given back when the booking commits;
/// `Turn::default()` waits in no line (the demo, the command line).
#[derive(Default)]
pub struct Turn {
    _held: Option<OwnedSemaphorePermit>,
}

impl App {
    pub fn new(pool: DbPool, config: Config) -> AppState {
        crate::domain::when::set_zone(config.time_zone);
        crate::domain::schedule::visits::set_session_times(config.session_times);
        let exports = Arc::new(Semaphore::new((config.pool_size as usize / 2).max(1)));
        let hashing = Arc::new(Semaphore::new(config.hashes_at_once.max(1)));
        let visits = Arc::new(Semaphore::new(pool.max_size().max(1) as usize));
        Arc::new(App {
            pool,
            config,
            exports,
            hashing,
            visits,
            turns: std::sync::Mutex::new(HashMap::new()),
            metrics: Default::default(),
        })
    }

    /// A turn for a booking of the event. Bookings of one event follow one another
    /// through the programme's hold in the database anyway (which keeps the rule across
    /// processes); taking turns here first means those of this process wait on the async
    /// runtime, holding no connection and no thread, and the database sees two waiters
    /// per process rather than dozens (`cargo bench --bench booking -- postgres`, 16
    /// clients: 690 booking requests/s with one turn, 800 with two, 760 with three; 630
    /// with none, all 16 waiting in PostgreSQL's lock queue). 503 when no turn comes
    /// within the pool's wait. Each event has its own turns: bookings of other events do
    /// not wait for them.
    pub async fn booking_turn(&self, event_id: i32) -> AppResult<Turn> {
        let turn = {
            let mut turns = self
                .turns
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if turns.len() > TURNS_SWEPT_ABOVE {
                turns.retain(|_, t| t.strong_count() > 0);
            }
            match turns.get(&event_id).and_then(Weak::upgrade) {
                Some(t) => t,
                None => {
                    let t = Arc::new(Semaphore::new(TURN_TAKERS));
                    turns.insert(event_id, Arc::downgrade(&t));
                    t
                }
            }
        };
        match tokio::time::timeout(self.config.pool_wait, turn.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Turn {
                _held: Some(permit),
            }),
            _ => Err(AppError::Unavailable(
                "the service is busy; please try again in a moment".into(),
            )),
        }
    }

    /// A turn to check a password (argon2 takes about 19 MB and a core for a moment), so a
    /// flood of logins queues here instead of exhausting memory; 503 when none comes free.
    pub async fn hash_permit(&self) -> Result<OwnedSemaphorePermit, AppError> {
        match tokio::time::timeout(self.config.pool_wait, self.hashing.clone().acquire_owned())
            .await
        {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(AppError::Unavailable(
                "many people are logging in; please try again in a moment".into(),
            )),
        }
    }

    /// A turn to build an export; 503 when none comes free in the pool's wait time.
    pub async fn export_permit(&self) -> Result<OwnedSemaphorePermit, AppError> {
        let busy = || {
            AppError::Unavailable(
                "several downloads are being made; please try again in a moment".into(),
            )
        };
        match tokio::time::timeout(self.config.pool_wait, self.exports.clone().acquire_owned())
            .await
        {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(busy()),
        }
    }

    /// Why the pool is exhausted, when every connection is in use and requests wait for one.
    pub fn pool_exhausted(&self) -> Option<String> {
        let waiting = self
            .metrics
            .waiting
            .load(std::sync::atomic::Ordering::Relaxed);
        (self.visits.available_permits() == 0 && waiting > 0).then(|| {
            format!(
                "the database pool is exhausted: all {} connections in use, {} request(s) waiting",
                self.pool.max_size(),
                waiting.max(0)
            )
        })
    }

    /// The settings the scheduling rules need.
    pub fn rules(&self) -> crate::domain::Rules {
        crate::domain::Rules::of(&self.config)
    }

    pub fn backend(&self) -> Backend {
        self.config.database.backend
    }

    /// Runs blocking database work on the blocking pool, never on the async runtime.
    pub async fn db<T, F>(&self, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, AppError> + Send + 'static,
    {
        let waiting = Waiting::count(&self.metrics.waiting);
        let permit =
            tokio::time::timeout(self.config.pool_wait, self.visits.clone().acquire_owned()).await;
        drop(waiting);
        let turn = match permit {
            Ok(Ok(permit)) => permit,
            _ => {
                tracing::warn!("no database connection free");
                return Err(AppError::Unavailable(
                    "the service is busy; please try again in a moment".into(),
                ));
            }
        };
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await?
    }
}

impl App {
    /// Runs blocking work that takes connections from the pool itself, only while it needs
    /// them (e.g. a login, which hashes a password between two short database visits).
    pub async fn with_pool<T, F>(&self, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&DbPool) -> Result<T, AppError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || work(&pool)).await?
    }
}

/// One database visit waiting for a connection, counted until dropped (also when the
/// request is given up while it waits).
struct Waiting<'a>(&'a std::sync::atomic::AtomicI64);

impl<'a> Waiting<'a> {
    fn count(waiting: &'a std::sync::atomic::AtomicI64) -> Waiting<'a> {
        waiting.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Waiting(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The current time in UTC, as stored in the database.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}
