//! What every page form shares: its fields as domain input, and a domain result split
//! into the page to show again (field errors, a conflict in words) or a real error.

use crate::domain::input::Input;
use crate::error::{AppError, AppResult, FieldErrors};

/// Form fields as domain input (the CSRF token and the form's sent-once key are not).
pub fn form_input(pairs: Vec<(String, String)>) -> Input {
    Input::from_pairs(
        pairs
            .into_iter()
            .filter(|(k, _)| k != "csrf_token" && k != "form_key"),
    )
}

/// Splits a domain result for a form: field errors (and conflicts) go back to the form.
pub fn form_outcome<T>(result: AppResult<T>) -> AppResult<Result<T, (FieldErrors, String)>> {
    match result {
        Ok(v) => Ok(Ok(v)),
        Err(AppError::Invalid { fields, .. }) => Ok(Err((
            fields,
            "Please correct the fields marked below.".into(),
        ))),
        Err(AppError::Conflict(m)) => Ok(Err((FieldErrors::new(), sentence(&m)))),
        Err(e) => Err(e),
    }
}

/// A domain message as a sentence: capital first letter, full stop.
pub fn sentence(s: &str) -> String {
    match s {
        "" => String::new(),
        s => crate::impact::narrative::capitalise(s) + ".",
    }
}
