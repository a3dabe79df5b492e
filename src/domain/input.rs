//! Raw input from a form or a JSON body, and the validator that turns it into typed values
//! with one message per field. Pages and the API share it, so both reject the same things.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::error::{AppError, FieldErrors};

/// The years a date may fall in, anywhere in Outreach: wide enough for any real plan,
/// narrow enough that no date arithmetic can overflow.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

fn in_years(d: NaiveDate) -> bool {
    use chrono::Datelike;
    YEARS.contains(&d.year())
}

/// Field name → the text the user sent. JSON numbers and booleans arrive as their text.
/// A strict input (an API body) remembers which fields were read, so that a field no
/// validator asked for is refused by name rather than silently ignored.
#[derive(Debug, Clone, Default)]
pub struct Input(BTreeMap<String, String>, Option<Read>, Nulls, Kinds);

/// The JSON type of each field of a JSON input (empty for a form or a query): a JSON
/// field must be of its field's type, so `"name": false` is refused, not read as "false".
type Kinds = BTreeMap<String, Json>;

/// A JSON value's type, as far as a field cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Json {
    Text,
    Number,
    Bool,
}

impl Json {
    fn refusal(self) -> &'static str {
        match self {
            Json::Text => "must be a JSON string",
            Json::Number => "must be a JSON number",
            Json::Bool => "must be true or false",
        }
    }
}

/// The fields of a JSON input given as null: absent to a validator, but still fields that
/// a strict input refuses when nothing asks for them.
type Nulls = std::collections::BTreeSet<String>;

/// The fields of a strict input read so far, shared by its clones.
type Read = std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<String>>>;

impl Input {
    pub fn from_pairs<I, K, V>(pairs: I) -> Input
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Input(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            None,
            Nulls::new(),
            Kinds::new(),
        )
    }

    /// A JSON object; nested values are refused with the field named.
    pub fn from_json(value: &serde_json::Value) -> Result<Input, AppError> {
        let obj = value
            .as_object()
            .ok_or_else(|| AppError::BadRequest("the body must be a JSON object".into()))?;
        let mut map = BTreeMap::new();
        let mut nulls = Nulls::new();
        let mut kinds = Kinds::new();
        let mut errors = FieldErrors::new();
        for (k, v) in obj {
            match v {
                serde_json::Value::Null => {
                    nulls.insert(k.clone());
                }
                serde_json::Value::String(s) => {
                    map.insert(k.clone(), s.clone());
                    kinds.insert(k.clone(), Json::Text);
                }
                serde_json::Value::Number(n) => {
                    map.insert(k.clone(), n.to_string());
                    kinds.insert(k.clone(), Json::Number);
                }
                serde_json::Value::Bool(b) => {
                    map.insert(k.clone(), b.to_string());
                    kinds.insert(k.clone(), Json::Bool);
                }
                _ => {
                    errors.insert(k.clone(), "must be a single value".into());
                }
            }
        }
        if !errors.is_empty() {
            return Err(AppError::invalid(errors));
        }
        Ok(Input(map, None, nulls, kinds))
    }

    /// The input, refusing fields nobody reads (see `Validator::finish`).
    pub fn strict(mut self) -> Input {
        self.1 = Some(Read::default());
        self
    }

    fn mark(&self, name: &str) {
        if let Some(read) = &self.1 {
            let mut read = read.lock().unwrap_or_else(|p| p.into_inner());
            read.insert(name.to_string());
        }
    }

    /// The fields of a strict input that nothing has read.
    fn unread(&self) -> Vec<String> {
        let Some(read) = &self.1 else {
            return Vec::new();
        };
        let read = read.lock().unwrap_or_else(|p| p.into_inner());
        self.0
            .keys()
            .chain(self.2.iter())
            .filter(|k| !read.contains(*k))
            .cloned()
            .collect()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.mark(name);
        self.0.get(name).map(|s| s.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.mark(name);
        self.0.contains_key(name)
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.0.insert(name.to_string(), value.into());
        self.3.remove(name);
    }

    /// The non-blank trimmed value.
    fn value(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|s| !s.is_empty())
    }

    pub fn validator(&self) -> Validator<'_> {
        Validator {
            input: self,
            errors: FieldErrors::new(),
        }
    }
}

/// Collects one error per field; `finish` turns them into a 422.
pub struct Validator<'a> {
    input: &'a Input,
    errors: FieldErrors,
}

impl<'a> Validator<'a> {
    pub fn error(&mut self, name: &str, why: impl Into<String>) {
        self.errors
            .entry(name.to_string())
            .or_insert_with(|| why.into());
    }

    /// The non-blank value, if it is of the JSON type `want` (any value of a form or query
    /// is text); a value of another JSON type is an error.
    fn typed(&mut self, name: &str, want: Json) -> Option<&'a str> {
        let input = self.input;
        // The type first: `"capacity": ""` is a string where a number belongs, not an
        // absent capacity.
        if input.3.get(name).is_some_and(|kind| *kind != want) {
            input.mark(name);
            self.error(name, want.refusal());
            return None;
        }
        input.value(name)
    }

    /// A JSON string that is blank where a value of a kind (a date, a time, a choice) is
    /// wanted: refused, where a form's empty field means "none".
    fn blank_json(&mut self, name: &str, why: &str) -> bool {
        let input = self.input;
        let blank = input.3.get(name) == Some(&Json::Text)
            && input.0.get(name).is_some_and(|v| v.trim().is_empty());
        if blank {
            input.mark(name);
            self.error(name, why);
        }
        blank
    }

    /// Refuses the field if it is present but not of the JSON type `want`.
    pub fn of_type(&mut self, name: &str, want: Json) {
        let _ = self.typed(name, want);
    }

    pub fn has_error(&self, name: &str) -> bool {
        self.errors.contains_key(name)
    }

    /// The errors, if any, as a 422; a strict input's fields that nothing read are errors
    /// too ("is not a field of this request").
    pub fn finish(mut self) -> Result<(), AppError> {
        for name in self.input.unread() {
            self.error(&name, "is not a field of this request");
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::invalid(self.errors))
        }
    }

    /// Required text, trimmed, at most `max` characters.
    pub fn text(&mut self, name: &str, max: usize) -> String {
        match self.typed(name, Json::Text) {
            None => {
                self.error(name, "is required");
                String::new()
            }
            Some(s) => self.check_len(name, s, max),
        }
    }

    /// Optional text, trimmed ("" when absent), at most `max` characters.
    pub fn text_or_empty(&mut self, name: &str, max: usize) -> String {
        match self.typed(name, Json::Text) {
            None => String::new(),
            Some(s) => self.check_len(name, s, max),
        }
    }

    fn check_len(&mut self, name: &str, s: &str, max: usize) -> String {
        if s.chars().count() > max {
            self.error(name, format!("must be at most {max} characters"));
        }
        if s.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            self.error(name, "must not contain control characters");
        }
        s.to_string()
    }

    pub fn int_opt(&mut self, name: &str, min: i64, max: i64) -> Option<i32> {
        let raw = self.typed(name, Json::Number)?;
        match raw.parse::<i64>() {
            Ok(n) if n < min => {
                self.error(name, format!("must be at least {min}"));
                None
            }
            Ok(n) if n > max => {
                self.error(name, format!("must be at most {max}"));
                None
            }
            Ok(n) => i32::try_from(n).ok(),
            Err(_) => {
                self.error(name, "must be a whole number");
                None
            }
        }
    }

    pub fn int(&mut self, name: &str, min: i64, max: i64) -> i32 {
        if self.input.value(name).is_none() {
            self.error(name, "is required");
            return 0;
        }
        self.int_opt(name, min, max).unwrap_or(0)
    }

    pub fn decimal_opt(&mut self, name: &str, min: f64, max: f64) -> Option<f64> {
        let raw = self.typed(name, Json::Number)?;
        match raw.parse::<f64>() {
            Ok(n) if n.is_finite() && n >= min && n <= max => Some(n),
            Ok(_) => {
                self.error(name, format!("must be between {min} and {max}"));
                None
            }
            Err(_) => {
                self.error(name, "must be a number");
                None
            }
        }
    }

    pub fn date_opt(&mut self, name: &str) -> Option<NaiveDate> {
        if self.blank_json(name, "must be a date like 2026-09-01") {
            return None;
        }
        let raw = self.typed(name, Json::Text)?;
        match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            Ok(d) if in_years(d) => Some(d),
            Ok(_) => {
                self.error(name, "must be a date between the years 1900 and 2999");
                None
            }
            Err(_) => {
                self.error(name, "must be a date like 2026-09-01");
                None
            }
        }
    }

    /// A moment with its UTC offset (RFC 3339), stored as UTC. When `local` is given, a
    /// form's offset-less `2026-03-01T10:00` is read in that time zone.
    pub fn datetime(
        &mut self,
        name: &str,
        local: Option<chrono_tz::Tz>,
    ) -> Option<chrono::NaiveDateTime> {
        if self.blank_json(
            name,
            "must be a date and time with its UTC offset, like 2026-03-01T10:00:00+00:00",
        ) {
            return None;
        }
        let Some(raw) = self.typed(name, Json::Text) else {
            self.error(name, "is required");
            return None;
        };
        let bounded = |t: chrono::NaiveDateTime| in_years(t.date()).then_some(t);
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
            if let Some(t) = bounded(t.naive_utc()) {
                return Some(t);
            }
            self.error(name, "must be a time between the years 1900 and 2999");
            return None;
        }
        if let Some(tz) = local {
            for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
                if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(raw, format) {
                    use chrono::TimeZone;
                    if !in_years(naive.date()) {
                        self.error(name, "must be a time between the years 1900 and 2999");
                        return None;
                    }
                    if let Some(t) = tz.from_local_datetime(&naive).earliest() {
                        return Some(t.naive_utc());
                    }
                }
            }
        }
        self.error(
            name,
            "must be a date and time with its UTC offset, like 2026-03-01T10:00:00+00:00",
        );
        None
    }

    /// A checkbox or JSON boolean; absent means false.
    pub fn flag(&mut self, name: &str) -> bool {
        match self.typed(name, Json::Bool) {
            None => false,
            Some("true" | "on" | "1" | "yes") => true,
            Some("false" | "off" | "0" | "no") => false,
            Some(_) => {
                self.error(name, "must be true or false");
                false
            }
        }
    }

    /// An id of another record (existence is checked by the caller).
    pub fn id_opt(&mut self, name: &str) -> Option<i32> {
        let raw = self.typed(name, Json::Number)?;
        match raw.parse::<i32>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                self.error(name, "must be the id of an existing record");
                None
            }
        }
    }

    /// One of the values of a text enum.
    pub fn choice_opt<E: TextEnum>(&mut self, name: &str) -> Option<E> {
        if self.blank_json(name, "must not be empty; leave it out instead") {
            return None;
        }
        let raw = self.typed(name, Json::Text)?;
        match E::parse(raw) {
            Some(v) => Some(v),
            None => {
                let allowed: Vec<&str> = E::ALL.iter().map(|e| e.as_str()).collect();
                self.error(name, format!("must be one of: {}", allowed.join(", ")));
                None
            }
        }
    }

    pub fn choice<E: TextEnum>(&mut self, name: &str) -> Option<E> {
        if self.input.value(name).is_none() {
            self.error(name, "is required");
            return None;
        }
        self.choice_opt(name)
    }
}

/// An enum stored as text: one place converts it both ways.
pub trait TextEnum: Sized + Copy + 'static {
    const ALL: &'static [Self];
    /// The type's name, for errors.
    const NAME: &'static str;
    fn as_str(&self) -> &'static str;
    fn label(&self) -> &'static str;
    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }
    /// The value read from a row: an unknown one is an error, never a default.
    fn from_db(s: &str) -> Result<Self, AppError> {
        Self::parse(s).ok_or_else(|| {
            AppError::internal(format!(
                "the database holds an unknown {} '{s}'",
                Self::NAME
            ))
        })
    }
}

/// Declares a text enum with its stored value and its label for people.
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:literal : $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $crate::domain::input::TextEnum for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            const NAME: &'static str = stringify!($name);
            fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $value),+ }
            }
            fn label(&self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($crate::domain::input::TextEnum::as_str(self))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::domain::input::TextEnum::label(self))
            }
        }

        // The API document's schema: a string of exactly these values.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::domain::input::enum_schema(&[$($value),+])
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

/// A string schema of these values (a text enum in the API document).
pub fn enum_schema(values: &[&str]) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(values.iter().copied()))
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validator_names_each_bad_field() {
        let input = Input::from_pairs([
            ("name", "  "),
            ("pupils", "-3"),
            ("fsm", "abc"),
            ("on", "2026-02-30"),
        ]);
        let mut v = input.validator();
        v.text("name", 10);
        v.int_opt("pupils", 0, 100);
        v.decimal_opt("fsm", 0.0, 100.0);
        v.date_opt("on");
        let err = v.finish().unwrap_err();
        let fields = err.fields().unwrap();
        assert_eq!(fields["name"], "is required");
        assert_eq!(fields["pupils"], "must be at least 0");
        assert_eq!(fields["fsm"], "must be a number");
        assert!(fields["on"].contains("date"));
    }

    #[test]
    fn json_numbers_and_nulls() {
        let input = Input::from_json(&serde_json::json!({"a": 3, "b": null, "c": true})).unwrap();
        assert_eq!(input.get("a"), Some("3"));
        assert_eq!(input.get("b"), None);
        assert_eq!(input.get("c"), Some("true"));
        assert!(Input::from_json(&serde_json::json!([1])).is_err());
        assert!(Input::from_json(&serde_json::json!({"a": [1]})).is_err());
    }
}
