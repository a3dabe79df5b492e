//! Login, logout and the landing page of each role.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::input::TextEnum;
use crate::domain::sessions;
use crate::domain::types::Role;
use crate::error::{AppError, AppResult};
use crate::web::auth::{ClientAddr, CurrentUser};
use crate::web::view::{Ctx, PageCtx, RenderPage};
use crate::web::SESSION_COOKIE;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: PageCtx,
    email: String,
    next: String,
    message: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only a path of this site is followed after login, built from characters no URL parser
/// reads as the start of another host; anything else goes home.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => n.to_string(),
        _ => "/".to_string(),
    }
}

fn is_local_path(n: &str) -> bool {
    const ALLOWED: &[u8] = b"/-_.~?=&%+,;:@!*'()";
    let plain = n.len() <= 500
        && n.starts_with('/')
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || ALLOWED.contains(&b));
    if !plain {
        return false;
    }
    // Percent-encoding must not hide a second slash, a backslash or a control character.
    let decoded: Vec<u8> = percent_encoding::percent_decode_str(n).collect();
    decoded.starts_with(b"/")
        && !decoded.starts_with(b"//")
        && !decoded.iter().any(|&b| b == b'\\' || b.is_ascii_control())
}

pub async fn login_form(ctx: Ctx, Query(q): Query<NextQuery>) -> AppResult<Response> {
    if ctx.0.user.is_some() {
        return Ok(Redirect::to(&safe_next(q.next.as_deref())).into_response());
    }
    LoginPage {
        ctx: ctx.titled("Log in"),
        email: String::new(),
        next: safe_next(q.next.as_deref()),
        message: None,
    }
    .page()
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn login(
    State(app): State<AppState>,
    ctx: Ctx,
    ClientAddr(client): ClientAddr,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let next = safe_next(form.next.as_deref());
    // Held by the blocking work itself, so a dropped request cannot free it early.
    let turn = app.hash_permit().await?;
    let email = form.email.clone();
    let password = form.password;
    let outcome = {
        let app2 = app.clone();
        app.with_pool(move |pool| {
            let _turn = turn;
            sessions::login(pool, &app2.config, &email, &password, &client)
        })
        .await
    };
    match outcome {
        Ok((_user, secret)) => signed_in(&app, &secret, &next),
        Err(e @ (AppError::Invalid { .. } | AppError::TooManyRequests(_))) => {
            let status = e.status();
            let message = match &e {
                AppError::Invalid { .. } => "The email or password is not right.".to_string(),
                other => format!(
                    "Too many failed attempts: {}.",
                    other
                        .to_string()
                        .split("; ")
                        .nth(1)
                        .unwrap_or("try again later")
                ),
            };
            LoginPage {
                ctx: ctx.titled("Log in"),
                email: form.email,
                next,
                message: Some(message),
            }
            .page_with(status)
        }
        Err(e) => Err(e),
    }
}

/// A redirect that starts a session: the session cookie (HttpOnly, SameSite=Lax, Secure on
/// https) for a sign-in by password, by mailed link, or by accepting an invitation.
pub fn signed_in(app: &AppState, secret: &str, to: &str) -> AppResult<Response> {
    let secure = if app.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        app.config.session_hours * 3600
    );
    let mut response = Redirect::to(to).into_response();
    response.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(AppError::internal)?,
    );
    Ok(response)
}

pub async fn logout(State(app): State<AppState>, jar: CookieJar) -> AppResult<Response> {
    if let Some(secret) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) {
        app.db(move |c| sessions::end(c, &secret)).await?;
    }
    let mut response = Redirect::to("/login?notice=logged_out").into_response();
    response.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_static("outreach_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(response)
}

pub struct Card {
    pub title: &'static str,
    pub text: &'static str,
    pub href: &'static str,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageCtx,
    hint: Option<crate::domain::demo::Hint>,
    intro: String,
    waiting: Vec<(String, String, &'static str)>,
    cards: Vec<Card>,
    /// For an admin: how the install is backed up (the paragraph's class, words).
    backups: Option<(&'static str, String)>,
}

/// How many held events the home page names one by one.
const HELD_SHOWN: i64 = 5;
/// How far back the home page looks for events held and not completed.
const HELD_WITHIN_DAYS: i64 = 60;

pub async fn home(State(app): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    // Anyone not signed in sees the public listing (SPEC §1).
    let Some(user) = ctx.0.user.clone() else {
        return super::access::public_home(&app, ctx).await;
    };
    // A funder lands on its figures, a school on what it can book (SPEC §5).
    match user.role {
        Role::Funder => return Ok(Redirect::to("/impact").into_response()),
        Role::School => return Ok(Redirect::to("/whats-on").into_response()),
        Role::Lead | Role::Admin => {}
    }
    let name = user.display_name().to_string();
    let hint = super::demo_hint(&app, &user).await?;
    let admin = user.role == Role::Admin;
    let ((requests, waitlisted), (held_total, held), (answers, answers_at), accounts, last_backup) =
        app.db(move |c| {
            let now = crate::app::now();
            let since = now - chrono::Duration::days(HELD_WITHIN_DAYS);
            Ok((
                crate::domain::bookings::waiting_counts(c)?,
                crate::domain::events::held_not_completed(c, since, now, HELD_SHOWN)?,
                crate::domain::answers::waiting(c)?,
                crate::domain::school_requests::waiting(c)?,
                if admin {
                    crate::backups::last(c)?
                } else {
                    None
                },
            ))
        })
        .await?;
    let tz = app.config.time_zone;
    let plural = |n: i64, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let mut waiting = Vec::new();
    if requests > 0 {
        waiting.push((
            "/requests".to_string(),
            plural(requests, "request is", "requests are") + " waiting for your answer",
            "",
        ));
    }
    if accounts > 0 {
        waiting.push((
            "/requests#accounts".to_string(),
            plural(accounts, "school is", "schools are") + " asking for an account",
            "approve to send an invitation",
        ));
    }
    if let (true, Some(event)) = (answers > 0, answers_at) {
        waiting.push((
            format!("/events/{event}#answers"),
            plural(answers, "school's answer is", "schools' answers are")
                + " waiting for you to accept or set aside",
            "how many came or watched, from the schools themselves",
        ));
    }
    if waitlisted > 0 {
        waiting.push((
            "/bookings?status=waitlisted".to_string(),
            plural(waitlisted, "booking is", "bookings are") + " on a waiting list",
            "places go to them in order as they free up",
        ));
    }
    for e in &held {
        waiting.push((
            format!("/events/{}", e.id),
            format!(
                "{} at {}, {}",
                e.kind.label(),
                e.place(),
                e.starts_at.with_timezone(&tz).format("%A %-d %B")
            ),
            "held: enter its attendance and mark it completed",
        ));
    }
    if held_total > HELD_SHOWN {
        waiting.push((
            "/programmes".to_string(),
            format!(
                "{} more events held in the last {HELD_WITHIN_DAYS} days",
                held_total - HELD_SHOWN
            ),
            "each on its programme's page",
        ));
    }
    HomePage {
        ctx: ctx.titled(format!("Welcome, {name}")),
        hint,
        intro: "Set up programmes, the schools and venues they reach, and who may use Outreach."
            .into(),
        waiting,
        cards: staff_cards(user.role == Role::Admin),
        backups: admin.then(|| backup_words(&app, last_backup.as_ref())),
    }
    .page_with(StatusCode::OK)
}

/// How the install is backed up, in words for its admin: (the class of the paragraph:
/// `notice` when backups are made, `alert` when the last one failed, `muted` when there
/// are none to report, words).
fn backup_words(
    app: &AppState,
    last: Option<&crate::backups::LastBackup>,
) -> (&'static str, String) {
    let when = |at: chrono::NaiveDateTime| {
        at.and_utc()
            .with_timezone(&app.config.time_zone)
            .format("%A %-d %B %Y, %H:%M")
            .to_string()
    };
    let Some(schedule) = &app.config.backups else {
        return match app.backend() {
            crate::db::Backend::Postgres => (
                "muted",
                "Back up PostgreSQL with pg_dump on your own schedule (`outreach backup FILE` \
                 runs it)."
                    .into(),
            ),
            crate::db::Backend::Sqlite => (
                "muted",
                "No scheduled backups: set BACKUP_DIR, or run `outreach backup FILE` yourself \
                 (README, Operating it)."
                    .into(),
            ),
        };
    };
    let dir = schedule.dir.display();
    match last {
        None => (
            "notice",
            format!(
                "Backups are made into {dir} every {} h; the first is made within a minute of \
                 starting.",
                schedule.every.num_hours()
            ),
        ),
        Some(b) if b.ok => (
            "notice",
            format!(
                "Last backup: {}, {} ({:.1} MB) in {dir}; the newest {} are kept.",
                when(b.at),
                b.file.as_deref().unwrap_or(""),
                b.bytes.unwrap_or(0) as f64 / 1_000_000.0,
                schedule.keep
            ),
        ),
        Some(b) => (
            "alert",
            format!(
                "The last backup failed, {}: {}. It is tried again within the hour.",
                when(b.at),
                b.error.as_deref().unwrap_or("no reason given")
            ),
        ),
    }
}

fn staff_cards(admin: bool) -> Vec<Card> {
    let mut cards = vec![
        Card {
            title: "Programmes",
            text: "Each production's round: dates, funder, priority and targets.",
            href: "/programmes",
        },
        Card {
            title: "Schools",
            text: "The directory of schools, searchable by name, URN, district or postcode.",
            href: "/schools",
        },
        Card {
            title: "Venues",
            text: "Arts centres and halls for public performances.",
            href: "/venues",
        },
        Card {
            title: "Invitations",
            text: "Invite school contacts and funders to set up their own accounts.",
            href: "/invitations",
        },
    ];
    if admin {
        cards.extend([
            Card {
                title: "Organisations",
                text: "Funders and partnerships, their plan priorities and targets.",
                href: "/organisations",
            },
            Card {
                title: "Users",
                text: "Accounts for schools, leads, funders and admins; API tokens.",
                href: "/users",
            },
            Card {
                title: "Import schools",
                text: "Load or refresh schools from the national register's CSV.",
                href: "/import/schools",
            },
            Card {
                title: "Audit log",
                text: "Who changed what, and when.",
                href: "/audit",
            },
        ]);
    }
    cards
}

fn password_form(
    ctx: PageCtx,
    input: &crate::domain::input::Input,
    errors: &crate::error::FieldErrors,
) -> crate::web::view::FormView {
    let mut f = crate::web::view::FieldsBuilder::new(input, errors);
    f.required("current_password", "Current password", "password");
    f.required("new_password", "New password", "password").hint(
        "At least 10 characters; a few words together are easy to remember and hard to guess. Your other sign-ins end.",
    );
    crate::web::view::FormView {
        ctx,
        more: None,
        action: "/account/password".into(),
        fields: f.finish(),
        submit: "Change password",
        cancel: "/".into(),
        message: None,
        archive: None,
    }
}

/// The signed-in person's own password: the form.
pub async fn password_page(ctx: Ctx, CurrentUser(_): CurrentUser) -> AppResult<Response> {
    password_form(
        ctx.titled("Change your password"),
        &crate::domain::input::Input::default(),
        &crate::error::FieldErrors::new(),
    )
    .page()
}

/// Changes the password; this browser stays signed in, every other session ends.
pub async fn change_password(
    State(app): State<AppState>,
    ctx: Ctx,
    CurrentUser(user): CurrentUser,
    jar: CookieJar,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = crate::web::forms::form_input(pairs);
    let keep = jar.get(SESSION_COOKIE).map(|c| c.value().to_string());
    let turn = app.hash_permit().await?;
    let sent = input.clone();
    let result = app
        .db(move |c| {
            let _turn = turn;
            crate::domain::users::change_password(c, user.id, &sent, keep.as_deref())
        })
        .await;
    match result {
        Ok(()) => Ok(crate::web::respond::done("/", "password_changed")),
        Err(AppError::Invalid { fields, .. }) => password_form(
            ctx.titled("Change your password"),
            &crate::domain::input::Input::default(),
            &fields,
        )
        .rejected("Your password was not changed; see below."),
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "password_forgot.html")]
struct ForgotPage {
    ctx: PageCtx,
    email: String,
    sent: bool,
    message: Option<String>,
}

/// "Forgotten password": the form asking for the address.
pub async fn forgot_page(ctx: Ctx) -> AppResult<Response> {
    ForgotPage {
        ctx: ctx.titled("Forgotten your password?"),
        email: String::new(),
        sent: false,
        message: None,
    }
    .page()
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

/// Sends a reset link if the address has an account; the answer is the same either way.
pub async fn forgot(
    State(app): State<AppState>,
    ctx: Ctx,
    ClientAddr(client): ClientAddr,
    Form(form): Form<ForgotForm>,
) -> AppResult<Response> {
    let email: String = form.email.trim().chars().take(254).collect();
    if email.is_empty() {
        return ForgotPage {
            ctx: ctx.titled("Forgotten your password?"),
            email,
            sent: false,
            message: Some("Give the e-mail address you log in with.".into()),
        }
        .page_with(StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (asked, base) = (email.clone(), app.config.base_url.clone());
    match app
        .db(move |c| crate::domain::login_links::ask_reset(c, &asked, &client, &base))
        .await
    {
        Ok(()) => ForgotPage {
            ctx: ctx.titled("Check your e-mail"),
            email,
            sent: true,
            message: None,
        }
        .page(),
        Err(e @ AppError::TooManyRequests(_)) => ForgotPage {
            ctx: ctx.titled("Forgotten your password?"),
            email,
            sent: false,
            message: Some(crate::web::forms::sentence(&e.to_string())),
        }
        .page_with(StatusCode::TOO_MANY_REQUESTS),
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "password_reset.html")]
struct ResetPage {
    ctx: PageCtx,
    token: String,
    gone: bool,
    error: Option<String>,
}

fn reset_gone(ctx: Ctx) -> AppResult<Response> {
    ResetPage {
        ctx: ctx.titled("This link does not work"),
        token: String::new(),
        gone: true,
        error: None,
    }
    .page_with(StatusCode::NOT_FOUND)
}

/// The page behind a reset link.
pub async fn reset_page(
    State(app): State<AppState>,
    ctx: Ctx,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> AppResult<Response> {
    let t = token.clone();
    match app
        .db(move |c| crate::domain::login_links::check(c, &t))
        .await
    {
        Ok(()) => ResetPage {
            ctx: ctx.titled("Choose a new password"),
            token,
            gone: false,
            error: None,
        }
        .page(),
        Err(AppError::NotFound) => reset_gone(ctx),
        Err(e) => Err(e),
    }
}

/// Sets the new password through the link, then sends the person to log in.
pub async fn reset(
    State(app): State<AppState>,
    ctx: Ctx,
    axum::extract::Path(token): axum::extract::Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = crate::web::forms::form_input(pairs);
    let turn = app.hash_permit().await?;
    let t = token.clone();
    match app
        .db(move |c| {
            let _turn = turn;
            crate::domain::login_links::reset(c, &t, &input)
        })
        .await
    {
        Ok(()) => Ok(Redirect::to("/login?notice=password_reset").into_response()),
        Err(AppError::Invalid { fields, .. }) => ResetPage {
            ctx: ctx.titled("Choose a new password"),
            token,
            gone: false,
            error: fields.get("new_password").cloned(),
        }
        .page_with(StatusCode::UNPROCESSABLE_ENTITY),
        Err(AppError::NotFound) => reset_gone(ctx),
        Err(e) => Err(e),
    }
}
