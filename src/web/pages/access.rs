//! How people arrive and come back: sign-in links for school contacts, invitations (sent
//! by staff, accepted behind their link), a programme's schools invited at once, and a
//! teacher asking for an account from the public page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::auth::signed_in;
use crate::app::AppState;
use crate::domain::input::{Input, TextEnum};
use crate::domain::invitations::{self, InvitationStatus};
use crate::domain::list::ListQuery;
use crate::domain::types::Role;
use crate::domain::{login_links, organisations as orgs, school_requests};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::web::auth::{ClientAddr, Staff};
use crate::web::forms::{form_input, form_outcome, sentence};
use crate::web::picker;
use crate::web::respond::done;
use crate::web::view::{Ctx, FieldsBuilder, FormView, PageCtx, RenderPage};

// ----- sign-in by link -----

#[derive(Template)]
#[template(path = "login_link.html")]
struct LinkPage {
    ctx: PageCtx,
    /// `ask`, `sent`, `open` (the button behind a live link) or `gone`.
    state: &'static str,
    email: String,
    token: String,
    message: Option<String>,
}

/// "E-mail me a sign-in link": the form.
pub async fn link_page(ctx: Ctx) -> AppResult<Response> {
    if ctx.0.user.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    LinkPage {
        ctx: ctx.titled("Sign in with a link"),
        state: "ask",
        email: String::new(),
        token: String::new(),
        message: None,
    }
    .page()
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

/// Mails a sign-in link to a school contact's address; the answer is the same whether or
/// not the address is known.
pub async fn link_ask(
    State(app): State<AppState>,
    ctx: Ctx,
    ClientAddr(client): ClientAddr,
    Form(form): Form<EmailForm>,
) -> AppResult<Response> {
    let email: String = form.email.trim().chars().take(254).collect();
    if email.is_empty() {
        return LinkPage {
            ctx: ctx.titled("Sign in with a link"),
            state: "ask",
            email,
            token: String::new(),
            message: Some("Give the e-mail address of your account.".into()),
        }
        .page_with(StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (asked, base) = (email.clone(), app.config.base_url.clone());
    match app
        .db(move |c| login_links::ask_sign_in(c, &asked, &client, &base))
        .await
    {
        Ok(()) => LinkPage {
            ctx: ctx.titled("Check your e-mail"),
            state: "sent",
            email,
            token: String::new(),
            message: None,
        }
        .page(),
        Err(e @ AppError::TooManyRequests(_)) => LinkPage {
            ctx: ctx.titled("Sign in with a link"),
            state: "ask",
            email,
            token: String::new(),
            message: Some(sentence(&e.to_string())),
        }
        .page_with(StatusCode::TOO_MANY_REQUESTS),
        Err(e) => Err(e),
    }
}

fn link_gone(ctx: Ctx) -> AppResult<Response> {
    LinkPage {
        ctx: ctx.titled("This link does not work"),
        state: "gone",
        email: String::new(),
        token: String::new(),
        message: None,
    }
    .page_with(StatusCode::NOT_FOUND)
}

/// The page behind a sign-in link: one button, so a mail scanner that opens the link
/// does not spend it.
pub async fn link_open(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let t = token.clone();
    match app.db(move |c| login_links::check_sign_in(c, &t)).await {
        Ok(()) => LinkPage {
            ctx: ctx.titled("Sign in to Outreach"),
            state: "open",
            email: String::new(),
            token,
            message: None,
        }
        .page(),
        Err(AppError::NotFound) => link_gone(ctx),
        Err(e) => Err(e),
    }
}

/// Spends the link and signs the person in. The form says it means to (`confirm`), so a
/// bare POST to the address spends nothing.
pub async fn link_use(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    if crate::web::respond::confirmed(&pairs).is_err() {
        return LinkPage {
            ctx: ctx.titled("Sign in to Outreach"),
            state: "open",
            email: String::new(),
            token,
            message: Some("Press the button to sign in.".into()),
        }
        .page_with(StatusCode::UNPROCESSABLE_ENTITY);
    }
    let config = app.config.clone();
    match app
        .db(move |c| login_links::sign_in(c, &config, &token))
        .await
    {
        Ok((_, secret)) => signed_in(&app, &secret, "/"),
        Err(AppError::NotFound) => link_gone(ctx),
        Err(e) => Err(e),
    }
}

// ----- accepting an invitation -----

#[derive(Template)]
#[template(path = "invitation_accept.html")]
struct AcceptPage {
    ctx: PageCtx,
    token: String,
    gone: bool,
    email: String,
    what: String,
    name: String,
    errors: FieldErrors,
    message: Option<String>,
}

fn what_of(o: &invitations::Opened) -> String {
    match o.role {
        Role::School => format!(
            "a contact for {}",
            o.school_name.clone().unwrap_or_default()
        ),
        Role::Funder => format!(
            "a reader of {}'s figures",
            o.organisation_name.clone().unwrap_or_default()
        ),
        Role::Lead => "a project lead".into(),
        Role::Admin => "an administrator".into(),
    }
}

fn accept_gone(ctx: Ctx, posted: bool) -> AppResult<Response> {
    AcceptPage {
        ctx: ctx.titled("This invitation does not work"),
        token: String::new(),
        gone: true,
        email: String::new(),
        what: String::new(),
        name: String::new(),
        errors: FieldErrors::new(),
        message: posted.then(|| "Nothing you typed was saved.".to_string()),
    }
    .page_with(StatusCode::NOT_FOUND)
}

/// The page behind an invitation: the person sets their name and password.
pub async fn accept_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let t = token.clone();
    match app.db(move |c| invitations::open(c, &t)).await {
        Ok(o) => AcceptPage {
            ctx: ctx.titled("Set up your Outreach account"),
            token,
            gone: false,
            email: o.email.clone(),
            what: what_of(&o),
            name: String::new(),
            errors: FieldErrors::new(),
            message: None,
        }
        .page(),
        Err(AppError::NotFound) => accept_gone(ctx, false),
        Err(e) => Err(e),
    }
}

/// Makes the account, signs the person in and takes them to their first page.
pub async fn accept(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let turn = app.hash_permit().await?;
    let (t, sent, config) = (token.clone(), input.clone(), app.config.clone());
    let result = app
        .db(move |c| {
            let _turn = turn;
            invitations::accept(c, &config, &t, &sent)
        })
        .await;
    match result {
        // Each role's own first page, with the welcome.
        Ok((user, secret)) => signed_in(
            &app,
            &secret,
            &match (user.role, user.organisation_id) {
                (Role::School, _) => "/whats-on?notice=welcome".to_string(),
                (Role::Funder, Some(org)) => format!("/organisations/{org}/impact?notice=welcome"),
                _ => "/?notice=welcome".to_string(),
            },
        ),
        Err(AppError::Invalid { fields, .. }) => {
            let t = token.clone();
            let o = match app.db(move |c| invitations::open(c, &t)).await {
                Ok(o) => o,
                Err(AppError::NotFound) => return accept_gone(ctx, true),
                Err(e) => return Err(e),
            };
            AcceptPage {
                ctx: ctx.titled("Set up your Outreach account"),
                token,
                gone: false,
                email: o.email.clone(),
                what: what_of(&o),
                name: input.get("name").unwrap_or("").to_string(),
                errors: fields,
                message: Some("Your account was not made yet; see below.".into()),
            }
            .page_with(StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(AppError::NotFound) => accept_gone(ctx, true),
        Err(AppError::Conflict(m)) => AcceptPage {
            ctx: ctx.titled("You already have an account"),
            token: String::new(),
            gone: true,
            email: String::new(),
            what: String::new(),
            name: String::new(),
            errors: FieldErrors::new(),
            message: Some(sentence(&m)),
        }
        .page_with(StatusCode::CONFLICT),
        Err(e) => Err(e),
    }
}

// ----- invitations, as staff see them -----

#[derive(Template)]
#[template(path = "invitations.html")]
struct InvitationsPage {
    ctx: PageCtx,
    rows: Vec<InvitationLine>,
    status: String,
    states: Vec<(&'static str, &'static str)>,
    total: i64,
    page: i64,
    pages: i64,
}

struct InvitationLine {
    id: i32,
    email: String,
    who: String,
    status: InvitationStatus,
    sent: String,
    expires: String,
    may_change: bool,
}

#[derive(Deserialize)]
pub struct InvitationsQuery {
    status: Option<String>,
    page: Option<String>,
}

pub async fn list(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Query(q): Query<InvitationsQuery>,
) -> AppResult<Response> {
    let status = q
        .status
        .as_deref()
        .and_then(|s| InvitationStatus::from_db(s).ok());
    let params = ListQuery {
        page: q.page.clone(),
        ..Default::default()
    }
    .params();
    let p = params.clone();
    let page = app.db(move |c| invitations::list(c, &p, status)).await?;
    let tz = app.config.time_zone;
    let when = |t: chrono::NaiveDateTime| crate::domain::local_time(t, tz, "%-d %b %Y, %H:%M");
    let actor = user.actor();
    let rows = page
        .items
        .iter()
        .map(|i| InvitationLine {
            id: i.id,
            email: i.email.clone(),
            who: match i.role {
                Role::School => format!(
                    "School contact: {}",
                    i.school_name.clone().unwrap_or_default()
                ),
                Role::Funder => format!(
                    "Funder: {}",
                    i.organisation_name.clone().unwrap_or_default()
                ),
                r => r.label().to_string(),
            },
            status: i.status,
            sent: when(i.sent_at),
            expires: when(i.expires_at),
            may_change: matches!(
                i.status,
                InvitationStatus::Pending | InvitationStatus::Expired
            ) && invitations::may_invite(&actor, i.role).is_ok(),
        })
        .collect();
    InvitationsPage {
        ctx: ctx.titled("Invitations"),
        rows,
        status: status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        states: InvitationStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        total: page.total,
        page: page.page,
        pages: page.pages(),
    }
    .page()
}

async fn invite_form(
    app: &AppState,
    ctx: PageCtx,
    admin: bool,
    input: &Input,
    errors: &FieldErrors,
) -> AppResult<FormView> {
    let org_choices = app
        .db(|c| {
            let mut o = vec![(String::new(), "— for a funder —".to_string())];
            o.extend(
                orgs::all(c)?
                    .into_iter()
                    .map(|org| (org.id.to_string(), org.name)),
            );
            Ok(o)
        })
        .await?;
    let roles: Vec<(String, String)> = Role::ALL
        .iter()
        .filter(|r| admin || matches!(r, Role::School | Role::Funder))
        .map(|r| (r.as_str().to_string(), r.label().to_string()))
        .collect();
    let mut f = FieldsBuilder::new(input, errors);
    f.required("email", "Their e-mail", "email")
        .hint("They get a link to set their own name and password; it works once, for 7 days.");
    f.select("role", "Role", roles);
    f.school("school", "School (for a school contact)");
    f.select(
        "organisation_id",
        "Organisation (for a funder)",
        org_choices,
    )
    .hint("A funder reads this organisation's programmes only.");
    Ok(FormView {
        ctx,
        more: None,
        action: "/invitations".into(),
        fields: f.finish(),
        submit: "Send the invitation",
        cancel: "/invitations".into(),
        message: None,
        archive: None,
    })
}

pub async fn new_form(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
) -> AppResult<Response> {
    let input = Input::from_pairs([("role", "school")]);
    invite_form(
        &app,
        ctx.titled("Invite someone"),
        user.role == Role::Admin,
        &input,
        &FieldErrors::new(),
    )
    .await?
    .page()
}

pub async fn create(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (actor, mut submitted, base) = (user.actor(), input.clone(), app.config.base_url.clone());
    let result = app
        .db(move |c| {
            let parsed = picker::parse_with_school(c, &mut submitted, invitations::parse)?;
            invitations::invite(c, Some(&actor), &parsed, &base)
        })
        .await;
    match form_outcome(result)? {
        Ok(_) => Ok(done("/invitations", "invitation_sent")),
        Err((errors, message)) => {
            let errors = picker::onto_picker(errors, "school_id", "school");
            invite_form(
                &app,
                ctx.titled("Invite someone"),
                user.role == Role::Admin,
                &input,
                &errors,
            )
            .await?
            .rejected(&message)
        }
    }
}

pub async fn resend(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let (actor, base) = (user.actor(), app.config.base_url.clone());
    app.db(move |c| invitations::resend(c, &actor, id, &base))
        .await?;
    Ok(done("/invitations", "invitation_resent"))
}

pub async fn withdraw(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    crate::web::respond::confirmed(&pairs)?;
    let actor = user.actor();
    app.db(move |c| invitations::withdraw(c, &actor, id))
        .await?;
    Ok(done("/invitations", "invitation_withdrawn"))
}

// ----- a programme's schools invited at once -----

#[derive(Template)]
#[template(path = "programme_invite.html")]
struct ProgrammeInvitePage {
    ctx: PageCtx,
    programme_id: i32,
    rows: Vec<invitations::BookedSchool>,
    ready: usize,
}

async fn programme_invite_page(
    app: &AppState,
    ctx: Ctx,
    user: &crate::domain::users::User,
    id: i32,
) -> AppResult<Response> {
    let actor = user.actor();
    let (title, rows) = app
        .db(move |c| {
            let p = crate::domain::programmes::get(c, &actor, id)?;
            Ok((p.title, invitations::booked_schools(c, id)?))
        })
        .await?;
    let ready = rows.iter().filter(|r| r.state == "ready").count();
    ProgrammeInvitePage {
        ctx: ctx.titled(format!("Invite the schools of {title}")),
        programme_id: id,
        rows,
        ready,
    }
    .page()
}

pub async fn programme_invite(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    programme_invite_page(&app, ctx, &user, id).await
}

pub async fn programme_invite_send(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let (actor, base) = (user.actor(), app.config.base_url.clone());
    let n = app
        .db(move |c| {
            crate::domain::programmes::get(c, &actor, id)?;
            invitations::invite_booked_schools(c, &actor, id, &base)
        })
        .await?;
    Ok(done(
        &format!("/programmes/{id}/invite"),
        if n > 0 {
            "invitations_sent"
        } else {
            "invitations_none"
        },
    ))
}

// ----- a school asks for an account -----

#[derive(Template)]
#[template(path = "join.html")]
struct JoinPage {
    ctx: PageCtx,
    q: String,
    found: Vec<(i32, String)>,
    searched: bool,
    school: Option<(i32, String)>,
    name: String,
    email: String,
    errors: FieldErrors,
    sent: bool,
    message: Option<String>,
}

#[derive(Deserialize)]
pub struct JoinQuery {
    q: Option<String>,
    school: Option<String>,
}

/// Finds the school (by name, URN, town or postcode; searched on the server), then asks
/// for the teacher's name and school e-mail.
pub async fn join_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(query): Query<JoinQuery>,
) -> AppResult<Response> {
    let q: String = query
        .q
        .unwrap_or_default()
        .trim()
        .chars()
        .take(100)
        .collect();
    let school_id = query.school.and_then(|s| s.trim().parse::<i32>().ok());
    let term = q.clone();
    let (found, school) = app
        .db(move |c| {
            let found = if term.chars().count() >= 2 {
                crate::domain::schools::search_open(c, &term, 20)?
            } else {
                Vec::new()
            };
            let school = match school_id {
                Some(id) => crate::domain::schools::open_label(c, id)?.map(|l| (id, l)),
                None => None,
            };
            Ok((found, school))
        })
        .await?;
    JoinPage {
        ctx: ctx.titled("Book for your school"),
        searched: q.chars().count() >= 2,
        q,
        found,
        school,
        name: String::new(),
        email: String::new(),
        errors: FieldErrors::new(),
        sent: false,
        message: None,
    }
    .page()
}

pub async fn join(
    State(app): State<AppState>,
    ctx: Ctx,
    ClientAddr(client): ClientAddr,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (sent, base) = (input.clone(), app.config.base_url.clone());
    let result = app
        .db(move |c| {
            let asked = school_requests::parse(c, &sent)?;
            school_requests::ask(c, &asked, &client, &base)
        })
        .await;
    let school_id = input
        .get("school_id")
        .and_then(|s| s.trim().parse::<i32>().ok());
    let school = match school_id {
        Some(id) => app
            .db(move |c| crate::domain::schools::open_label(c, id))
            .await?
            .map(|l| (id, l)),
        None => None,
    };
    let page = |errors: FieldErrors, sent: bool, message: Option<String>| JoinPage {
        ctx: ctx.titled(if sent {
            "Thank you"
        } else {
            "Book for your school"
        }),
        q: String::new(),
        found: Vec::new(),
        searched: false,
        school: school.clone(),
        name: input.get("name").unwrap_or("").to_string(),
        email: input.get("email").unwrap_or("").to_string(),
        errors,
        sent,
        message,
    };
    match result {
        Ok(()) => page(FieldErrors::new(), true, None).page(),
        Err(AppError::Invalid { fields, .. }) => page(
            fields,
            false,
            Some("Please correct the fields marked below.".into()),
        )
        .page_with(StatusCode::UNPROCESSABLE_ENTITY),
        Err(e @ AppError::TooManyRequests(_)) => {
            page(FieldErrors::new(), false, Some(sentence(&e.to_string())))
                .page_with(StatusCode::TOO_MANY_REQUESTS)
        }
        Err(e) => Err(e),
    }
}

pub async fn approve_request(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let (actor, base) = (user.actor(), app.config.base_url.clone());
    app.db(move |c| school_requests::approve(c, &actor, id, &base))
        .await?;
    Ok(done("/requests", "account_request_approved"))
}

pub async fn decline_request(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    app.db(move |c| school_requests::decline(c, &actor, id))
        .await?;
    Ok(done("/requests", "account_request_declined"))
}

// ----- What's on, for anyone -----

#[derive(Template)]
#[template(path = "public_whats_on.html")]
struct PublicPage {
    ctx: PageCtx,
    programmes: Vec<PublicLine>,
}

struct PublicLine {
    id: i32,
    title: String,
    theme: String,
    dates: String,
    months: Vec<(String, i64)>,
    events: Vec<PublicEventLine>,
}

struct PublicEventLine {
    what: String,
    when: String,
    place: String,
    places_left: Option<i32>,
}

/// `/` for a visitor who is not signed in: the public listing, cacheable for a minute.
pub async fn public_home(app: &AppState, ctx: Ctx) -> AppResult<Response> {
    let tz = app.config.time_zone;
    let listing = app
        .db(move |c| crate::domain::schedule::public::whats_on(c, tz))
        .await?;
    let day = |d: chrono::NaiveDate| d.format("%-d %B %Y").to_string();
    let programmes = listing
        .programmes
        .into_iter()
        .map(|p| PublicLine {
            id: p.id,
            title: p.title,
            theme: p.theme,
            dates: match (p.starts_on, p.ends_on) {
                (Some(a), Some(b)) => format!("{} to {}", day(a), day(b)),
                (Some(a), None) => format!("From {}", day(a)),
                (None, Some(b)) => format!("Until {}", day(b)),
                (None, None) => String::new(),
            },
            months: p
                .tour_months
                .into_iter()
                .map(|m| {
                    let name =
                        chrono::NaiveDate::parse_from_str(&format!("{}-01", m.month), "%Y-%m-%d")
                            .map(|d| d.format("%B %Y").to_string())
                            .unwrap_or(m.month);
                    (name, m.free_dates)
                })
                .collect(),
            events: p
                .events
                .into_iter()
                .map(|e| PublicEventLine {
                    what: e.kind.label().to_string(),
                    when: e
                        .starts_at
                        .with_timezone(&tz)
                        .format("%A %-d %B %Y, %H:%M")
                        .to_string(),
                    place: e
                        .venue_name
                        .unwrap_or_else(|| "Live stream, wherever you are".into()),
                    places_left: e.places_left,
                })
                .collect(),
        })
        .collect();
    let mut response = PublicPage {
        ctx: ctx.titled("What's on"),
        programmes,
    }
    .page()?;
    let h = response.headers_mut();
    h.insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    // `/` is someone's own page once they sign in: no cache may hand this one to them.
    h.insert(axum::http::header::VARY, HeaderValue::from_static("Cookie"));
    Ok(response)
}
