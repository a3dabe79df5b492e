//! The one error type: every failure a handler can meet, rendered as JSON or as a page.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("please log in")]
    Unauthenticated,
    #[error("you do not have permission to do that")]
    Forbidden,
    #[error("this form has expired or did not come from Outreach; reload the page and try again")]
    CsrfRejected,
    #[error("not found")]
    NotFound,
    #[error("{message}")]
    Invalid {
        message: String,
        fields: FieldErrors,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Busy (no database connection free in time) or too slow: try again shortly.
    #[error("{0}")]
    Unavailable(String),
    /// The database gave up on a transaction because another one held what it needed (a
    /// deadlock, a serialisation failure, SQLite's lock): `db::write` tries it again.
    #[error("many changes are being made at once; please try again in a moment")]
    Contention,
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

/// What an error page needs; attached to every error response so the page layer can
/// turn the JSON body into HTML.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub status: StatusCode,
    pub message: String,
}

impl AppError {
    pub fn invalid(fields: FieldErrors) -> AppError {
        AppError::Invalid {
            message: "some fields are not valid".into(),
            fields,
        }
    }

    pub fn field(name: &str, why: impl Into<String>) -> AppError {
        let mut fields = FieldErrors::new();
        fields.insert(name.to_string(), why.into());
        AppError::invalid(fields)
    }

    pub fn internal(e: impl std::fmt::Display) -> AppError {
        AppError::Internal(anyhow::anyhow!("{e}"))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::CsrfRejected => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unavailable(_) | AppError::Contention => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden => "forbidden",
            AppError::CsrfRejected => "csrf",
            AppError::NotFound => "not_found",
            AppError::Invalid { .. } => "invalid",
            AppError::Conflict(_) => "conflict",
            AppError::BadRequest(_) => "bad_request",
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::PayloadTooLarge(_) => "too_large",
            AppError::Unavailable(_) | AppError::Contention => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// The field errors, if this is a validation failure.
    pub fn fields(&self) -> Option<&FieldErrors> {
        match self {
            AppError::Invalid { fields, .. } => Some(fields),
            _ => None,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let AppError::Internal(e) = &self {
            tracing::error!(error = %e, "internal error");
        }
        let message = self.to_string();
        let fields = self.fields().cloned().unwrap_or_default();
        let body = serde_json::json!({
            "error": { "code": self.code(), "message": message, "fields": fields }
        });
        let mut response = (status, Json(body)).into_response();
        if matches!(
            self,
            AppError::Unavailable(_) | AppError::Contention | AppError::TooManyRequests(_)
        ) {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("5"),
            );
        }
        response
            .extensions_mut()
            .insert(ErrorInfo { status, message });
        response
    }
}

impl From<DieselError> for AppError {
    fn from(e: DieselError) -> AppError {
        match e {
            DieselError::NotFound => AppError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                AppError::Conflict(format!(
                    "that conflicts with an existing record ({})",
                    info.constraint_name()
                        .or(info.column_name())
                        .unwrap_or("a unique value is already taken")
                ))
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                AppError::Conflict(
                    "that refers to a record that does not exist or is still in use".into(),
                )
            }
            DieselError::DatabaseError(DatabaseErrorKind::CheckViolation, _) => {
                AppError::BadRequest("a value is outside what is allowed".into())
            }
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                AppError::Contention
            }
            DieselError::DatabaseError(_, info) if is_contention(info.message()) => {
                AppError::Contention
            }
            other => AppError::Internal(anyhow::Error::new(other)),
        }
    }
}

/// A database's words for "another transaction holds what this one needs": PostgreSQL's
/// deadlock (SQLSTATE 40P01, which diesel does not name), SQLite's busy and locked.
fn is_contention(message: &str) -> bool {
    message.contains("deadlock detected")
        || message.contains("database is locked")
        || message.contains("database table is locked")
        || message.contains("could not serialize access")
}

/// No connection came free in time: the service is busy, which is no bug of the request.
impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> AppError {
        tracing::warn!(error = %e, "no database connection free");
        AppError::Unavailable("the service is busy; please try again in a moment".into())
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> AppError {
        AppError::Internal(anyhow::Error::new(e))
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> AppError {
        AppError::Internal(anyhow::Error::new(e))
    }
}
