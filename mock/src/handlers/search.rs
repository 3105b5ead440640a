//! The `search` area: Docker Hub's search (`/api/search/v4`, beside the API on the same
//! origin), over the public repositories of the mock's world.

use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::http::{ApiError, Reply, Request};
use crate::ids::fnv;
use crate::state::{HubState, Repo};

const DEFAULT_SIZE: usize = 25;
const MAX_SIZE: usize = 100;
const BADGES: &[&str] = &["official", "verified_publisher", "open_source"];

/// `name` must be absent or one of `allowed`.
fn one_of<'a>(req: &'a Request, name: &str, allowed: &[&str]) -> Result<Option<&'a str>, ApiError> {
    match req.query(name) {
        None | Some("") => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v)),
        Some(v) => Err(ApiError::field(
            name,
            format!("{name}: {v:?} is not one of {}", allowed.join(", ")),
        )),
    }
}

/// A comma-joined filter, as its lowercase values; empty when not given.
fn list(req: &Request, name: &str) -> Vec<String> {
    req.query(name)
        .unwrap_or("")
        .split(',')
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

fn count(req: &Request, name: &str, default: usize) -> Result<usize, ApiError> {
    match req.query(name) {
        None | Some("") => Ok(default),
        Some(text) => text.parse::<usize>().map_err(|_| {
            ApiError::field(
                name,
                format!("{name}: must be a non-negative integer, got {text:?}"),
            )
        }),
    }
}

fn badge(repo: &Repo) -> Option<&'static str> {
    (repo.namespace == "library").then_some("official")
}

fn platforms(repo: &Repo, pick: fn(&crate::state::Image) -> &str) -> Vec<String> {
    let mut out: Vec<String> = repo
        .tags
        .iter()
        .flat_map(|t| t.images.iter())
        .map(|i| pick(i).to_string())
        .filter(|v| !v.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn labelled(values: &[String]) -> Vec<Value> {
    values
        .iter()
        .map(|v| {
            let mut label = v.clone();
            if let Some(first) = label.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            json!({"name": v, "label": label})
        })
        .collect()
}

fn entry(repo: &Repo) -> Value {
    // Official images are named without their namespace, as on the Hub.
    let name = if repo.namespace == "library" {
        repo.name.clone()
    } else {
        format!("{}/{}", repo.namespace, repo.name)
    };
    let publisher = if repo.namespace == "library" {
        "Docker"
    } else {
        repo.namespace.as_str()
    };
    json!({
        "id": format!("{:016x}", fnv(&[&repo.namespace, &repo.name])),
        "name": name,
        "slug": name,
        "type": "image",
        "publisher": {
            "id": format!("{:016x}", fnv(&[&repo.namespace])),
            "name": publisher,
        },
        "created_at": rfc3339(repo.date_registered),
        "updated_at": rfc3339(repo.last_updated),
        "short_description": repo.description,
        "badge": badge(repo).unwrap_or("none"),
        "star_count": repo.star_count,
        "pull_count": repo.pull_count.to_string(),
        "operating_systems": labelled(&platforms(repo, |i| &i.os)),
        "architectures": labelled(&platforms(repo, |i| &i.architecture)),
        "logo_url": null,
        "extension_reviewed": false,
        "categories": [],
        "archived": false,
    })
}

pub(crate) fn search(state: &HubState, req: &Request) -> Result<Reply, ApiError> {
    let query = req
        .query("query")
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .ok_or_else(|| ApiError::field("query", "query: required"))?
        .to_ascii_lowercase();
    let from = count(req, "from", 0)?;
    let size = count(req, "size", DEFAULT_SIZE)?.min(MAX_SIZE);
    let sort = one_of(req, "sort", &["pull_count", "updated_at"])?;
    let order = one_of(req, "order", &["asc", "desc"])?;
    let kind = one_of(req, "type", &["image", "plugin", "extension"])?;
    let badges = list(req, "badges");
    if let Some(b) = badges.iter().find(|b| !BADGES.contains(&b.as_str())) {
        return Err(ApiError::field(
            "badges",
            format!("badges: {b:?} is not one of {}", BADGES.join(", ")),
        ));
    }
    let categories = list(req, "categories");
    let architectures = list(req, "architectures");
    let systems = list(req, "operating_systems");
    let any = |wanted: &[String], have: &[String]| {
        wanted.is_empty() || wanted.iter().any(|w| have.contains(w))
    };

    let mut hits: Vec<&Repo> = state
        .repos
        .values()
        .filter(|r| !r.is_private)
        .filter(|r| {
            format!("{}/{}", r.namespace, r.name).contains(&query)
                || r.description.to_ascii_lowercase().contains(&query)
        })
        // Every repository of the mock holds images.
        .filter(|_| kind.is_none_or(|k| k == "image"))
        .filter(|r| badges.is_empty() || badge(r).is_some_and(|b| badges.iter().any(|w| w == b)))
        // No repository of the mock is filed under a category.
        .filter(|_| categories.is_empty())
        .filter(|r| any(&architectures, &platforms(r, |i| &i.architecture)))
        .filter(|r| any(&systems, &platforms(r, |i| &i.os)))
        .collect();
    // Best match first: a name match before a description match, then by pulls.
    let name_match = |r: &Repo| r.name.contains(&query);
    hits.sort_by(|a, b| {
        let primary = match sort {
            Some("pull_count") => a.pull_count.cmp(&b.pull_count),
            Some(_) => a.last_updated.cmp(&b.last_updated),
            None => name_match(a)
                .cmp(&name_match(b))
                .then(a.pull_count.cmp(&b.pull_count)),
        };
        let primary = if order == Some("asc") && sort.is_some() {
            primary
        } else {
            primary.reverse()
        };
        primary
            .then_with(|| a.namespace.cmp(&b.namespace))
            .then_with(|| a.name.cmp(&b.name))
    });
    let results: Vec<Value> = hits
        .iter()
        .skip(from)
        .take(size)
        .map(|r| entry(r))
        .collect();
    Ok(Reply::ok(&json!({
        "total": hits.len(),
        "results": results,
    })))
}
