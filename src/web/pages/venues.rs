//! Pages of the venue list (staff).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;

use crate::app::AppState;
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::ListQuery;
use crate::domain::types::VenueKind;
use crate::domain::venues::{self, Venue};
use crate::error::{AppResult, FieldErrors};
use crate::web::auth::Staff;
use crate::web::pages::{confirmed, done, form_input, form_outcome};
use crate::web::view::{
    ArchiveAction, Cell, Ctx, FieldsBuilder, FormField, FormView, ListView, PageCtx, RenderPage,
};

pub async fn list(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(_): Staff,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let params = q.params();
    let p = params.clone();
    let page = app.db(move |c| venues::list(c, &p)).await?;
    let mut view = ListView::new(
        ctx.titled("Venues"),
        "/venues",
        &page,
        params.q,
        params.include_archived,
    );
    view.new_href = Some("/venues/new".into());
    view.new_label = "Add a venue".into();
    view.search_hint = "Name or postcode".into();
    view.empty =
        "No venues yet. Add the arts centres and halls where public performances are held.".into();
    view.columns = vec!["Name", "Kind", "Postcode", "Capacity"];
    view.rows = page
        .items
        .iter()
        .map(|v| {
            let name = if v.archived {
                format!("{} (archived)", v.name)
            } else {
                v.name.clone()
            };
            vec![
                Cell::link(name, format!("/venues/{}", v.id)),
                Cell::text(v.kind),
                Cell::text(&v.postcode),
                Cell::opt(v.capacity),
            ]
        })
        .collect();
    view.page()
}

fn fields(input: &Input, errors: &FieldErrors) -> Vec<FormField> {
    let mut f = FieldsBuilder::new(input, errors);
    f.required("name", "Name", "text");
    f.choice::<VenueKind>("kind", "Kind", None);
    f.add("postcode", "Postcode", "text");
    f.add("capacity", "Capacity (places)", "number");
    f.finish()
}

fn input_of(v: &Venue) -> Input {
    Input::from_pairs([
        ("name", v.name.clone()),
        ("kind", v.kind.as_str().to_string()),
        ("postcode", v.postcode.clone()),
        (
            "capacity",
            v.capacity.map(|c| c.to_string()).unwrap_or_default(),
        ),
    ])
}

fn form(
    ctx: PageCtx,
    action: String,
    input: &Input,
    errors: &FieldErrors,
    existing: Option<&Venue>,
) -> FormView {
    FormView {
        more: None,
        ctx,
        action,
        fields: fields(input, errors),
        submit: if existing.is_some() {
            "Save changes"
        } else {
            "Add venue"
        },
        cancel: "/venues".into(),
        message: None,
        archive: existing.map(|v| ArchiveAction {
            action: format!("/venues/{}", v.id),
            archived: v.archived,
            what: "venue",
        }),
    }
}

pub async fn new_form(ctx: Ctx, Staff(_): Staff) -> AppResult<Response> {
    let input = Input::from_pairs([("kind", "arts_centre")]);
    form(
        ctx.titled("Add a venue"),
        "/venues".into(),
        &input,
        &FieldErrors::new(),
        None,
    )
    .page()
}

pub async fn create(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (actor, submitted) = (user.actor(), input.clone());
    let result = app
        .db(move |c| venues::create(c, &actor, venues::parse(&submitted)?))
        .await;
    match form_outcome(result)? {
        Ok(v) => Ok(done(&format!("/venues/{}", v.id), "created")),
        Err((errors, message)) => form(
            ctx.titled("Add a venue"),
            "/venues".into(),
            &input,
            &errors,
            None,
        )
        .rejected(&message),
    }
}

pub async fn edit_form(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(_): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let venue = app.db(move |c| venues::get(c, id)).await?;
    form(
        ctx.titled(venue.name.clone()),
        format!("/venues/{id}"),
        &input_of(&venue),
        &FieldErrors::new(),
        Some(&venue),
    )
    .page()
}

pub async fn update(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (actor, submitted) = (user.actor(), input.clone());
    let venue = app.db(move |c| venues::get(c, id)).await?;
    let result = app
        .db(move |c| venues::update(c, &actor, id, venues::parse(&submitted)?))
        .await;
    match form_outcome(result)? {
        Ok(_) => Ok(done(&format!("/venues/{id}"), "saved")),
        Err((errors, message)) => form(
            ctx.titled(venue.name.clone()),
            format!("/venues/{id}"),
            &input,
            &errors,
            Some(&venue),
        )
        .rejected(&message),
    }
}

pub async fn archive(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    confirmed(&pairs)?;
    let actor = user.actor();
    app.db(move |c| venues::set_archived(c, &actor, id, true))
        .await?;
    Ok(done(&format!("/venues/{id}"), "archived"))
}

pub async fn restore(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    app.db(move |c| venues::set_archived(c, &actor, id, false))
        .await?;
    Ok(done(&format!("/venues/{id}"), "restored"))
}
