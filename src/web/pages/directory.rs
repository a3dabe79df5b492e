//! The pages every directory record shares, written once: the searchable, paginated list,
//! the add and edit forms, archive and restore. Each kind of record says what differs (its
//! columns and fields) by implementing `Resource` on its `Record`; the routes instantiate
//! the handlers.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;

use crate::app::AppState;
use crate::db::AnyConnection;
use crate::domain::input::Input;
use crate::domain::list::{ListParams, ListQuery, Page};
use crate::error::{AppResult, FieldErrors};
use crate::web::auth::Allowed;
use crate::web::forms::{form_input, form_outcome};
pub use crate::web::records::Record;
use crate::web::respond::{confirmed, done};
use crate::web::view::{ArchiveAction, Cell, Ctx, FormField, FormView, ListView, RenderPage};

/// A kind of record with the whole set of directory pages.
pub trait Resource: Record {
    /// "venue"
    const ONE: &'static str;
    /// "Venues"
    const TITLE: &'static str;
    /// "Add a venue"
    const ADD: &'static str;
    const SEARCH_HINT: &'static str;
    /// What an empty list says to do.
    const EMPTY: &'static str;
    const COLUMNS: &'static [&'static str];
    /// The fields of a new record, before anything is typed.
    fn blank() -> Input;
    fn list(c: &mut AnyConnection, params: &ListParams) -> AppResult<Page<Self::Item>>;
    fn get(c: &mut AnyConnection, id: i32) -> AppResult<Self::Item>;
    fn id(item: &Self::Item) -> i32;
    fn name(item: &Self::Item) -> String;
    fn archived(item: &Self::Item) -> bool;
    /// The row's cells after the name.
    fn cells(item: &Self::Item) -> Vec<Cell>;
    fn fields(input: &Input, errors: &FieldErrors) -> Vec<FormField>;
    fn input_of(item: &Self::Item) -> Input;
}

pub async fn list<R: Resource>(
    State(app): State<AppState>,
    ctx: Ctx,
    _who: R::Writer,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let params = q.params();
    let p = params.clone();
    let page = app.db(move |c| R::list(c, &p)).await?;
    let mut view = ListView::new(
        ctx.titled(R::TITLE),
        R::PATH,
        &page,
        params.q,
        params.include_archived,
    );
    view.new_href = Some(format!("{}/new", R::PATH));
    view.new_label = R::ADD.into();
    view.search_hint = R::SEARCH_HINT.into();
    view.empty = R::EMPTY.into();
    view.columns = R::COLUMNS.to_vec();
    view.rows = page
        .items
        .iter()
        .map(|item| {
            let mut name = R::name(item);
            if R::archived(item) {
                name.push_str(" (archived)");
            }
            let mut row = vec![Cell::link(name, format!("{}/{}", R::PATH, R::id(item)))];
            row.extend(R::cells(item));
            row
        })
        .collect();
    view.page()
}

fn form<R: Resource>(
    ctx: crate::web::view::PageCtx,
    input: &Input,
    errors: &FieldErrors,
    existing: Option<&R::Item>,
) -> FormView {
    FormView {
        more: None,
        ctx,
        action: match existing {
            Some(item) => format!("{}/{}", R::PATH, R::id(item)),
            None => R::PATH.to_string(),
        },
        fields: R::fields(input, errors),
        submit: if existing.is_some() {
            "Save changes"
        } else {
            R::ADD
        },
        cancel: R::PATH.into(),
        message: None,
        archive: existing.map(|item| ArchiveAction {
            action: format!("{}/{}", R::PATH, R::id(item)),
            archived: R::archived(item),
            what: R::ONE,
        }),
    }
}

pub async fn new_form<R: Resource>(ctx: Ctx, _who: R::Writer) -> AppResult<Response> {
    form::<R>(ctx.titled(R::ADD), &R::blank(), &FieldErrors::new(), None).page()
}

pub async fn create<R: Resource>(
    State(app): State<AppState>,
    ctx: Ctx,
    who: R::Writer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (actor, submitted) = (who.user().actor(), input.clone());
    let result = app.db(move |c| R::create(c, &actor, &submitted)).await;
    match form_outcome(result)? {
        Ok(item) => Ok(done(&format!("{}/{}", R::PATH, R::id(&item)), "created")),
        Err((errors, message)) => {
            form::<R>(ctx.titled(R::ADD), &input, &errors, None).rejected(&message)
        }
    }
}

pub async fn edit_form<R: Resource>(
    State(app): State<AppState>,
    ctx: Ctx,
    _who: R::Writer,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let item = app.db(move |c| R::get(c, id)).await?;
    form::<R>(
        ctx.titled(R::name(&item)),
        &R::input_of(&item),
        &FieldErrors::new(),
        Some(&item),
    )
    .page()
}

pub async fn update<R: Resource>(
    State(app): State<AppState>,
    ctx: Ctx,
    who: R::Writer,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (actor, submitted) = (who.user().actor(), input.clone());
    let item = app.db(move |c| R::get(c, id)).await?;
    let result = app.db(move |c| R::update(c, &actor, id, &submitted)).await;
    match form_outcome(result)? {
        Ok(_) => Ok(done(&format!("{}/{id}", R::PATH), "saved")),
        Err((errors, message)) => {
            form::<R>(ctx.titled(R::name(&item)), &input, &errors, Some(&item)).rejected(&message)
        }
    }
}

/// Archives, once its box is ticked.
pub async fn archive<R: Record>(
    State(app): State<AppState>,
    who: R::Writer,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    confirmed(&pairs)?;
    let actor = who.user().actor();
    app.db(move |c| R::set_archived(c, &actor, id, true))
        .await?;
    Ok(done(&format!("{}/{id}", R::PATH), "archived"))
}

pub async fn restore<R: Record>(
    State(app): State<AppState>,
    who: R::Writer,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = who.user().actor();
    app.db(move |c| R::set_archived(c, &actor, id, false))
        .await?;
    Ok(done(&format!("{}/{id}", R::PATH), "restored"))
}
