//! The school picker of page forms. A page never lists the register: the field is a text
//! box where a person types part of a name, a URN or a postcode. With JavaScript, a small
//! script asks `/schools/search` and offers matching schools (name, URN and town, so
//! same-named schools are told apart); without it, a URN or an exact name is enough. The
//! server reads the text back into a school id, or says why it cannot.

use axum::extract::{Query, State};
use axum::response::Response;
use serde::Serialize;

use crate::app::AppState;
use crate::db::AnyConnection;
use crate::domain::input::Input;
use crate::domain::list::ListQuery;
use crate::domain::schools;
use crate::error::{AppResult, FieldErrors};
use crate::web::auth::Staff;
use crate::web::respond::ok;

/// How many schools a search offers.
pub const OFFERED: &str = "20";

#[derive(Serialize)]
struct Offer {
    id: i32,
    label: String,
}

/// `GET /schools/search?q=` (staff): the first live schools matching a name, URN, town or
/// postcode, as `[{"id", "label"}]`.
pub async fn search(
    State(app): State<AppState>,
    Staff(_): Staff,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let params = ListQuery {
        q: q.q,
        per_page: Some(OFFERED.into()),
        ..Default::default()
    }
    .params();
    if params.q.is_none() {
        return Ok(ok(Vec::<Offer>::new()));
    }
    let page = app.db(move |c| schools::list(c, &params)).await?;
    Ok(ok(page
        .items
        .into_iter()
        .map(|s| Offer {
            id: s.id,
            label: s.label(),
        })
        .collect::<Vec<_>>()))
}

/// Reads the picker field `text` of a form into the id field `id` the domain expects.
/// A form that sends `id` itself (and no `text`) is left as it is. On failure the reason
/// is recorded under `error_key`.
pub fn resolve(
    conn: &mut AnyConnection,
    input: &mut Input,
    text: &str,
    id: &str,
    error_key: &str,
    errors: &mut FieldErrors,
) -> AppResult<()> {
    let Some(typed) = input.get(text).map(str::to_string) else {
        return Ok(());
    };
    match schools::resolve(conn, &typed)? {
        Ok(Some(found)) => input.set(id, found.to_string()),
        Ok(None) => input.set(id, ""),
        Err(why) => {
            input.set(id, "");
            errors.insert(error_key.to_string(), why);
        }
    }
    Ok(())
}

/// Moves a domain error about the id field onto the picker the person sees.
pub fn onto_picker(mut errors: FieldErrors, id: &str, text: &str) -> FieldErrors {
    if let Some(why) = errors.remove(id) {
        errors.entry(text.to_string()).or_insert(why);
    }
    errors
}

/// The outcome of a form with a picker: the picker's own errors join the domain's.
pub fn merged<T>(picker_errors: FieldErrors, result: AppResult<T>) -> AppResult<T> {
    if picker_errors.is_empty() {
        return result;
    }
    match result {
        Err(crate::error::AppError::Invalid { mut fields, .. }) => {
            for (k, v) in picker_errors {
                fields.insert(k, v);
            }
            Err(crate::error::AppError::invalid(fields))
        }
        _ => Err(crate::error::AppError::invalid(picker_errors)),
    }
}

/// Reads a form's `school` picker into `school_id`, then the rest of the form with
/// `parse`; the picker's reason and the form's field errors come back together.
pub fn parse_with_school<T>(
    conn: &mut AnyConnection,
    input: &mut Input,
    parse: impl FnOnce(&mut AnyConnection, &Input) -> AppResult<T>,
) -> AppResult<T> {
    let mut picked = FieldErrors::new();
    resolve(conn, input, "school", "school_id", "school", &mut picked)?;
    let parsed = parse(conn, input);
    merged(picked, parsed)
}
