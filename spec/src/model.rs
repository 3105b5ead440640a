//! The catalog's data model, as written in `spec/areas/*.yaml`.
//!
//! The records (areas, operations, parameters, bodies) are the catalog's own; the closed sets
//! they are described in (method, access, auth, pagination, parameter place and type) are
//! `dockhand-vocab`'s, re-exported here, so that the generator writes into the component's
//! tables the very values it read, and every other crate matches on the same types.

use serde::{Deserialize, Serialize};

pub use dockhand_vocab::{Access, Auth, Location, Method, Pagination, Type};

/// One API area: a group of operations that becomes one WIT interface.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Area {
    /// Kebab-case identifier, used as the WIT interface name (`org-access-tokens`).
    pub area: String,
    /// The OpenAPI tag whose operations this area holds; absent for an area whose operations
    /// Docker does not publish at all (see [`Operation::published`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// One paragraph in our own words.
    pub summary: String,
    pub operations: Vec<Operation>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    /// Unique snake_case name; the WIT function is its kebab-case form.
    pub name: String,
    pub method: Method,
    /// Path template with `{param}` placeholders, as Docker publishes it.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// Names an existing integration uses for this operation (short and full forms).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seed_names: Vec<String>,
    pub access: Access,
    #[serde(default)]
    pub destructive: bool,
    pub idempotent: bool,
    pub auth: Auth,
    #[serde(default)]
    pub deprecated: bool,
    #[serde(default)]
    pub pagination: Pagination,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    pub responses: Vec<Response>,
    /// Where the catalog departs from Docker's description, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<String>,
    /// Whether Docker's OpenAPI description lists the operation. An unpublished one (`false`)
    /// is served by the Hub and used by Docker's own tools; the drift test expects it to be
    /// absent upstream, and `source` says which tool uses it.
    #[serde(default = "published", skip_serializing_if = "is_published")]
    pub published: bool,
    /// For an unpublished operation: the public tool that uses it and how
    /// (`hub-tool: tag rm`), which is where its facts come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// For a listing: how a table for people shows it (`dockhand call -o table`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<Table>,
}

/// How a table for people shows a listing: which field of the result holds the rows, and which
/// fields of a row are its columns. Presentation only: scripts read the JSON, which it never
/// changes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// The result's field that holds the list of rows; empty when the result is the list.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rows: String,
    /// Dotted paths into a row (`images.0.os` is not one: only object fields), in the order shown.
    pub columns: Vec<String>,
}

fn published() -> bool {
    true
}

fn is_published(published: &bool) -> bool {
    *published
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Param {
    pub name: String,
    #[serde(rename = "in")]
    pub location: Location,
    #[serde(rename = "type")]
    pub ty: Type,
    #[serde(default)]
    pub required: bool,
    #[serde(default, rename = "enum", skip_serializing_if = "Vec::is_empty")]
    pub enum_values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The least and the most an integer parameter may be, where the Hub says (`page_size`:
    /// 1 to 100); checked before anything is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<i64>,
    /// The type Docker's description gives, when the catalog corrects it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_type: Option<Type>,
    /// Docker's description omits this path parameter although the template uses it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub upstream_undeclared: bool,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Body {
    pub content_type: String,
    pub required: bool,
    /// Docker's description marks the body optional although the call needs one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub upstream_optional: bool,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: Type,
    /// Element type of an array field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Type>,
    #[serde(default)]
    pub required: bool,
    #[serde(default, rename = "enum", skip_serializing_if = "Vec::is_empty")]
    pub enum_values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The most characters a string field may have; checked before anything is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Response {
    pub status: u16,
    /// `None` for a response without a body (204, HEAD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// What the body looks like, as a shape (see [`crate::shape`]); read from
    /// `spec/shapes/<area>.yaml`, not from the area file.
    #[serde(skip)]
    pub shape: Option<serde_json::Value>,
    /// Where `shape` corrects Docker's description (from the same file).
    #[serde(skip)]
    pub shape_fixes: Vec<crate::shape::ShapeFix>,
}

/// One response's entry in `spec/shapes/<area>.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ShapeEntry {
    pub shape: serde_json::Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<crate::shape::ShapeFix>,
}

/// `spec/shapes/errors.yaml`: the shapes of the Hub's error answers, by a name of ours.
pub type ErrorShapes = std::collections::BTreeMap<String, ErrorShape>;

/// One kind of error answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ErrorShape {
    /// Whether SCIM routes (`application/scim+json`) answer with it, rather than the Hub API.
    #[serde(default)]
    pub scim: bool,
    /// The only status it comes with, when it is particular to one (429).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub shape: serde_json::Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<crate::shape::ShapeFix>,
}

/// A shapes file: operation name -> status -> entry.
pub type ShapesFile =
    std::collections::BTreeMap<String, std::collections::BTreeMap<u16, ShapeEntry>>;
