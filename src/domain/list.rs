//! Paging and searching of long lists, shared by pages and the API.

use serde::{Deserialize, Serialize};

pub const MAX_PER_PAGE: i64 = 200;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    pub page: Option<String>,
    pub per_page: Option<String>,
    pub q: Option<String>,
    /// `true` to include archived records.
    pub archived: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ListParams {
    pub page: i64,
    pub per_page: i64,
    pub q: Option<String>,
    pub include_archived: bool,
}

/// Why an API list's paging value is refused, if it is: the API says what is wrong where a
/// page clamps it to something it can show.
pub fn refuse_param(name: &str, value: &str) -> Option<String> {
    let number = value.trim().parse::<i64>();
    if value.is_empty() && name != "q" {
        return Some("is empty; leave the parameter out instead".into());
    }
    match name {
        _ if name.ends_with("_id")
            && !number
                .as_ref()
                .is_ok_and(|n| (1..=i64::from(i32::MAX)).contains(n)) =>
        {
            Some(format!("must be a whole number from 1 to {}", i32::MAX))
        }
        "page" if !number.as_ref().is_ok_and(|n| (1..=1_000_000).contains(n)) => {
            Some("must be a whole number from 1 to 1000000".into())
        }
        "per_page"
            if !number
                .as_ref()
                .is_ok_and(|n| (1..=MAX_PER_PAGE).contains(n)) =>
        {
            Some(format!("must be a whole number from 1 to {MAX_PER_PAGE}"))
        }
        "archived" if !matches!(value, "true" | "false") => Some("must be true or false".into()),
        "q" if value.chars().count() > 100 => Some("must be at most 100 characters".into()),
        _ => None,
    }
}

impl ListQuery {
    /// Out-of-range values are clamped rather than refused: a list always shows something.
    pub fn params(&self) -> ListParams {
        let page = self
            .page
            .as_deref()
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(1)
            .clamp(1, 1_000_000);
        let per_page = self
            .per_page
            .as_deref()
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(50)
            .clamp(1, MAX_PER_PAGE);
        let q = self
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            // Control characters (a NUL is an error to PostgreSQL) never reach a query.
            .map(|q| {
                q.chars()
                    .filter(|c| !c.is_control())
                    .take(100)
                    .collect::<String>()
            })
            .filter(|q| !q.trim().is_empty());
        ListParams {
            page,
            per_page,
            q,
            include_archived: matches!(self.archived.as_deref(), Some("true" | "1" | "on")),
        }
    }
}

impl ListParams {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, params: &ListParams, total: i64) -> Page<T> {
        Page {
            items,
            page: params.page,
            per_page: params.per_page,
            total,
        }
    }

    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            per_page: self.per_page,
            total: self.total,
        }
    }
}

impl<T> Page<T> {
    /// A page of records made from the rows read for it (a row that does not make a
    /// record is an error).
    pub fn of_rows<R: TryInto<T, Error = crate::error::AppError>>(
        rows: Vec<R>,
        params: &ListParams,
        total: i64,
    ) -> crate::error::AppResult<Page<T>> {
        let items = rows
            .into_iter()
            .map(TryInto::try_into)
            .collect::<crate::error::AppResult<_>>()?;
        Ok(Page::new(items, params, total))
    }
}

impl<T> Page<T> {
    /// A page of records made from the rows read for it by `make`.
    pub fn of_rows_with<R>(
        rows: Vec<R>,
        params: &ListParams,
        total: i64,
        make: impl Fn(R) -> crate::error::AppResult<T>,
    ) -> crate::error::AppResult<Page<T>> {
        let items = rows
            .into_iter()
            .map(make)
            .collect::<crate::error::AppResult<_>>()?;
        Ok(Page::new(items, params, total))
    }
}

/// A filter: any of these text columns contains the search term, case-insensitively
/// (`pattern` from `like_pattern`, so `%` and `_` in the term are literal).
macro_rules! any_column_like {
    ($pattern:expr; $first:expr $(, $column:expr)* $(,)?) => {{
        let pattern: String = $pattern;
        crate::domain::lower($first)
            .like(pattern.clone())
            .escape('\\')
            $(.or(crate::domain::lower($column).like(pattern.clone()).escape('\\')))*
    }};
}
pub(crate) use any_column_like;

/// One page of a list: `query` is a closure that builds the filtered boxed query (called
/// twice: to count, and to read the page in `order`, selecting `row`).
macro_rules! page_of {
    ($conn:expr, $params:expr, $query:expr, order: $order:expr, row: $row:ty $(,)?) => {{
        let query = $query;
        let params: &crate::domain::list::ListParams = $params;
        let total: i64 = query().count().get_result($conn)?;
        let rows: Vec<$row> = query()
            .order($order)
            .limit(params.per_page)
            .offset(params.offset())
            .select(<$row>::as_select())
            .load($conn)?;
        crate::domain::list::Page::of_rows(rows, params, total)
    }};
}
pub(crate) use page_of;
