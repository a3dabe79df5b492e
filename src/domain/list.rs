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

#[derive(Debug, Clone, Serialize)]
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
