//! Who is asking: the user behind a bearer token (API) or a session cookie (pages), and
//! the role checks every route uses as extractors.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum_extra::extract::CookieJar;

use crate::app::AppState;
use crate::domain::types::Role;
use crate::domain::users::User;
use crate::domain::{sessions, tokens};
use crate::error::{AppError, AppResult};
use crate::web::{ApiScope, SESSION_COOKIE};

/// The logged-in user, if any. Resolved once per request and cached in its extensions.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<User>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, AppError> {
        if let Some(cached) = parts.extensions.get::<MaybeUser>() {
            return Ok(cached.clone());
        }
        let api = parts.extensions.get::<ApiScope>().is_some();
        let found = MaybeUser(user_of(app, &parts.headers, api).await?);
        parts.extensions.insert(found.clone());
        Ok(found)
    }
}

/// The bearer token a request carries, unchecked.
pub fn bearer_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get(AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The session cookie a request carries, unchecked (a real one is 64 characters).
pub fn session_secret(headers: &HeaderMap) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The live user behind a request: its bearer token for the API, its session cookie for
/// the pages.
pub async fn user_of(app: &AppState, headers: &HeaderMap, api: bool) -> AppResult<Option<User>> {
    let secret = if api {
        bearer_secret(headers)
    } else {
        session_secret(headers)
    };
    let Some(secret) = secret else {
        return Ok(None);
    };
    app.db(move |c| {
        if api {
            tokens::authenticate(c, &secret)
        } else {
            sessions::user_of(c, &secret)
        }
    })
    .await
}

/// Any logged-in user.
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, AppError> {
        match MaybeUser::from_request_parts(parts, app).await? {
            MaybeUser(Some(user)) => Ok(CurrentUser(user)),
            MaybeUser(None) => Err(AppError::Unauthenticated),
        }
    }
}

/// A role extractor's user, for code generic over who may call it.
pub trait Allowed {
    fn user(self) -> User;
}

/// Declares an extractor that admits only the listed roles.
macro_rules! role_extractor {
    ($(#[$meta:meta])* $name:ident, [$($role:path),+]) => {
        $(#[$meta])*
        pub struct $name(pub User);

        impl Allowed for $name {
            fn user(self) -> User {
                self.0
            }
        }

        impl FromRequestParts<AppState> for $name {
            type Rejection = AppError;

            async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, AppError> {
                let CurrentUser(user) = CurrentUser::from_request_parts(parts, app).await?;
                if matches!(user.role, $($role)|+) {
                    Ok($name(user))
                } else {
                    Err(AppError::Forbidden)
                }
            }
        }
    };
}

role_extractor!(
    /// A project lead or an admin: runs programmes, schools and venues.
    Staff,
    [Role::Lead, Role::Admin]
);
role_extractor!(
    /// An admin: users, organisations, import, audit log.
    Admin,
    [Role::Admin]
);
role_extractor!(
    /// A school or staff: may book, see bookings and cancel (a school only its own).
    Booker,
    [Role::School, Role::Lead, Role::Admin]
);
role_extractor!(
    /// Staff or a funder: may read programmes and organisations (a funder only its own).
    Reader,
    [Role::Lead, Role::Admin, Role::Funder]
);

pub use crate::web::client::ClientAddr;
