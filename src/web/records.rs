//! The directory's kinds of record as the web sees them: who may write each, where its
//! pages live, and its create, update and archive operations. Pages and the API are both
//! written once over `Record` (see `pages::directory` and `api::records`), so they always
//! call the same domain operation with the same input and checks.

use axum::extract::FromRequestParts;
use serde::Serialize;

use crate::app::AppState;
use crate::db::AnyConnection;
use crate::domain::input::Input;
use crate::domain::{organisations, programmes, schools, users, venues, Actor};
use crate::error::{AppError, AppResult};
use crate::web::auth::{Admin, Allowed, Staff};

pub trait Record: 'static {
    type Item: Serialize + Send + 'static;
    /// Who may write: the role extractor of the writing handlers.
    type Writer: FromRequestParts<AppState, Rejection = AppError> + Allowed + Send;
    /// Where its pages live: "/venues".
    const PATH: &'static str;
    fn create(c: &mut AnyConnection, a: &Actor, input: &Input) -> AppResult<Self::Item>;
    fn update(c: &mut AnyConnection, a: &Actor, id: i32, input: &Input) -> AppResult<Self::Item>;
    fn set_archived(
        c: &mut AnyConnection,
        a: &Actor,
        id: i32,
        archived: bool,
    ) -> AppResult<Self::Item>;
}

pub struct Organisations;
pub struct Schools;
pub struct Venues;
pub struct Programmes;
pub struct Users;

impl Record for Organisations {
    type Item = organisations::Organisation;
    type Writer = Admin;
    const PATH: &'static str = "/organisations";
    fn create(c: &mut AnyConnection, a: &Actor, input: &Input) -> AppResult<Self::Item> {
        organisations::create(c, a, organisations::parse(input)?)
    }
    fn update(c: &mut AnyConnection, a: &Actor, id: i32, input: &Input) -> AppResult<Self::Item> {
        organisations::update(c, a, id, organisations::parse(input)?)
    }
    fn set_archived(c: &mut AnyConnection, a: &Actor, id: i32, on: bool) -> AppResult<Self::Item> {
        organisations::set_archived(c, a, id, on)
    }
}

impl Record for Schools {
    type Item = schools::School;
    type Writer = Staff;
    const PATH: &'static str = "/schools";
    fn create(c: &mut AnyConnection, a: &Actor, input: &Input) -> AppResult<Self::Item> {
        schools::create(c, a, schools::parse(input)?)
    }
    fn update(c: &mut AnyConnection, a: &Actor, id: i32, input: &Input) -> AppResult<Self::Item> {
        schools::update(c, a, id, schools::parse(input)?)
    }
    fn set_archived(c: &mut AnyConnection, a: &Actor, id: i32, on: bool) -> AppResult<Self::Item> {
        schools::set_archived(c, a, id, on)
    }
}

impl Record for Venues {
    type Item = venues::Venue;
    type Writer = Staff;
    const PATH: &'static str = "/venues";
    fn create(c: &mut AnyConnection, a: &Actor, input: &Input) -> AppResult<Self::Item> {
        venues::create(c, a, venues::parse(input)?)
    }
    fn update(c: &mut AnyConnection, a: &Actor, id: i32, input: &Input) -> AppResult<Self::Item> {
        venues::update(c, a, id, venues::parse(input)?)
    }
    fn set_archived(c: &mut AnyConnection, a: &Actor, id: i32, on: bool) -> AppResult<Self::Item> {
        venues::set_archived(c, a, id, on)
    }
}

impl Record for Programmes {
    type Item = programmes::Programme;
    type Writer = Staff;
    const PATH: &'static str = "/programmes";
    fn create(c: &mut AnyConnection, a: &Actor, input: &Input) -> AppResult<Self::Item> {
        let parsed = programmes::parse(c, input)?;
        programmes::create(c, a, parsed)
    }
    fn update(c: &mut AnyConnection, a: &Actor, id: i32, input: &Input) -> AppResult<Self::Item> {
        let parsed = programmes::parse(c, input)?;
        programmes::update(c, a, id, parsed)
    }
    fn set_archived(c: &mut AnyConnection, a: &Actor, id: i32, on: bool) -> AppResult<Self::Item> {
        programmes::set_archived(c, a, id, on)
    }
}

impl Record for Users {
    type Item = users::User;
    type Writer = Admin;
    const PATH: &'static str = "/users";
    fn create(c: &mut AnyConnection, a: &Actor, input: &Input) -> AppResult<Self::Item> {
        let parsed = users::parse(c, input, true)?;
        users::create(c, Some(a), parsed)
    }
    fn update(c: &mut AnyConnection, a: &Actor, id: i32, input: &Input) -> AppResult<Self::Item> {
        let parsed = users::parse(c, input, false)?;
        users::update(c, a, id, parsed)
    }
    fn set_archived(c: &mut AnyConnection, a: &Actor, id: i32, on: bool) -> AppResult<Self::Item> {
        users::set_archived(c, a, id, on)
    }
}
