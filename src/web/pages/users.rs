//! Pages of user accounts and their API tokens (admin).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;

use crate::app::AppState;
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::ListQuery;
use crate::domain::tokens;
use crate::domain::types::Role;
use crate::domain::users::{self, User};
use crate::domain::{organisations as orgs, schools};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::web::auth::Admin;
use crate::web::forms::{form_input, form_outcome};
use crate::web::picker;
use crate::web::respond::{confirmed, done};
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
    let page = app.db(move |c| users::list(c, &p)).await?;
    let mut view = ListView::new(
        ctx.titled("Users"),
        "/users",
        &page,
        params.q,
        params.include_archived,
    );
    view.new_href = Some("/users/new".into());
    view.new_label = "Add a user".into();
    view.search_hint = "Email or name".into();
    view.empty = "No users match.".into();
    view.columns = vec!["Email", "Name", "Role"];
    view.rows = page
        .items
        .iter()
        .map(|u| {
            let email = if u.archived {
                format!("{} (archived)", u.email)
            } else {
                u.email.clone()
            };
            vec![
                Cell::link(email, format!("/users/{}", u.id)),
                Cell::text(&u.name),
                Cell::text(u.role),
            ]
        })
        .collect();
    view.page()
}

async fn fields(
    app: &AppState,
    input: &Input,
    errors: &FieldErrors,
    creating: bool,
) -> AppResult<Vec<FormField>> {
    let org_choices = app
        .db(|c| {
            let mut o = vec![(String::new(), "— for funder users —".to_string())];
            o.extend(
                orgs::all(c)?
                    .into_iter()
                    .map(|org| (org.id.to_string(), org.name)),
            );
            Ok(o)
        })
        .await?;
    let mut f = FieldsBuilder::new(input, errors);
    f.required("email", "Email", "email");
    f.add("name", "Name", "text");
    f.choice::<Role>("role", "Role", None);
    f.school("school", "School (for a school user)");
    f.select("organisation_id", "Organisation", org_choices)
        .hint("A funder user reads this organisation's programmes only.");
    if creating {
        f.required("password", "Password", "password")
            .hint("At least 10 characters.");
    } else {
        f.add("password", "New password", "password")
            .hint("Leave blank to keep the current one. Changing it logs the user out everywhere.");
    }
    Ok(f.finish())
}

fn input_of(u: &User, school_label: String) -> Input {
    let opt = |v: Option<i32>| v.map(|n| n.to_string()).unwrap_or_default();
    Input::from_pairs([
        ("email", u.email.clone()),
        ("name", u.name.clone()),
        ("role", u.role.as_str().to_string()),
        ("school", school_label),
        ("organisation_id", opt(u.organisation_id)),
    ])
}

async fn form(
    app: &AppState,
    ctx: PageCtx,
    input: &Input,
    errors: &FieldErrors,
    existing: Option<&User>,
) -> AppResult<FormView> {
    Ok(FormView {
        more: None,
        ctx,
        action: existing
            .map(|u| format!("/users/{}", u.id))
            .unwrap_or_else(|| "/users".into()),
        fields: fields(app, input, errors, existing.is_none()).await?,
        submit: if existing.is_some() {
            "Save changes"
        } else {
            "Add user"
        },
        cancel: "/users".into(),
        message: None,
        archive: existing.map(|u| ArchiveAction {
            action: format!("/users/{}", u.id),
            archived: u.archived,
            what: "user",
        }),
    })
}

pub async fn new_form(
    State(app): State<AppState>,
    ctx: Ctx,
    Admin(_): Admin,
) -> AppResult<Response> {
    let input = Input::from_pairs([("role", "lead")]);
    form(
        &app,
        ctx.titled("Add a user"),
        &input,
        &FieldErrors::new(),
        None,
    )
    .await?
    .page()
}

pub async fn create(
    State(app): State<AppState>,
    ctx: Ctx,
    Admin(user): Admin,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (actor, mut submitted) = (user.actor(), input.clone());
    let result = app
        .db(move |c| {
            let parsed = picker::parse_with_school(c, &mut submitted, |c, input| {
                users::parse(c, input, true)
            })?;
            users::create(c, Some(&actor), parsed)
        })
        .await;
    match form_outcome(result)? {
        Ok(u) => Ok(done(&format!("/users/{}", u.id), "created")),
        Err((errors, message)) => {
            let errors = picker::onto_picker(errors, "school_id", "school");
            form(&app, ctx.titled("Add a user"), &input, &errors, None)
                .await?
                .rejected(&message)
        }
    }
}

pub async fn edit_form(
    State(app): State<AppState>,
    ctx: Ctx,
    Admin(_): Admin,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let (u, label) = app
        .db(move |c| {
            let u = users::get(c, id)?;
            let ids: Vec<i32> = u.school_id.into_iter().collect();
            let label = schools::labels(c, &ids)?.into_values().next();
            Ok((u, label.unwrap_or_default()))
        })
        .await?;
    let mut view = form(
        &app,
        ctx.titled(u.email.clone()),
        &input_of(&u, label),
        &FieldErrors::new(),
        Some(&u),
    )
    .await?;
    view.more = Some((format!("/users/{id}/tokens"), "API tokens of this user"));
    view.page()
}

pub async fn update(
    State(app): State<AppState>,
    ctx: Ctx,
    Admin(user): Admin,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (actor, mut submitted) = (user.actor(), input.clone());
    let u = app.db(move |c| users::get(c, id)).await?;
    let result = app
        .db(move |c| {
            let parsed = picker::parse_with_school(c, &mut submitted, |c, input| {
                users::parse(c, input, false)
            })?;
            users::update(c, &actor, id, parsed)
        })
        .await;
    match form_outcome(result)? {
        Ok(_) => Ok(done(&format!("/users/{id}"), "saved")),
        Err((errors, message)) => {
            let errors = picker::onto_picker(errors, "school_id", "school");
            form(&app, ctx.titled(u.email.clone()), &input, &errors, Some(&u))
                .await?
                .rejected(&message)
        }
    }
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    ctx: PageCtx,
    user_id: i32,
    tokens: Vec<TokenLine>,
    secret: Option<String>,
    /// Why the new token was refused, by field.
    errors: FieldErrors,
}

/// A token as listed, times in the install's zone.
struct TokenLine {
    id: i32,
    label: String,
    created: String,
    last_used: Option<String>,
    expires: Option<String>,
    state: &'static str,
}

async fn tokens_page(
    app: &AppState,
    ctx: Ctx,
    id: i32,
    secret: Option<String>,
    errors: FieldErrors,
) -> AppResult<Response> {
    let (u, list) = app
        .db(move |c| Ok((users::get(c, id)?, tokens::list_for(c, id)?)))
        .await?;
    let tz = app.config.time_zone;
    let at = crate::app::now();
    let when = |t: chrono::NaiveDateTime| {
        t.and_utc()
            .with_timezone(&tz)
            .format("%-d %b %Y %H:%M")
            .to_string()
    };
    TokensPage {
        ctx: ctx.titled(format!("API tokens of {}", u.email)),
        user_id: id,
        tokens: list
            .iter()
            .map(|t| TokenLine {
                id: t.id,
                label: t.label.clone(),
                created: when(t.created_at),
                last_used: t.last_used_at.map(when),
                expires: t.expires_at.map(when),
                state: t.state(at),
            })
            .collect(),
        secret,
        errors,
    }
    .page()
}

pub async fn tokens(
    State(app): State<AppState>,
    ctx: Ctx,
    Admin(_): Admin,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    tokens_page(&app, ctx, id, None, FieldErrors::new()).await
}

pub async fn create_token(
    State(app): State<AppState>,
    ctx: Ctx,
    Admin(user): Admin,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let request = match tokens::parse_request(&input) {
        Ok(r) => r,
        Err(AppError::Invalid { fields, .. }) => {
            let mut page = tokens_page(&app, ctx, id, None, fields).await?;
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(page);
        }
        Err(e) => return Err(e),
    };
    let actor = user.actor();
    let (_, secret) = app
        .db(move |c| tokens::create_for(c, Some(&actor), id, &request))
        .await?;
    tokens_page(&app, ctx, id, Some(secret), FieldErrors::new()).await
}

pub async fn revoke_token(
    State(app): State<AppState>,
    Admin(user): Admin,
    Path((id, token_id)): Path<(i32, i32)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    confirmed(&pairs)?;
    let actor = user.actor();
    app.db(move |c| tokens::revoke_for_user(c, &actor, id, token_id))
        .await?;
    Ok(done(&format!("/users/{id}/tokens"), "token_revoked"))
}
