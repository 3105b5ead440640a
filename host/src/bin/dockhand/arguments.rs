//! `dockhand call`'s arguments, read the way people type them, then shaped by the operation.
//!
//! Reading ([`read`]) happens before the component is loaded, so that a file that cannot be read
//! is reported first: `name=value` is text, `name:=value` JSON, `name=@path` a file's text,
//! `name=@-` standard input's, `name=@@...` text that starts with `@`; a word without `=` is a
//! positional `namespace/repository`. Shaping ([`shape`]) needs the operation's catalog entry:
//! a text value that starts with `[` or `{` becomes JSON only where the argument's schema is an
//! object or an array (`description='[WIP] my repo'` stays text), `namespace/repository` is split
//! where the operation takes both, and a `/` left in any other path value is refused here, since
//! the Hub would only answer 404.

use crate::output::{Failure, usage};
use dockhand_host::bindings::exports::dockhand::hub::catalog::OperationInfo;
use dockhand_host::bindings::exports::dockhand::hub::types::InvalidArgument;
use dockhand_host::{CallError, HubError};
use serde_json::{Map, Value};
use std::io::Read;

/// The most a value read from a file or standard input (`name=@path`, `name=@-`) may be: far
/// more than any Hub field takes (a repository overview is at most 25,000 characters).
pub const MAX_VALUE_FROM_FILE: u64 = 1 << 20;

/// One value as it was written.
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    /// `name=value`: text, unless the operation wants JSON there.
    Text(String),
    /// `name:=value`, or a field of `--args-json`: JSON.
    Json(Value),
    /// `name=@path` or `name=@-`: text, always (a README may well start with `[`).
    File(String),
}

/// The command line's arguments, read but not yet shaped.
#[derive(Debug, Default)]
pub struct Arguments {
    /// In the order written; a later one replaces an earlier one of the same name.
    pub named: Vec<(String, Written)>,
    /// Words without `=`: `namespace/repository`.
    pub positional: Vec<String>,
}

/// Reads `--args-json` (if any) and the `name=value` words; standard input is read at most once.
pub fn read(
    args_json: Option<&str>,
    words: &[String],
    stdin: &mut dyn Read,
) -> Result<Arguments, Failure> {
    let mut read = Arguments::default();
    if let Some(text) = args_json {
        let text = if text == "-" {
            std::io::read_to_string(&mut *stdin)
                .map_err(|e| usage(format!("reading --args-json from standard input: {e}")))?
        } else {
            text.to_string()
        };
        match serde_json::from_str(&text) {
            Ok(Value::Object(map)) => read
                .named
                .extend(map.into_iter().map(|(k, v)| (k, Written::Json(v)))),
            Ok(_) => return Err(usage("--args-json must be a JSON object")),
            Err(e) => return Err(usage(format!("--args-json is not valid JSON: {e}"))),
        }
    }
    for word in words {
        let Some((name, value)) = word.split_once('=') else {
            read.positional.push(word.clone());
            continue;
        };
        let (name, json) = match name.strip_suffix(':') {
            Some(name) => (name, true),
            None => (name, false),
        };
        if name.is_empty() {
            return Err(usage(format!("`{word}`: the argument name is missing")));
        }
        let written = if json {
            Written::Json(serde_json::from_str(value).map_err(|e| {
                invalid(
                    name,
                    format!("`{name}:=` takes JSON, and this does not parse: {e}"),
                )
            })?)
        } else {
            text_value(value, stdin).map_err(|reason| invalid(name, reason))?
        };
        read.named.push((name.to_string(), written));
    }
    Ok(read)
}

/// The arguments as the operation takes them (see the module's doc).
pub fn shape(op: &OperationInfo, read: Arguments) -> Result<Value, Failure> {
    let schema: Value = serde_json::from_str(&op.args_schema).unwrap_or(Value::Null);
    let path_params = dockhand_vocab::names::placeholders(&op.path);
    let takes_repository =
        path_params.contains(&"namespace") && path_params.contains(&"repository");
    let mut map = Map::new();
    for word in read.positional {
        if !takes_repository {
            return Err(usage(format!(
                "`{word}`: arguments are written name=value (see `dockhand docs {}`)",
                op.name
            )));
        }
        let (namespace, repository) = split_repository(&word).ok_or_else(|| {
            usage(format!(
                "`{word}`: a positional argument is namespace/repository, such as library/alpine"
            ))
        })?;
        map.insert("namespace".into(), namespace.into());
        map.insert("repository".into(), repository.into());
    }
    for (name, written) in read.named {
        let value = match written {
            Written::Json(value) => value,
            Written::File(text) => Value::String(text),
            Written::Text(text) if text.starts_with(['[', '{']) && wants_json(&schema, &name) => {
                serde_json::from_str(&text).map_err(|e| {
                    invalid(
                        &name,
                        format!("this argument is JSON, and the value does not parse: {e}"),
                    )
                })?
            }
            Written::Text(text) => Value::String(text),
        };
        map.insert(name, value);
    }
    // `repository=library/alpine`, as docker and hub-tool users write it.
    if takes_repository
        && !map.contains_key("namespace")
        && let Some(Value::String(both)) = map.get("repository")
        && let Some((namespace, repository)) = split_repository(both)
    {
        let (namespace, repository) = (namespace.to_string(), repository.to_string());
        map.insert("namespace".into(), namespace.into());
        map.insert("repository".into(), repository.into());
    }
    for param in path_params {
        if let Some(Value::String(text)) = map.get(param)
            && text.contains('/')
        {
            let hint = if takes_repository && matches!(param, "namespace" | "repository") {
                " (for namespace/repository write `repository=NAMESPACE/NAME` or the two apart)"
            } else {
                ""
            };
            return Err(invalid(
                param,
                format!("`{text}` has a `/`, and `{param}` is one segment of the path{hint}"),
            ));
        }
    }
    Ok(Value::Object(map))
}

/// The arguments as written, for an operation the catalog does not know (the call then reports
/// it): text stays text.
pub fn plain(read: Arguments) -> Value {
    let mut map = Map::new();
    for (name, written) in read.named {
        let value = match written {
            Written::Json(value) => value,
            Written::Text(text) | Written::File(text) => Value::String(text),
        };
        map.insert(name, value);
    }
    Value::Object(map)
}

/// `namespace/repository`, both non-empty and without another `/`.
fn split_repository(text: &str) -> Option<(&str, &str)> {
    let (namespace, repository) = text.split_once('/')?;
    (!namespace.is_empty() && !repository.is_empty() && !repository.contains('/'))
        .then_some((namespace, repository))
}

/// Whether the schema gives `name` an object or array type (`type` alone or among others).
fn wants_json(schema: &Value, name: &str) -> bool {
    let Some(properties) = schema["properties"].as_object() else {
        return false;
    };
    let plain = |s: &str| s.replace('-', "_").to_ascii_lowercase();
    let Some(property) = properties
        .iter()
        .find(|(key, _)| plain(key) == plain(name))
        .map(|(_, p)| p)
    else {
        return false;
    };
    let structured = |t: &Value| matches!(t.as_str(), Some("object" | "array"));
    match &property["type"] {
        Value::Array(types) => types.iter().any(structured),
        t => structured(t),
    }
}

fn invalid(name: &str, reason: String) -> Failure {
    Failure::Call(CallError::Hub(HubError::InvalidArgument(InvalidArgument {
        name: name.to_string(),
        reason,
    })))
}

/// One `name=value`'s value: `@@...` the text after the first `@`, `@-` standard input's text,
/// `@path` the file's text, anything else the text itself.
fn text_value(value: &str, stdin: &mut dyn Read) -> Result<Written, String> {
    let Some(rest) = value.strip_prefix('@') else {
        return Ok(Written::Text(value.to_string()));
    };
    if rest.starts_with('@') {
        return Ok(Written::Text(rest.to_string()));
    }
    if rest == "-" {
        return read_text(stdin, "standard input").map(Written::File);
    }
    if rest.is_empty() {
        return Err(
            "`@` must be followed by a file name (`@-` reads standard input, `@@` starts a value \
             with `@`)"
                .into(),
        );
    }
    let file = std::fs::File::open(rest).map_err(|e| {
        format!(
            "cannot read the file `{rest}`: {e} (write `@@{rest}` for a value that starts with `@`)"
        )
    })?;
    read_text(file, &format!("the file `{rest}`")).map(Written::File)
}

/// All of `reader` as text, refusing more than [`MAX_VALUE_FROM_FILE`] without reading it all.
fn read_text(reader: impl Read, what: &str) -> Result<String, String> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_VALUE_FROM_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {what}: {e}"))?;
    if bytes.len() as u64 > MAX_VALUE_FROM_FILE {
        return Err(format!(
            "{what} is larger than 1 MiB, the most a value read from a file or standard input \
             may be"
        ));
    }
    String::from_utf8(bytes).map_err(|_| format!("{what} is not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockhand_host::bindings::exports::dockhand::hub::catalog::Access;
    use serde_json::json;

    fn value(text: &str, stdin: &str) -> Result<Written, String> {
        text_value(text, &mut stdin.as_bytes())
    }

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| w.to_string()).collect()
    }

    /// An operation on `path` whose arguments have these JSON Schema types.
    fn op(path: &str, types: Value) -> OperationInfo {
        let properties: Map<String, Value> = types
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, t)| (k.clone(), json!({ "type": t })))
            .collect();
        OperationInfo {
            name: "an_operation".into(),
            aliases: vec![],
            area: "repositories".into(),
            method: "PATCH".into(),
            path: path.into(),
            access: Access::Write,
            destructive: false,
            idempotent: false,
            deprecated: false,
            summary: String::new(),
            args_schema: json!({"type": "object", "properties": properties}).to_string(),
            result_schema: "{}".into(),
            table: None,
        }
    }

    fn shaped(op: &OperationInfo, list: &[&str]) -> Result<Value, String> {
        let read = read(None, &words(list), &mut "".as_bytes()).map_err(|e| format!("{e:?}"))?;
        shape(op, read).map_err(|e| format!("{e:?}"))
    }

    const REPO: &str = "/v2/namespaces/{namespace}/repositories/{repository}";

    #[test]
    fn at_reads_a_file_as_text_never_as_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("README.md");
        std::fs::write(&path, "[![badge](x)](y)\n# Title\n").unwrap();
        let got = value(&format!("@{}", path.display()), "").unwrap();
        assert_eq!(got, Written::File("[![badge](x)](y)\n# Title\n".into()));
    }

    #[test]
    fn at_dash_reads_standard_input_and_at_at_escapes() {
        assert_eq!(
            value("@-", "from stdin\n").unwrap(),
            Written::File("from stdin\n".into())
        );
        assert_eq!(value("@@team", "").unwrap(), Written::Text("@team".into()));
        assert_eq!(value("@@", "").unwrap(), Written::Text("@".into()));
        assert_eq!(value("@@-", "unread").unwrap(), Written::Text("@-".into()));
        assert_eq!(value("a@b", "").unwrap(), Written::Text("a@b".into()));
    }

    #[test]
    fn a_missing_file_an_empty_name_and_a_large_input_are_refused() {
        let e = value("@/no/such/file", "").unwrap_err();
        assert!(e.contains("/no/such/file") && e.contains("@@"), "{e}");
        assert!(value("@", "").unwrap_err().contains("file name"));
        let big = "x".repeat(MAX_VALUE_FROM_FILE as usize + 1);
        assert!(value("@-", &big).unwrap_err().contains("1 MiB"));
        let exactly = "x".repeat(MAX_VALUE_FROM_FILE as usize);
        let Written::File(text) = value("@-", &exactly).unwrap() else {
            panic!("a file's text")
        };
        assert_eq!(text.len(), exactly.len());
        let e = text_value("@-", &mut &[0xff_u8, 0xfe][..]).unwrap_err();
        assert!(e.contains("not UTF-8"), "{e}");
    }

    #[test]
    fn brackets_are_json_only_where_the_schema_wants_an_object_or_array() {
        let op = op(
            REPO,
            json!({"namespace": "string", "repository": "string", "description": "string",
                   "body": "object", "permissions": ["array", "null"]}),
        );
        let got = shaped(
            &op,
            &[
                "library/alpine",
                "description=[WIP] my repo",
                "body={\"a\":1}",
                "permissions=[\"read\"]",
            ],
        )
        .unwrap();
        assert_eq!(got["description"], "[WIP] my repo");
        assert_eq!(got["body"], json!({"a": 1}));
        assert_eq!(got["permissions"], json!(["read"]));
        // Broken JSON where JSON is wanted names the argument.
        let e = shaped(&op, &["library/alpine", "body={oops"]).unwrap_err();
        assert!(e.contains("body") && e.contains("JSON"), "{e}");
    }

    #[test]
    fn colon_equals_is_json_anywhere() {
        let op = op(
            REPO,
            json!({"namespace": "string", "repository": "string", "n": "integer"}),
        );
        let got = shaped(&op, &["library/alpine", "n:=3", "description:=\"x\""]).unwrap();
        assert_eq!(got["n"], 3);
        assert_eq!(got["description"], "x");
        let e = shaped(&op, &["library/alpine", "n:=three"]).unwrap_err();
        assert!(e.contains("`n:=` takes JSON"), "{e}");
    }

    #[test]
    fn namespace_slash_repository_is_split_positional_or_named() {
        let op = op(REPO, json!({"namespace": "string", "repository": "string"}));
        for list in [&["library/alpine"][..], &["repository=library/alpine"][..]] {
            let got = shaped(&op, list).unwrap();
            assert_eq!(
                got,
                json!({"namespace": "library", "repository": "alpine"}),
                "{list:?}"
            );
        }
        // Given apart, nothing changes.
        let got = shaped(&op, &["namespace=library", "repository=alpine"]).unwrap();
        assert_eq!(got, json!({"namespace": "library", "repository": "alpine"}));
    }

    #[test]
    fn a_slash_left_in_a_path_value_is_refused_with_the_hint() {
        let op = op(REPO, json!({"namespace": "string", "repository": "string"}));
        let e = shaped(&op, &["namespace=library/alpine", "repository=x"]).unwrap_err();
        assert!(
            e.contains("namespace") && e.contains("repository=NAMESPACE/NAME"),
            "{e}"
        );
        let e = shaped(&op, &["repository=a/b/c"]).unwrap_err();
        assert!(e.contains("repository"), "{e}");
        // A positional word where the operation takes no repository is a usage error.
        let orgs = op_without_repository();
        let e = shaped(&orgs, &["library/alpine"]).unwrap_err();
        assert!(e.contains("name=value"), "{e}");
    }

    fn op_without_repository() -> OperationInfo {
        op("/v2/orgs/{org_name}/members", json!({"org_name": "string"}))
    }
}
