//! What the templates are given: the page context (user, navigation, CSRF token), and
//! the generic list and form views most pages are made of.

use askama::Template;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::Page;
use crate::domain::types::Role;
use crate::domain::users::User;
use crate::error::{AppError, FieldErrors};
use crate::web::auth::MaybeUser;
use crate::web::csrf::CsrfToken;

pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    pub active: bool,
}

/// Everything the layout needs.
pub struct PageCtx {
    pub user: Option<User>,
    pub csrf: String,
    pub title: String,
    pub notice: Option<&'static str>,
    pub nav: Vec<NavItem>,
}

fn nav_for(role: Role) -> Vec<(&'static str, &'static str)> {
    match role {
        Role::School => vec![("What's on", "/whats-on"), ("Our bookings", "/bookings")],
        Role::Funder => vec![("Impact", "/impact"), ("Programmes", "/programmes")],
        Role::Lead => vec![
            ("Programmes", "/programmes"),
            ("Requests", "/requests"),
            ("Bookings", "/bookings"),
            ("Impact", "/impact"),
            ("Schools", "/schools"),
            ("Venues", "/venues"),
        ],
        Role::Admin => vec![
            ("Programmes", "/programmes"),
            ("Requests", "/requests"),
            ("Bookings", "/bookings"),
            ("Impact", "/impact"),
            ("Schools", "/schools"),
            ("Venues", "/venues"),
            ("Organisations", "/organisations"),
            ("Users", "/users"),
            ("Import", "/import/schools"),
            ("Outbox", "/outbox"),
            ("Audit log", "/audit"),
        ],
    }
}

impl PageCtx {
    /// A context without a request (error pages): no form token.
    pub fn bare(user: Option<User>, title: &str) -> PageCtx {
        PageCtx::build(user, String::new(), title, None, "")
    }

    fn build(
        user: Option<User>,
        csrf: String,
        title: &str,
        notice: Option<&'static str>,
        path: &str,
    ) -> PageCtx {
        let nav = user
            .as_ref()
            .map(|u| {
                nav_for(u.role)
                    .into_iter()
                    .map(|(label, href)| NavItem {
                        label,
                        href,
                        active: if href == "/" {
                            path == "/"
                        } else {
                            path.starts_with(href)
                        },
                    })
                    .collect()
            })
            .unwrap_or_default();
        PageCtx {
            user,
            csrf,
            title: title.to_string(),
            notice,
            nav,
        }
    }

    /// The hidden fields every form that changes something carries: its CSRF token and a
    /// sent-once key of its own (see `web::once`), so a second send of the same form (a
    /// double click, Back) changes nothing.
    pub fn form_fields(&self) -> String {
        let mut html = format!(
            r#"<input type="hidden" name="csrf_token" value="{}">"#,
            self.csrf
        );
        let mut key = [0u8; 16];
        // Without a key the form is still sent, only not guarded against a second send.
        if !self.csrf.is_empty() && getrandom::fill(&mut key).is_ok() {
            html.push_str(&format!(
                r#"<input type="hidden" name="form_key" value="{}">"#,
                hex::encode(key)
            ));
        }
        html
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role == Role::Admin)
    }

    pub fn is_staff(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.is_staff())
    }
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

/// Fixed messages shown after a redirect (`?notice=saved`); never reflects user text.
fn notice_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "created" => "Created.",
        "saved" => "Saved.",
        "archived" => {
            "Archived. It no longer shows in lists, and nothing that refers to it is lost."
        }
        "restored" => "Restored.",
        "logged_out" => "You have logged out.",
        "token_revoked" => "The token was revoked.",
        "booking_confirmed" => "Your places are confirmed. We have sent you an email.",
        "booking_waitlisted" => "The event is full, so your request is on the waiting list. We will email you if places free up.",
        "booking_requested" => "Your request is with the company, who will confirm it by email.",
        "booking_cancelled" => "The booking is cancelled.",
        "password_reset" => "Your new password is set. Log in with it.",
        "password_changed" => "Your password is changed. Any other place you were signed in has been signed out.",
        "attendance_saved" => "Attendance saved. A completed event's figures count it at once; others once they are marked completed.",
        "request_confirmed" => "Confirmed. The school has been emailed.",
        "request_declined" => "Declined. The school has been emailed.",
        "event_completed" => "The event is marked as held. Each school booked that has a contact in Outreach is asked, once, how many came and what they thought.",
        "answer_accepted" => "The school's figures are now its attendance.",
        "answer_kept" => "Your figure stands; the school's answer is set aside.",
        "event_reopened" => "The event is open again: its attendance counts once it is completed.",
        "event_cancelled" => "The event is cancelled. Schools with bookings have been emailed.",
        "event_changed" => "The event is changed. If its time moved, schools with bookings have been told.",
        "kept_mail_queued" => "The kept mail is queued and will be sent shortly.",
        "feedback_recorded" => "The feedback is recorded.",
        "statement_added" => "The outcome statement is added; new answers can rate it.",
        "tour_dates_added" => "Tour dates added.",
        "calendar_regenerated" => "The calendar link was renewed; the old one no longer works.",
        "welcome" => "Welcome to Outreach: your account is ready, and you are signed in.",
        "invitation_sent" => "The invitation is sent. It works for 7 days; you can resend or withdraw it below.",
        "invitation_resent" => "The invitation is sent again with a new link; the old link no longer works.",
        "invitation_withdrawn" => "The invitation is withdrawn; its link no longer works.",
        "invitations_sent" => "The invitations are sent. Each school's link works for 7 days.",
        "invitations_none" => "Nobody was invited: no school here is ready for an invitation.",
        "account_request_approved" => "Approved. The teacher has been sent an invitation to set up their account.",
        "account_request_declined" => "Declined. The teacher has been told by e-mail.",
        _ => return None,
    })
}

/// The request's page context; `ctx.title` is set by the handler.
pub struct Ctx(pub PageCtx);

impl FromRequestParts<AppState> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, AppError> {
        let MaybeUser(user) = MaybeUser::from_request_parts(parts, app).await?;
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default();
        let notice = Query::<NoticeQuery>::try_from_uri(&parts.uri)
            .ok()
            .and_then(|q| q.0.notice)
            .and_then(|k| notice_text(&k));
        Ok(Ctx(PageCtx::build(
            user,
            csrf,
            "",
            notice,
            parts.uri.path(),
        )))
    }
}

impl Ctx {
    pub fn titled(self, title: impl Into<String>) -> PageCtx {
        let mut ctx = self.0;
        ctx.title = title.into();
        ctx
    }
}

/// Renders a template as a page with a status.
pub trait RenderPage: Template {
    fn render_html(&self) -> Result<String, AppError> {
        Ok(self.render()?)
    }

    fn page(&self) -> Result<Response, AppError> {
        self.page_with(StatusCode::OK)
    }

    fn page_with(&self, status: StatusCode) -> Result<Response, AppError> {
        Ok((status, Html(self.render()?)).into_response())
    }
}

impl<T: Template> RenderPage for T {}

// ----- generic list -----

pub struct Cell {
    pub text: String,
    pub href: Option<String>,
}

impl Cell {
    pub fn text(t: impl ToString) -> Cell {
        Cell {
            text: t.to_string(),
            href: None,
        }
    }
    pub fn link(t: impl ToString, href: impl Into<String>) -> Cell {
        Cell {
            text: t.to_string(),
            href: Some(href.into()),
        }
    }
    pub fn opt<T: ToString>(t: Option<T>) -> Cell {
        Cell::text(t.map(|v| v.to_string()).unwrap_or_default())
    }
}

#[derive(Template)]
#[template(path = "list.html")]
pub struct ListView {
    pub ctx: PageCtx,
    pub base: String,
    pub new_href: Option<String>,
    pub new_label: String,
    pub q: String,
    pub search_hint: String,
    pub searchable: bool,
    pub include_archived: bool,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub empty: String,
}

impl ListView {
    pub fn new<T>(
        ctx: PageCtx,
        base: &str,
        page: &Page<T>,
        q: Option<String>,
        include_archived: bool,
    ) -> ListView {
        ListView {
            ctx,
            base: base.to_string(),
            new_href: None,
            new_label: String::new(),
            q: q.unwrap_or_default(),
            search_hint: String::new(),
            searchable: true,
            include_archived,
            columns: Vec::new(),
            rows: Vec::new(),
            total: page.total,
            page: page.page,
            pages: page.pages(),
            empty: String::new(),
        }
    }

    /// The link to another page of this list, keeping the search.
    pub fn page_href(&self, page: &i64) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("page", &page.to_string());
        if !self.q.is_empty() {
            query.append_pair("q", &self.q);
        }
        if self.include_archived {
            query.append_pair("archived", "true");
        }
        format!("{}?{}", self.base, query.finish())
    }
}

// ----- generic form -----

pub struct FormField {
    pub name: &'static str,
    pub label: &'static str,
    /// text, email, password, number, date, select, textarea, checkbox
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<(String, String)>,
    pub required: bool,
    pub hint: &'static str,
    pub error: Option<String>,
}

/// Builds the fields of a form from what the user typed and the errors it got.
pub struct FieldsBuilder<'a> {
    input: &'a Input,
    errors: &'a FieldErrors,
    pub fields: Vec<FormField>,
}

impl<'a> FieldsBuilder<'a> {
    pub fn new(input: &'a Input, errors: &'a FieldErrors) -> Self {
        FieldsBuilder {
            input,
            errors,
            fields: Vec::new(),
        }
    }

    pub fn add(
        &mut self,
        name: &'static str,
        label: &'static str,
        kind: &'static str,
    ) -> &mut FormField {
        self.fields.push(FormField {
            name,
            label,
            kind,
            value: self.input.get(name).unwrap_or("").to_string(),
            options: Vec::new(),
            required: false,
            hint: "",
            error: self.errors.get(name).cloned(),
        });
        let last = self.fields.len() - 1;
        &mut self.fields[last]
    }

    pub fn required(
        &mut self,
        name: &'static str,
        label: &'static str,
        kind: &'static str,
    ) -> &mut FormField {
        let f = self.add(name, label, kind);
        f.required = true;
        f
    }

    pub fn choice<E: TextEnum>(
        &mut self,
        name: &'static str,
        label: &'static str,
        blank: Option<&str>,
    ) -> &mut FormField {
        let mut options: Vec<(String, String)> = blank
            .map(|b| vec![(String::new(), b.to_string())])
            .unwrap_or_default();
        options.extend(
            E::ALL
                .iter()
                .map(|e| (e.as_str().to_string(), e.label().to_string())),
        );
        let f = self.add(name, label, "select");
        f.options = options;
        f
    }

    pub fn select(
        &mut self,
        name: &'static str,
        label: &'static str,
        options: Vec<(String, String)>,
    ) -> &mut FormField {
        let f = self.add(name, label, "select");
        f.options = options;
        f
    }

    /// A school picker (see `web::picker`): a text box offering matching schools.
    pub fn school(&mut self, name: &'static str, label: &'static str) -> &mut FormField {
        let f = self.add(name, label, "school");
        f.hint =
            "Type part of the name, the URN, the town or the postcode, then choose the school.";
        f
    }

    pub fn finish(self) -> Vec<FormField> {
        self.fields
    }
}

impl FormField {
    pub fn hint(&mut self, hint: &'static str) -> &mut Self {
        self.hint = hint;
        self
    }
    pub fn is_checked(&self) -> bool {
        matches!(self.value.as_str(), "true" | "on" | "1")
    }
}

#[derive(Template)]
#[template(path = "form.html")]
pub struct FormView {
    pub ctx: PageCtx,
    /// A link to a related page beside the form (e.g. a user's API tokens).
    pub more: Option<(String, &'static str)>,
    pub action: String,
    pub fields: Vec<FormField>,
    pub submit: &'static str,
    pub cancel: String,
    pub message: Option<String>,
    /// For an existing record: the archive or restore action.
    pub archive: Option<ArchiveAction>,
}

pub struct ArchiveAction {
    pub action: String,
    pub archived: bool,
    pub what: &'static str,
}

impl FormView {
    /// The form shown again after a rejected submission: 422 with the errors by the fields.
    pub fn rejected(mut self, message: &str) -> Result<Response, AppError> {
        self.message = Some(message.to_string());
        self.page_with(StatusCode::UNPROCESSABLE_ENTITY)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub ctx: PageCtx,
    pub status: u16,
    pub message: String,
}

/// A stored UTC moment as the day it fell on in the install's zone: "28 November 2026".
pub fn local_day(t: chrono::NaiveDateTime, tz: chrono_tz::Tz) -> String {
    crate::domain::local_time(t, tz, "%-d %B %Y")
}

/// A moment as people read it: "Thu 15 Mar 2018, 19:00" in the install's zone.
pub fn local(t: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz)
        .format("%a %-d %b %Y, %H:%M")
        .to_string()
}
