//! Consistency rules a catalog must satisfy before anything is generated from it.

use crate::{Catalog, Location, Method, Operation, Pagination, Table, names};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Every problem found, one per line, so a broken edit is fixed in one pass.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogError {
    pub problems: Vec<String>,
}

impl CatalogError {
    pub fn new(problem: impl Into<String>) -> Self {
        CatalogError {
            problems: vec![problem.into()],
        }
    }
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid catalog:")?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CatalogError {}

impl Catalog {
    pub fn validate(&self) -> Result<(), CatalogError> {
        let mut problems = Vec::new();
        let mut areas = BTreeSet::new();
        // Every name of every operation must pick exactly one operation.
        let mut owners: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let mut routes = BTreeSet::new();

        for area in &self.areas {
            if !areas.insert(area.area.as_str()) {
                problems.push(format!("area `{}` defined twice", area.area));
            }
            if names::kebab_case(&area.area) != area.area {
                problems.push(format!("area `{}` is not kebab-case", area.area));
            }
            if area.tag.is_none() && area.operations.iter().any(|op| op.published) {
                problems.push(format!(
                    "area `{}` has no OpenAPI tag but holds operations Docker publishes",
                    area.area
                ));
            }
            for op in &area.operations {
                let at = format!("{} ({} {})", op.name, op.method.as_str(), op.path);
                if !names::is_snake_case(&op.name) {
                    problems.push(format!("{at}: name is not snake_case"));
                }
                if !routes.insert((op.method, op.path.as_str())) {
                    problems.push(format!("{at}: route listed twice"));
                }
                for n in op.all_names() {
                    owners.entry(n).or_default().insert(op.name.as_str());
                }
                if op.summary.trim().is_empty() || op.summary.contains("TODO") {
                    problems.push(format!("{at}: the summary is empty or unfinished"));
                }
                if matches!(op.method, Method::Get | Method::Head)
                    && op.access != crate::Access::Read
                {
                    problems.push(format!("{at}: GET and HEAD operations are `read`"));
                }
                match (op.published, op.source.as_deref().map(str::trim)) {
                    (false, None | Some("")) => problems.push(format!(
                        "{at}: an unpublished operation needs a `source` (the tool that uses it)"
                    )),
                    (true, Some(_)) => problems.push(format!(
                        "{at}: `source` is only for operations Docker does not publish"
                    )),
                    _ => {}
                }
                if !op.published && op.operation_id.is_some() {
                    problems.push(format!(
                        "{at}: an unpublished operation has no OpenAPI operationId"
                    ));
                }
                if op.destructive && op.access == crate::Access::Read {
                    problems.push(format!("{at}: a `read` operation cannot be destructive"));
                }

                let placeholders: BTreeSet<&str> = op.path_placeholders().into_iter().collect();
                let path_params: BTreeSet<&str> = op
                    .params
                    .iter()
                    .filter(|p| p.location == Location::Path)
                    .map(|p| p.name.as_str())
                    .collect();
                if placeholders != path_params {
                    problems.push(format!(
                        "{at}: path parameters {path_params:?} do not match the template's {placeholders:?}"
                    ));
                }

                let mut spellings: BTreeSet<String> = BTreeSet::new();
                for p in &op.params {
                    if p.location == Location::Path && !p.required {
                        problems.push(format!(
                            "{at}: path parameter `{}` must be required",
                            p.name
                        ));
                    }
                    if p.description.trim().is_empty() || p.description.contains("TODO") {
                        problems.push(format!("{at}: parameter `{}` has no description", p.name));
                    }
                    if let Some(d) = &p.default
                        && !p.enum_values.is_empty()
                        && !p.enum_values.contains(d)
                    {
                        problems.push(format!("{at}: default of `{}` is not in its enum", p.name));
                    }
                    for s in std::iter::once(p.name.clone()).chain(p.aliases()) {
                        if !spellings.insert(s.clone()) {
                            problems.push(format!("{at}: argument spelling `{s}` used twice"));
                        }
                    }
                }
                let has = |n: &str| op.params.iter().any(|p| p.name == n);
                match op.pagination {
                    Pagination::Page if !(has("page") && has("page_size")) => problems.push(
                        format!("{at}: page pagination needs `page` and `page_size` parameters"),
                    ),
                    Pagination::Scim if !(has("startIndex") && has("count")) => problems.push(
                        format!("{at}: SCIM pagination needs `startIndex` and `count` parameters"),
                    ),
                    _ => {}
                }
                if let Some(body) = &op.body {
                    if matches!(op.method, Method::Get | Method::Head | Method::Delete) {
                        problems.push(format!(
                            "{at}: {} requests carry no body",
                            op.method.as_str()
                        ));
                    }
                    let mut fields = BTreeSet::new();
                    for f in &body.fields {
                        if !fields.insert(f.name.as_str()) {
                            problems.push(format!("{at}: body field `{}` listed twice", f.name));
                        }
                        if f.description.trim().is_empty() || f.description.contains("TODO") {
                            problems
                                .push(format!("{at}: body field `{}` has no description", f.name));
                        }
                        if f.max_length.is_some() && f.ty != crate::Type::String {
                            problems.push(format!(
                                "{at}: `max_length` of body field `{}` is for strings only",
                                f.name
                            ));
                        }
                        if f.ty == crate::Type::Array && f.items.is_none() {
                            problems.push(format!("{at}: array field `{}` needs `items`", f.name));
                        }
                        // A body field may share a path parameter's name (it is then filled from
                        // the path value); any other clash would make binding ambiguous.
                        let clashes = op
                            .params
                            .iter()
                            .any(|p| p.location != Location::Path && p.name == f.name);
                        if clashes {
                            problems.push(format!(
                                "{at}: body field `{}` has the name of a query or header parameter",
                                f.name
                            ));
                        }
                    }
                }
                if op.responses.is_empty() {
                    problems.push(format!("{at}: no success response listed"));
                }
                if let Some(table) = &op.table {
                    problems.extend(
                        table_problems(op, table)
                            .into_iter()
                            .map(|p| format!("{at}: {p}")),
                    );
                }
            }
        }
        for (name, ops) in owners {
            if ops.len() > 1 {
                problems.push(format!(
                    "name `{name}` is claimed by several operations: {ops:?}"
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(CatalogError { problems })
        }
    }
}

/// What is wrong with a listing's table: its rows must be a list of objects in the result's
/// shape, and every column a field (through nested objects) of such a row.
fn table_problems(op: &Operation, table: &Table) -> Vec<String> {
    let Some(result) = crate::shape::result_shape(op) else {
        return vec!["a table for a result without a shape".into()];
    };
    let list = if table.rows.is_empty() {
        Some(&result)
    } else {
        result.pointer(&format!("/properties/{}", table.rows))
    };
    let Some(row) = list
        .filter(|l| l["type"] == "array")
        .map(|l| &l["items"])
        .filter(|item| item["type"] == "object")
    else {
        return vec![format!(
            "table rows `{}` are not a list of objects in the result",
            table.rows
        )];
    };
    let mut problems = Vec::new();
    if table.columns.is_empty() {
        problems.push("a table without columns".into());
    }
    for column in &table.columns {
        let found = column.split('.').try_fold(row, |shape: &Json, field| {
            shape.get("properties").and_then(|p| p.get(field))
        });
        if found.is_none() {
            problems.push(format!("table column `{column}` is not a field of a row"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use crate::{Catalog, Type};

    fn problems(edit: impl FnOnce(&mut Catalog)) -> Vec<String> {
        let mut catalog = Catalog::load_default().expect("the catalog loads");
        edit(&mut catalog);
        catalog
            .validate()
            .map(|()| Vec::new())
            .unwrap_or_else(|e| e.problems)
    }

    fn op<'a>(catalog: &'a mut Catalog, name: &str) -> &'a mut crate::Operation {
        catalog
            .areas
            .iter_mut()
            .flat_map(|a| a.operations.iter_mut())
            .find(|o| o.name == name)
            .expect("the operation exists")
    }

    #[test]
    fn unpublished_operations_say_where_they_come_from() {
        assert!(problems(|_| {}).is_empty());
        let found = problems(|c| op(c, "delete_repository_tag").source = None);
        assert!(found[0].contains("needs a `source`"), "{found:?}");
        let found = problems(|c| op(c, "get_repository").source = Some("hub-tool".into()));
        assert!(
            found[0].contains("only for operations Docker does not publish"),
            "{found:?}"
        );
        let found = problems(|c| op(c, "search_repositories").operation_id = Some("Search".into()));
        assert!(found[0].contains("no OpenAPI operationId"), "{found:?}");
        // An area without an OpenAPI tag holds only unpublished operations.
        let found = problems(|c| {
            let o = op(c, "get_current_user");
            o.published = true;
            o.source = None;
        });
        assert!(found[0].contains("has no OpenAPI tag"), "{found:?}");
    }

    #[test]
    fn max_length_is_for_strings() {
        let found = problems(|c| {
            let body = op(c, "update_repository").body.as_mut().unwrap();
            let status = body.fields.iter_mut().find(|f| f.name == "status").unwrap();
            assert_eq!(status.ty, Type::Integer);
            status.max_length = Some(1);
        });
        assert!(found[0].contains("`max_length`"), "{found:?}");
    }

    #[test]
    fn a_table_names_a_list_of_rows_and_fields_of_a_row() {
        let found = problems(|c| {
            let table = op(c, "list_repository_tags").table.as_mut().unwrap();
            table.columns.push("publisher.name".into());
        });
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("`publisher.name` is not a field"),
            "{found:?}"
        );
        let found = problems(|c| {
            op(c, "list_repository_tags").table.as_mut().unwrap().rows = "count".into();
        });
        assert!(found[0].contains("not a list of objects"), "{found:?}");
        let found = problems(|c| {
            op(c, "search_repositories").table.as_mut().unwrap().columns = vec![];
        });
        assert!(found[0].contains("without columns"), "{found:?}");
    }
}
