//! The operation table's types and lookup. The table itself is generated from spec/ into
//! `generated/operations.rs`.
//!
//! The records here are `&'static` views of the catalog's, shaped for a table compiled into the
//! component; the enums they hold are `dockhand-vocab`'s, the same types the generator read
//! from the catalog, so the generated table names their variants directly.

use crate::prelude::*;

pub use crate::generated::operations::{AREAS, NAME_INDEX, OPERATIONS};
pub use dockhand_vocab::{Access, Auth, Location, Method, Pagination, Type};

#[derive(Debug)]
pub struct Area {
    pub name: &'static str,
    pub summary: &'static str,
}

#[derive(Debug)]
pub struct Operation {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub area: &'static str,
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    pub destructive: bool,
    pub idempotent: bool,
    pub auth: Auth,
    pub deprecated: bool,
    pub pagination: Pagination,
    pub summary: &'static str,
    pub params: &'static [Param],
    pub body: Option<Body>,
    /// Success statuses with their content type (`None`: no body).
    pub responses: &'static [(u16, Option<&'static str>)],
}

#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub location: Location,
    pub ty: Type,
    pub required: bool,
    pub enum_values: &'static [&'static str],
    pub default: Option<&'static str>,
    pub description: &'static str,
}

#[derive(Debug)]
pub struct Body {
    pub content_type: &'static str,
    pub required: bool,
    pub fields: &'static [Field],
}

#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub ty: Type,
    pub items: Option<Type>,
    pub required: bool,
    pub enum_values: &'static [&'static str],
    pub format: Option<&'static str>,
    pub description: &'static str,
}

impl Param {
    pub fn answers_to(&self, key: &str) -> bool {
        self.name == key || self.aliases.contains(&key)
    }
}

impl Field {
    pub fn answers_to(&self, key: &str) -> bool {
        self.name == key || self.aliases.contains(&key)
    }
}

impl Operation {
    /// The content type of the first success response that has a body.
    pub fn response_content_type(&self) -> Option<&'static str> {
        self.responses.iter().find_map(|(_, ct)| *ct)
    }
}

/// Finds an operation by its name or any alias. Kebab-case spellings (the WIT function names)
/// are accepted too.
pub fn find(name: &str) -> Option<&'static Operation> {
    let lookup = |n: &str| {
        NAME_INDEX
            .binary_search_by(|(k, _)| (*k).cmp(n))
            .ok()
            .map(|i| &OPERATIONS[NAME_INDEX[i].1])
    };
    lookup(name).or_else(|| {
        if name.contains('-') {
            lookup(&name.replace('-', "_"))
        } else {
            None
        }
    })
}

/// The closest names to a misspelt one, for the error message.
pub fn suggestions(name: &str) -> Vec<&'static str> {
    // Far longer than any name: nothing is near it, and the edit distances would cost time
    // proportional to its length (a caller could pass megabytes).
    if name.len() > 128 {
        return Vec::new();
    }
    let needle = name.to_ascii_lowercase().replace('-', "_");
    let mut scored: Vec<(usize, &'static str)> = OPERATIONS
        .iter()
        .map(|op| (edit_distance(&needle, op.name), op.name))
        .filter(|(d, n)| *d <= 3 || n.contains(needle.as_str()) || words_prefix_words(&needle, n))
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

/// Every word of `short` starts a word of `name`, in order: `list_repo_tags` ~ `list_repository_tags`.
fn words_prefix_words(short: &str, name: &str) -> bool {
    let mut words = name.split('_');
    short
        .split('_')
        .filter(|w| !w.is_empty())
        .all(|w| words.any(|n| n.starts_with(w)))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_and_alias_resolves_to_its_operation() {
        for op in OPERATIONS {
            assert_eq!(find(op.name).map(|o| o.name), Some(op.name));
            for alias in op.aliases {
                assert_eq!(find(alias).map(|o| o.name), Some(op.name), "alias {alias}");
            }
        }
        assert_eq!(OPERATIONS.len(), 54);
    }

    #[test]
    fn seed_names_and_kebab_names_resolve() {
        assert_eq!(
            find("docker_list_tags").unwrap().name,
            "list_repository_tags"
        );
        assert_eq!(
            find("ListRepositoryTags").unwrap().name,
            "list_repository_tags"
        );
        assert_eq!(
            find("list-repository-tags").unwrap().name,
            "list_repository_tags"
        );
        // The seed used this name twice; it stays with the organization token create.
        assert_eq!(
            find("create_access_token").unwrap().name,
            "create_org_access_token"
        );
        assert_eq!(
            find("docker_auth_create_access_token").unwrap().name,
            "create_auth_token"
        );
        assert!(find("no_such_operation").is_none());
    }

    #[test]
    fn suggestions_find_near_misses() {
        assert_eq!(
            suggestions("list_repository_tag")[0],
            "list_repository_tags"
        );
    }

    #[test]
    fn a_huge_name_gets_no_suggestions() {
        assert!(suggestions(&"list_repository_tags_".repeat(50_000)).is_empty());
    }
}
