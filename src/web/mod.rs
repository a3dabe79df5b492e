//! The HTTP side: router, extractors, middleware, pages and the JSON API.

pub mod api;
pub mod auth;
pub mod calendar;
pub mod charts;
pub mod client;
pub mod csrf;
pub mod exports;
pub mod forms;
pub mod layers;
pub mod limits;
pub mod observe;
pub mod once;
pub mod pages;
pub mod picker;
pub mod records;
pub mod respond;
pub mod router;
pub mod server;
pub mod upload;
pub mod view;

/// Marks requests that arrived under `/api/v1`: they authenticate by bearer token and
/// get JSON errors.
#[derive(Debug, Clone, Copy)]
pub struct ApiScope;

pub const SESSION_COOKIE: &str = "outreach_session";
pub const CSRF_COOKIE: &str = "outreach_csrf";
