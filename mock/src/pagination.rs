//! `page`/`page_size` pagination with absolute `next`/`previous` links back to the mock.
//!
//! Links are built from the request's own Host header and raw query, so a client that follows
//! them reaches this mock with every other parameter kept exactly as it sent it.

use serde_json::{Value, json};

use crate::http::{ApiError, Request};

/// The Hub's ceiling: larger `page_size` values are quietly lowered to it.
pub(crate) const MAX_PAGE_SIZE: usize = 100;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    pub page: usize,
    pub size: usize,
}

fn positive(req: &Request, name: &str) -> Result<Option<usize>, ApiError> {
    match req.query(name) {
        None | Some("") => Ok(None),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(ApiError::field(
                name,
                format!("{name}: must be a positive integer, got {text:?}"),
            )),
        },
    }
}

impl Page {
    pub(crate) fn from_request(req: &Request, default_size: usize) -> Result<Page, ApiError> {
        Ok(Page {
            page: positive(req, "page")?.unwrap_or(1),
            size: positive(req, "page_size")?
                .unwrap_or(default_size)
                .min(MAX_PAGE_SIZE),
        })
    }

    /// The slice of `items` this page covers. A page past the end (other than the first) is a
    /// 404, as on the Hub.
    pub(crate) fn slice<'a, T>(&self, items: &'a [T]) -> Result<&'a [T], ApiError> {
        let start = (self.page - 1).saturating_mul(self.size);
        if start >= items.len() && self.page > 1 {
            return Err(ApiError::not_found("page not found"));
        }
        let end = start.saturating_add(self.size).min(items.len());
        Ok(&items[start.min(items.len())..end])
    }

    pub(crate) fn next_link(&self, req: &Request, total: usize) -> Option<String> {
        (self.page.saturating_mul(self.size) < total).then(|| link(req, self.page + 1))
    }

    pub(crate) fn previous_link(&self, req: &Request, total: usize) -> Option<String> {
        if self.page <= 1 {
            return None;
        }
        // From past the end, point back at the last page that exists.
        let last = total.div_ceil(self.size).max(1);
        Some(link(req, (self.page - 1).min(last)))
    }

    /// `{count, next, previous, results}` for `items` (all of them, before slicing).
    pub(crate) fn respond<T>(
        &self,
        req: &Request,
        items: &[T],
        render: impl Fn(&T) -> Value,
    ) -> Result<Value, ApiError> {
        let results: Vec<Value> = self.slice(items)?.iter().map(render).collect();
        Ok(json!({
            "count": items.len(),
            "next": self.next_link(req, items.len()),
            "previous": self.previous_link(req, items.len()),
            "results": results,
        }))
    }
}

/// The request's URL with `page` set, other query pairs left as they were sent.
pub(crate) fn link(req: &Request, page: usize) -> String {
    let mut pairs: Vec<String> = req
        .raw_query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && p.split('=').next() != Some("page"))
        .map(str::to_string)
        .collect();
    pairs.push(format!("page={page}"));
    format!("{}{}?{}", req.origin, req.raw_path, pairs.join("&"))
}
