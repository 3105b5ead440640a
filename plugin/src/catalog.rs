//! The operation table's types and lookup. The table itself is generated from spec/ into
//! `generated/operations.rs`.
//!
//! The records here are `&'static` views of the catalog's, shaped for a table compiled into the
//! component; the enums they hold are `dockhand-vocab`'s, the same types the generator read
//! from the catalog, so the generated table names their variants directly.

use crate::prelude::*;

use crate::generated::operations::RESULT_SCHEMAS;
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
    /// Where an operation Docker's OpenAPI description does not list comes from (the public
    /// tool that uses it); `None` for Docker's published operations.
    pub source: Option<&'static str>,
    pub pagination: Pagination,
    pub summary: &'static str,
    pub params: &'static [Param],
    pub body: Option<Body>,
    /// Success statuses with their content type (`None`: no body).
    pub responses: &'static [(u16, Option<&'static str>)],
    /// Where the operation's result schema is in [`result_schemas`]: what a call returns as its
    /// result, as compact JSON Schema text (the catalog's result shape, `dockhand_spec::shape`).
    pub result_schema: core::ops::Range<usize>,
    /// For a listing, how a table for people shows it (the WIT `table-view`).
    pub table: Option<Table>,
}

/// Which field of a listing holds its rows, and which fields of a row are the columns.
#[derive(Debug)]
pub struct Table {
    pub rows: &'static str,
    pub columns: &'static [&'static str],
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
    /// Bounds of an integer parameter, where the Hub has them.
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
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
    /// The most characters a string field may have.
    pub max_length: Option<u32>,
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
    /// The operation's result schema, out of the text [`result_schemas`] returned.
    pub fn result_schema<'a>(&self, schemas: &'a str) -> &'a str {
        schemas.get(self.result_schema.clone()).unwrap_or("{}")
    }

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
    // Far longer than any name: nothing is near it.
    if name.len() > dockhand_vocab::similar::MAX_LEN {
        return Vec::new();
    }
    let needle = name.to_ascii_lowercase().replace('-', "_");
    dockhand_vocab::similar::closest(&needle, OPERATIONS.iter().map(|op| op.name))
        .into_iter()
        .flatten()
        .collect()
}

/// Every operation's result schema, side by side ([`Operation::result_schema`] finds one),
/// unpacked from the generated table. Empty if the table were corrupt, which a test rules out.
pub fn result_schemas() -> String {
    unpack(RESULT_SCHEMAS)
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default()
}

/// The shortest copy the packer writes (xtask's `tables::pack`, which describes the format).
const MIN_COPY: usize = 4;

/// Undoes xtask's `tables::pack`: runs of literal bytes, and copies of earlier output.
fn unpack(packed: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(packed.len() * 8);
    let mut i = 0;
    while let Some(&token) = packed.get(i) {
        i += 1;
        if token < 0x80 {
            let run = packed.get(i..i + usize::from(token) + 1)?;
            out.extend_from_slice(run);
            i += run.len();
            continue;
        }
        let mut distance = 0usize;
        let mut shift = 0;
        loop {
            let byte = *packed.get(i)?;
            i += 1;
            distance |= usize::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                break;
            }
            shift += 7;
            if shift > 21 {
                return None;
            }
        }
        let start = out.len().checked_sub(distance).filter(|_| distance > 0)?;
        // Byte by byte: a copy may overlap what it writes.
        for k in 0..usize::from(token & 0x7f) + MIN_COPY {
            let byte = out[start + k];
            out.push(byte);
        }
    }
    Some(out)
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
        // Docker's 54 published operations and the 6 extended ones its own tools use.
        assert_eq!(OPERATIONS.len(), 60);
        assert_eq!(OPERATIONS.iter().filter(|o| o.source.is_none()).count(), 54);
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

    #[test]
    fn every_result_schema_unpacks_to_a_json_object() {
        let schemas = result_schemas();
        assert!(!schemas.is_empty());
        for op in OPERATIONS {
            let text = op.result_schema(&schemas);
            let schema: serde_json::Value = serde_json::from_str(text).expect(op.name);
            assert!(schema.get("type").is_some(), "{}: {text}", op.name);
        }
        assert_eq!(
            OPERATIONS.iter().map(|op| op.result_schema.end).max(),
            Some(schemas.len()),
            "every byte belongs to an operation"
        );
    }

    #[test]
    fn unpacking_runs_copies_and_overlapping_copies() {
        // "ab", then 6 bytes from 2 back (overlapping: "ababab"), then "c".
        assert_eq!(
            unpack(&[1, b'a', b'b', 0x80 | 2, 2, 0, b'c']).unwrap(),
            b"ababababc".to_vec()
        );
        assert_eq!(unpack(&[0x80, 1]), None, "a copy from before the start");
        assert_eq!(unpack(&[3, b'a']), None, "a run past the end");
    }
}
