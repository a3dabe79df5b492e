//! Pages of the school directory (staff).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;

use crate::app::AppState;
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::ListQuery;
use crate::domain::schools::{self, School};
use crate::domain::types::Phase;
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
    let page = app.db(move |c| schools::list(c, &p)).await?;
    let mut view = ListView::new(
        ctx.titled("Schools"),
        "/schools",
        &page,
        params.q,
        params.include_archived,
    );
    view.new_href = Some("/schools/new".into());
    view.new_label = "Add a school".into();
    view.search_hint = "Name, URN, district, town or postcode".into();
    view.empty = "No schools yet. Add one, or import the national register's CSV (Import).".into();
    view.columns = vec!["Name", "URN", "District", "Phase", "Postcode", "Pupils"];
    view.rows = page
        .items
        .iter()
        .map(|s| {
            vec![
                Cell::link(label(s), format!("/schools/{}", s.id)),
                Cell::opt(s.urn),
                Cell::text(&s.district),
                Cell::text(s.phase),
                Cell::text(&s.postcode),
                Cell::opt(s.pupils),
            ]
        })
        .collect();
    view.page()
}

fn label(s: &School) -> String {
    if s.archived {
        format!("{} (archived)", s.name)
    } else {
        s.name.clone()
    }
}

fn fields(input: &Input, errors: &FieldErrors) -> Vec<FormField> {
    let mut f = FieldsBuilder::new(input, errors);
    f.required("name", "Name", "text");
    f.add("urn", "URN", "number")
        .hint("The register's unique reference number, if the school has one.");
    f.choice::<Phase>("phase", "Phase", None);
    f.add("local_authority", "Local authority", "text");
    f.add("district", "District", "text");
    f.add("town", "Town", "text");
    f.add("postcode", "Postcode", "text");
    f.add("pupils", "Number of pupils", "number");
    f.add("fsm_percent", "Free school meals (%)", "number");
    f.finish()
}

fn input_of(s: &School) -> Input {
    Input::from_pairs([
        ("name", s.name.clone()),
        ("urn", s.urn.map(|v| v.to_string()).unwrap_or_default()),
        ("phase", s.phase.as_str().to_string()),
        ("local_authority", s.local_authority.clone()),
        ("district", s.district.clone()),
        ("town", s.town.clone()),
        ("postcode", s.postcode.clone()),
        (
            "pupils",
            s.pupils.map(|v| v.to_string()).unwrap_or_default(),
        ),
        (
            "fsm_percent",
            s.fsm_percent.map(|v| v.to_string()).unwrap_or_default(),
        ),
    ])
}

fn form(
    ctx: PageCtx,
    action: String,
    input: &Input,
    errors: &FieldErrors,
    existing: Option<&School>,
) -> FormView {
    FormView {
        more: None,
        ctx,
        action,
        fields: fields(input, errors),
        submit: if existing.is_some() {
            "Save changes"
        } else {
            "Add school"
        },
        cancel: "/schools".into(),
        message: None,
        archive: existing.map(|s| ArchiveAction {
            action: format!("/schools/{}", s.id),
            archived: s.archived,
            what: "school",
        }),
    }
}

pub async fn new_form(ctx: Ctx, Staff(_): Staff) -> AppResult<Response> {
    let input = Input::from_pairs([("phase", "primary")]);
    form(
        ctx.titled("Add a school"),
        "/schools".into(),
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
        .db(move |c| schools::create(c, &actor, schools::parse(&submitted)?))
        .await;
    match form_outcome(result)? {
        Ok(s) => Ok(done(&format!("/schools/{}", s.id), "created")),
        Err((errors, message)) => form(
            ctx.titled("Add a school"),
            "/schools".into(),
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
    let school = app.db(move |c| schools::get(c, id)).await?;
    form(
        ctx.titled(school.name.clone()),
        format!("/schools/{id}"),
        &input_of(&school),
        &FieldErrors::new(),
        Some(&school),
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
    let school = app.db(move |c| schools::get(c, id)).await?;
    let result = app
        .db(move |c| schools::update(c, &actor, id, schools::parse(&submitted)?))
        .await;
    match form_outcome(result)? {
        Ok(_) => Ok(done(&format!("/schools/{id}"), "saved")),
        Err((errors, message)) => form(
            ctx.titled(school.name.clone()),
            format!("/schools/{id}"),
            &input,
            &errors,
            Some(&school),
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
    app.db(move |c| schools::set_archived(c, &actor, id, true))
        .await?;
    Ok(done(&format!("/schools/{id}"), "archived"))
}

pub async fn restore(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    app.db(move |c| schools::set_archived(c, &actor, id, false))
        .await?;
    Ok(done(&format!("/schools/{id}"), "restored"))
}
