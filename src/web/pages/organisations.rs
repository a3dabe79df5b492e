//! Pages of organisations (funders, partnerships) with their priorities and targets (admin).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;

use crate::app::AppState;
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::ListQuery;
use crate::domain::organisations::{self as orgs, Organisation, Priority};
use crate::domain::types::{OrganisationKind, TargetMeasure};
use crate::error::{AppResult, FieldErrors};
use crate::web::auth::Admin;
use crate::web::forms::{form_input, form_outcome};
use crate::web::respond::done;
use crate::web::view::{
    ArchiveAction, Cell, Ctx, FieldsBuilder, FormField, FormView, ListView, PageCtx, RenderPage,
};

pub async fn list(
    State(app): State<AppState>,
    ctx: Ctx,
    Admin(_): Admin,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let params = q.params();
    let p = params.clone();
    let page = app.db(move |c| orgs::list(c, &p, None)).await?;
    let mut view = ListView::new(
        ctx.titled("Organisations"),
        "/organisations",
        &page,
        params.q,
        params.include_archived,
    );
    view.new_href = Some("/organisations/new".into());
    view.new_label = "Add an organisation".into();
    view.search_hint = "Name".into();
    view.empty =
        "No organisations yet. Add the funders and partnerships whose programmes you run.".into();
    view.columns = vec!["Name", "Kind"];
    view.rows = page
        .items
        .iter()
        .map(|o| {
            let name = if o.archived {
                format!("{} (archived)", o.name)
            } else {
                o.name.clone()
            };
            vec![
                Cell::link(name, format!("/organisations/{}", o.id)),
                Cell::text(o.kind),
            ]
        })
        .collect();
    view.page()
}

fn fields(input: &Input, errors: &FieldErrors) -> Vec<FormField> {
    let mut f = FieldsBuilder::new(input, errors);
    f.required("name", "Name", "text");
    f.choice::<OrganisationKind>("kind", "Kind", None);
    f.finish()
}

fn form(
    ctx: PageCtx,
    action: String,
    input: &Input,
    errors: &FieldErrors,
    existing: Option<&Organisation>,
) -> FormView {
    FormView {
        more: None,
        ctx,
        action,
        fields: fields(input, errors),
        submit: if existing.is_some() {
            "Save changes"
        } else {
            "Add organisation"
        },
        cancel: existing
            .map(|o| format!("/organisations/{}", o.id))
            .unwrap_or_else(|| "/organisations".into()),
        message: None,
        archive: existing.map(|o| ArchiveAction {
            action: format!("/organisations/{}", o.id),
            archived: o.archived,
            what: "organisation",
        }),
    }
}

pub async fn new_form(ctx: Ctx, Admin(_): Admin) -> AppResult<Response> {
    let input = Input::from_pairs([("kind", "partnership")]);
    form(
        ctx.titled("Add an organisation"),
        "/organisations".into(),
        &input,
        &FieldErrors::new(),
        None,
    )
    .page()
}

pub async fn create(
    State(app): State<AppState>,
    ctx: Ctx,
    Admin(user): Admin,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (actor, submitted) = (user.actor(), input.clone());
    let result = app
        .db(move |c| orgs::create(c, &actor, orgs::parse(&submitted)?))
        .await;
    match form_outcome(result)? {
        Ok(o) => Ok(done(&format!("/organisations/{}", o.id), "created")),
        Err((errors, message)) => form(
            ctx.titled("Add an organisation"),
            "/organisations".into(),
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
    Admin(_): Admin,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let org = app.db(move |c| orgs::get(c, id)).await?;
    let input = Input::from_pairs([
        ("name", org.name.clone()),
        ("kind", org.kind.as_str().to_string()),
    ]);
    form(
        ctx.titled(format!("Edit {}", org.name)),
        format!("/organisations/{id}"),
        &input,
        &FieldErrors::new(),
        Some(&org),
    )
    .page()
}

pub async fn update(
    State(app): State<AppState>,
    ctx: Ctx,
    Admin(user): Admin,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (actor, submitted) = (user.actor(), input.clone());
    let org = app.db(move |c| orgs::get(c, id)).await?;
    let result = app
        .db(move |c| orgs::update(c, &actor, id, orgs::parse(&submitted)?))
        .await;
    match form_outcome(result)? {
        Ok(_) => Ok(done(&format!("/organisations/{id}"), "saved")),
        Err((errors, message)) => form(
            ctx.titled(format!("Edit {}", org.name)),
            format!("/organisations/{id}"),
            &input,
            &errors,
            Some(&org),
        )
        .rejected(&message),
    }
}

#[derive(Template)]
#[template(path = "organisation.html")]
struct OrganisationPage {
    ctx: PageCtx,
    org: Organisation,
    priorities: Vec<Priority>,
    priority_fields: Vec<FormField>,
    /// The priority whose target form is shown with the user's input and errors.
    target_for: i32,
    target_fields: Vec<FormField>,
    blank_target_fields: Vec<FormField>,
}

fn priority_fields(input: &Input, errors: &FieldErrors) -> Vec<FormField> {
    let mut f = FieldsBuilder::new(input, errors);
    f.required("title", "Title", "text");
    f.add("aims", "Aims", "textarea");
    f.finish()
}

fn target_fields(input: &Input, errors: &FieldErrors) -> Vec<FormField> {
    let mut f = FieldsBuilder::new(input, errors);
    f.choice::<TargetMeasure>("measure", "Measure", None);
    f.required("value", "Target", "number");
    f.add("description", "Description", "text")
        .hint("For example: performances and workshops in ten schools");
    f.finish()
}

async fn organisation_page(
    app: &AppState,
    ctx: PageCtx,
    id: i32,
    priority_form: (Input, FieldErrors),
    target_form: (i32, Input, FieldErrors),
) -> AppResult<OrganisationPage> {
    let (org, priorities) = app
        .db(move |c| Ok((orgs::get(c, id)?, orgs::priorities_of(c, id)?)))
        .await?;
    let blank = Input::from_pairs([("measure", "schools")]);
    Ok(OrganisationPage {
        ctx,
        org,
        priorities,
        priority_fields: priority_fields(&priority_form.0, &priority_form.1),
        target_for: target_form.0,
        target_fields: target_fields(&target_form.1, &target_form.2),
        blank_target_fields: target_fields(&blank, &FieldErrors::new()),
    })
}

fn no_forms() -> ((Input, FieldErrors), (i32, Input, FieldErrors)) {
    (
        (Input::default(), FieldErrors::new()),
        (0, Input::default(), FieldErrors::new()),
    )
}

pub async fn show(
    State(app): State<AppState>,
    ctx: Ctx,
    Admin(_): Admin,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let (pf, tf) = no_forms();
    let mut page = organisation_page(&app, ctx.titled(""), id, pf, tf).await?;
    page.ctx.title = page.org.name.clone();
    page.page()
}

pub async fn add_priority(
    State(app): State<AppState>,
    ctx: Ctx,
    Admin(user): Admin,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (actor, submitted) = (user.actor(), input.clone());
    let result = app
        .db(move |c| orgs::add_priority(c, &actor, id, orgs::parse_priority(&submitted)?))
        .await;
    match form_outcome(result)? {
        Ok(_) => Ok(done(&format!("/organisations/{id}"), "created")),
        Err((errors, _)) => {
            let (_, tf) = no_forms();
            let mut page = organisation_page(&app, ctx.titled(""), id, (input, errors), tf).await?;
            page.ctx.title = page.org.name.clone();
            page.page_with(StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

pub async fn add_target(
    State(app): State<AppState>,
    ctx: Ctx,
    Admin(user): Admin,
    Path(priority_id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (actor, submitted) = (user.actor(), input.clone());
    let org_id = app
        .db(move |c| orgs::organisation_of_priority(c, priority_id))
        .await?;
    let result = app
        .db(move |c| orgs::add_target(c, &actor, priority_id, orgs::parse_target(&submitted)?))
        .await;
    match form_outcome(result)? {
        Ok(_) => Ok(done(&format!("/organisations/{org_id}"), "created")),
        Err((errors, _)) => {
            let (pf, _) = no_forms();
            let mut page = organisation_page(
                &app,
                ctx.titled(""),
                org_id,
                pf,
                (priority_id, input, errors),
            )
            .await?;
            page.ctx.title = page.org.name.clone();
            page.page_with(StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}
