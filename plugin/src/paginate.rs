//! Following pagination and merging pages: `next` links for page/page_size listings, and
//! `startIndex`/`count` stepping for SCIM.

use crate::prelude::*;

use crate::catalog::Pagination;
use crate::request::{Origin, url_origin, with_query_param};
use serde_json::Value;

/// Where the next page is, if there is one to fetch.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    Url(String),
    /// The listing has more, but its `next` link leaves the Hub's origin: not followed.
    OffOrigin(String),
    Done,
}

/// Decides the next page from the page just decoded. `current_url` is the URL that produced it.
pub fn next_page(style: Pagination, page: &Value, current_url: &str, origin: &Origin) -> Next {
    match style {
        Pagination::None => Next::Done,
        Pagination::Page => match page.get("next").and_then(Value::as_str) {
            Some(link) if !link.is_empty() => {
                if url_origin(link).as_ref() == Some(origin) {
                    Next::Url(link.to_string())
                } else {
                    Next::OffOrigin(link.to_string())
                }
            }
            _ => Next::Done,
        },
        Pagination::Scim => {
            let resources = page
                .get("Resources")
                .and_then(Value::as_array)
                .map_or(0, Vec::len) as u64;
            let start = page.get("startIndex").and_then(Value::as_u64).unwrap_or(1);
            let total = page
                .get("totalResults")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let next_start = start + resources;
            if resources == 0 || next_start > total {
                Next::Done
            } else {
                Next::Url(with_query_param(
                    current_url,
                    "startIndex",
                    &next_start.to_string(),
                ))
            }
        }
    }
}

/// The value of query parameter `name` in `url`, as written (not decoded).
fn query_value<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then_some(value)
    })
}

/// The URLs of every page after the first, when the first page says how many there are, so
/// that they can be fetched side by side; `None` when it does not say (then `next` is followed
/// page by page). `first_url` produced `first`, and `next` is what [`next_page`] made of it.
///
/// - page/page_size listings: `next` must be the same listing's page 2 on the Hub's origin, and
///   `count` the total; a page holds as many items as the first one did (a first page with a
///   `next` is full). Page `k` is `next` with `page=k`.
/// - SCIM: `totalResults` items from `startIndex`, as many per page as the first page held.
///
/// At most `limit` URLs, in page order. A listing that grows meanwhile is finished by following
/// the last page's `next`, and one that shrinks ends with pages that are empty or not found.
pub fn remaining_pages(
    style: Pagination,
    first: &Value,
    first_url: &str,
    next: &Next,
    limit: u32,
) -> Option<Vec<String>> {
    let Next::Url(link) = next else { return None };
    let per_page = first
        .get(items_key(style))
        .and_then(Value::as_array)
        .map_or(0, Vec::len) as u64;
    if per_page == 0 {
        return None;
    }
    let limit = u64::from(limit);
    match style {
        Pagination::None => None,
        Pagination::Page => {
            if query_value(link, "page") != Some("2") {
                return None;
            }
            let count = first.get("count").and_then(Value::as_u64)?;
            let pages = count.div_ceil(per_page).min(limit.saturating_add(1));
            Some(
                (2..=pages)
                    .map(|k| {
                        if k == 2 {
                            link.clone()
                        } else {
                            with_query_param(link, "page", &k.to_string())
                        }
                    })
                    .collect(),
            )
        }
        Pagination::Scim => {
            let start = first.get("startIndex").and_then(Value::as_u64).unwrap_or(1);
            let total = first.get("totalResults").and_then(Value::as_u64)?;
            Some(
                (1..=limit)
                    .map(|k| start + k * per_page)
                    .take_while(|&index| index <= total)
                    .map(|index| with_query_param(first_url, "startIndex", &index.to_string()))
                    .collect(),
            )
        }
    }
}

/// Which page of a listing `url` asks for: its `page` (page/page_size listings) or its
/// `startIndex` (SCIM), as written.
pub fn page_of(style: Pagination, url: &str) -> Option<&str> {
    match style {
        Pagination::Page => query_value(url, "page"),
        Pagination::Scim => query_value(url, "startIndex"),
        Pagination::None => None,
    }
}

/// The array of items a page carries.
fn items_key(style: Pagination) -> &'static str {
    match style {
        Pagination::Scim => "Resources",
        _ => "results",
    }
}

/// Appends the items of `page` to `merged`. A page that is not an object with an items array
/// (the members listing has been seen as an array of pages) contributes what it can.
pub fn merge(style: Pagination, merged: &mut Value, page: Value) {
    let key = items_key(style);
    let new_items = match page {
        Value::Object(mut map) => match map.remove(key) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        Value::Array(pages) => pages
            .into_iter()
            .flat_map(|p| match p {
                Value::Object(mut m) => match m.remove(key) {
                    Some(Value::Array(items)) => items,
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            })
            .collect(),
        _ => Vec::new(),
    };
    if let Some(Value::Array(items)) = merged.get_mut(key) {
        items.extend(new_items);
    }
}

/// Final touches on a merged listing: it no longer points at further pages, unless the cap or
/// an off-origin link stopped it, in which case `next` says where the rest starts.
pub fn finish(style: Pagination, merged: &mut Value, remaining: Option<String>) {
    let Value::Object(map) = merged else { return };
    match style {
        Pagination::Page => {
            map.insert("next".into(), remaining.map_or(Value::Null, Value::String));
            map.insert("previous".into(), Value::Null);
        }
        Pagination::Scim => {
            let n = map
                .get("Resources")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            map.insert("itemsPerPage".into(), Value::from(n));
        }
        Pagination::None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hub() -> Origin {
        Origin {
            scheme: "https".into(),
            authority: "hub.docker.com".into(),
        }
    }

    #[test]
    fn page_links_on_the_same_origin_are_followed() {
        let page = json!({"next": "https://hub.docker.com/v2/x?page=2", "results": []});
        assert_eq!(
            next_page(Pagination::Page, &page, "", &hub()),
            Next::Url("https://hub.docker.com/v2/x?page=2".into())
        );
    }

    #[test]
    fn page_links_to_another_host_are_not_followed() {
        for link in [
            "https://evil.example/v2/x?page=2",
            "http://hub.docker.com/v2/x",
            "https://hub.docker.com.evil/x",
        ] {
            let page = json!({"next": link});
            assert_eq!(
                next_page(Pagination::Page, &page, "", &hub()),
                Next::OffOrigin(link.into()),
                "{link}"
            );
        }
        assert_eq!(
            next_page(Pagination::Page, &json!({"next": null}), "", &hub()),
            Next::Done
        );
    }

    #[test]
    fn a_counted_listing_names_every_further_page() {
        let link = "https://hub.docker.com/v2/x?page=2&page_size=3";
        let first = json!({"count": 10, "next": link, "results": [1, 2, 3]});
        let next = next_page(Pagination::Page, &first, "", &hub());
        let urls = remaining_pages(Pagination::Page, &first, "", &next, 100).unwrap();
        assert_eq!(
            urls,
            [
                link.to_string(),
                "https://hub.docker.com/v2/x?page_size=3&page=3".into(),
                "https://hub.docker.com/v2/x?page_size=3&page=4".into(),
            ]
        );
        // 9 items: exactly three pages; a cap of 1 further page.
        let nine = json!({"count": 9, "next": link, "results": [1, 2, 3]});
        let next = next_page(Pagination::Page, &nine, "", &hub());
        assert_eq!(
            remaining_pages(Pagination::Page, &nine, "", &next, 100)
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            remaining_pages(Pagination::Page, &nine, "", &next, 1).unwrap(),
            [link]
        );
        // Not said, or not a page-number link: follow `next` instead.
        for first in [
            json!({"next": link, "results": [1]}),
            json!({"count": 10, "next": "https://hub.docker.com/v2/x?cursor=abc", "results": [1]}),
            json!({"count": 10, "next": link, "results": []}),
        ] {
            let next = next_page(Pagination::Page, &first, "", &hub());
            assert_eq!(
                remaining_pages(Pagination::Page, &first, "", &next, 100),
                None,
                "{first}"
            );
        }
        let done = json!({"count": 1, "next": null, "results": [1]});
        assert_eq!(
            remaining_pages(Pagination::Page, &done, "", &Next::Done, 100),
            None
        );
    }

    #[test]
    fn a_scim_listing_names_every_further_start_index() {
        let url = "https://hub.docker.com/v2/scim/2.0/Users?count=2";
        let first =
            json!({"totalResults": 5, "startIndex": 1, "itemsPerPage": 2, "Resources": [1, 2]});
        let next = next_page(Pagination::Scim, &first, url, &hub());
        let urls = remaining_pages(Pagination::Scim, &first, url, &next, 100).unwrap();
        assert_eq!(
            urls,
            [
                "https://hub.docker.com/v2/scim/2.0/Users?count=2&startIndex=3",
                "https://hub.docker.com/v2/scim/2.0/Users?count=2&startIndex=5",
            ]
        );
        // The sequential walk asks for the same second page.
        assert_eq!(next, Next::Url(urls[0].clone()));
    }

    #[test]
    fn scim_steps_start_index_until_total() {
        let page =
            json!({"totalResults": 5, "startIndex": 1, "itemsPerPage": 2, "Resources": [1, 2]});
        assert_eq!(
            next_page(
                Pagination::Scim,
                &page,
                "https://hub.docker.com/v2/scim/2.0/Users?count=2",
                &hub()
            ),
            Next::Url("https://hub.docker.com/v2/scim/2.0/Users?count=2&startIndex=3".into())
        );
        let last = json!({"totalResults": 5, "startIndex": 5, "Resources": [5]});
        assert_eq!(next_page(Pagination::Scim, &last, "u", &hub()), Next::Done);
        let empty = json!({"totalResults": 9, "startIndex": 3, "Resources": []});
        assert_eq!(next_page(Pagination::Scim, &empty, "u", &hub()), Next::Done);
    }

    #[test]
    fn merging_appends_items_and_clears_links() {
        let mut merged = json!({"count": 3, "next": "n", "previous": null, "results": [1]});
        merge(Pagination::Page, &mut merged, json!({"results": [2, 3]}));
        finish(Pagination::Page, &mut merged, None);
        assert_eq!(
            merged,
            json!({"count": 3, "next": null, "previous": null, "results": [1, 2, 3]})
        );

        let mut merged = json!({"totalResults": 3, "Resources": [1]});
        merge(Pagination::Scim, &mut merged, json!({"Resources": [2, 3]}));
        finish(Pagination::Scim, &mut merged, None);
        assert_eq!(merged["Resources"], json!([1, 2, 3]));
        assert_eq!(merged["itemsPerPage"], json!(3));
    }

    #[test]
    fn capped_listing_keeps_where_to_continue() {
        let mut merged = json!({"results": [1], "next": "x"});
        finish(
            Pagination::Page,
            &mut merged,
            Some("https://hub.docker.com/v2/x?page=3".into()),
        );
        assert_eq!(merged["next"], json!("https://hub.docker.com/v2/x?page=3"));
    }
}
