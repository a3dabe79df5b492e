//! Outreach: bookings, attendance and impact reporting for theatre-in-education.

pub mod app;
pub mod backups;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod export;
pub mod impact;
pub mod mailer;
pub mod web;

pub use web::router::build_router;
