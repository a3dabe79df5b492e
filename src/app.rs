//! The shared application state: the pool, the settings and the clock.

use std::sync::Arc;

use chrono::{NaiveDateTime, Utc};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Config;
use crate::db::{AnyConnection, Backend, DbPool};
use crate::error::AppError;

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
        })
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
        let turn =
            match tokio::time::timeout(self.config.pool_wait, self.visits.clone().acquire_owned())
                .await
            {
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

/// The current time in UTC, as stored in the database.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}
