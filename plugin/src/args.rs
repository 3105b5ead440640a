//! Binds a JSON arguments object to an operation and validates it, before any I/O.
//!
//! Rules: path, query and header parameters go by their OpenAPI name or snake_case alias; the
//! request body is `body` or, when `body` is absent, every remaining argument; a body field that
//! shares a path parameter's name is filled from it; numbers and booleans given as strings are
//! accepted where the expected type makes them unambiguous.

use crate::prelude::*;

use crate::catalog::{Field, Location, Operation, Param, Type};
use crate::error::HubError;
use serde_json::{Map, Value};

/// Validated arguments, ready to become a request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bound {
    /// Path parameters by name, as text (not yet encoded).
    pub path: Vec<(&'static str, String)>,
    /// Query parameters in catalog order, as text (not yet encoded).
    pub query: Vec<(&'static str, String)>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Value>,
}

pub fn bind(op: &'static Operation, args: &Value) -> Result<Bound, HubError> {
    let empty = Map::new();
    let args = match args {
        Value::Object(map) => map,
        Value::Null => &empty,
        other => {
            return Err(HubError::invalid(
                "args",
                format!(
                    "expected a JSON object of arguments, got {}",
                    json_kind(other)
                ),
            ));
        }
    };

    let mut given: Vec<(&'static Param, &str, &Value)> = Vec::new();
    let mut explicit_body: Option<&Value> = None;
    let mut rest: Vec<(&str, &Value)> = Vec::new();
    for (key, value) in args {
        if key == "body" {
            explicit_body = Some(value);
        } else if let Some(param) = op.params.iter().find(|p| p.answers_to(key)) {
            if let Some((_, first, _)) = given.iter().find(|(p, _, _)| p.name == param.name) {
                return Err(HubError::invalid(
                    key,
                    format!("given twice, as `{first}` and as `{key}`"),
                ));
            }
            given.push((param, key, value));
        } else {
            rest.push((key, value));
        }
    }

    let mut bound = Bound::default();
    for param in op.params {
        let value = given
            .iter()
            .find(|(p, _, v)| p.name == param.name && !v.is_null())
            .map(|(_, key, v)| (*key, *v));
        let Some((key, value)) = value else {
            if param.required {
                return Err(HubError::invalid(
                    param.name,
                    format!("required {} parameter is missing", param.location.as_str()),
                ));
            }
            continue;
        };
        let text = param_text(param, key, value)?;
        let slot = match param.location {
            Location::Path => &mut bound.path,
            Location::Query => &mut bound.query,
            Location::Header => &mut bound.headers,
        };
        slot.push((param.name, text));
    }

    bound.body = bind_body(op, explicit_body, &rest, &bound.path)?;
    Ok(bound)
}

fn param_text(param: &Param, key: &str, value: &Value) -> Result<String, HubError> {
    let text = match (param.ty, value) {
        (Type::String, Value::String(s)) => s.clone(),
        (Type::String, Value::Number(n)) => n.to_string(),
        (Type::Integer, _) => {
            let n = integer(value).ok_or_else(|| expected(key, "an integer", value))?;
            let text = n.to_string();
            check_bounds(key, n as f64, &text, param)?;
            text
        }
        (Type::Number, _) => {
            let n = number(value).ok_or_else(|| expected(key, "a number", value))?;
            let text = number_text(n);
            check_bounds(key, n, &text, param)?;
            text
        }
        (Type::Boolean, _) => boolean(value)
            .map(|b| b.to_string())
            .ok_or_else(|| expected(key, "true or false", value))?,
        (_, Value::String(s)) => s.clone(),
        _ => return Err(expected(key, "a string", value)),
    };
    if param.location == Location::Path {
        if text.is_empty() {
            return Err(HubError::invalid(key, "must not be empty"));
        }
        // Dot segments would be resolved away by URL normalisation and change the route.
        if text == "." || text == ".." {
            return Err(HubError::invalid(key, "`.` and `..` are not valid names"));
        }
    }
    check_enum(key, &text, param.enum_values)?;
    Ok(text)
}

/// An integer parameter within the bounds the catalog gives, refused here rather than quietly
/// clamped (or refused) by the Hub.
fn check_bounds(key: &str, n: f64, text: &str, param: &Param) -> Result<(), HubError> {
    let (min, max) = (param.minimum, param.maximum);
    let too_small = min.is_some_and(|min| n < min as f64);
    let too_large = max.is_some_and(|max| n > max as f64);
    if !too_small && !too_large {
        return Ok(());
    }
    let range = match (min, max) {
        (Some(min), Some(max)) => format!("from {min} to {max}"),
        (Some(min), None) => format!("at least {min}"),
        (None, Some(max)) => format!("at most {max}"),
        (None, None) => return Ok(()),
    };
    Err(HubError::invalid(
        key,
        format!("expected {range}, got {text}"),
    ))
}

fn bind_body(
    op: &'static Operation,
    explicit: Option<&Value>,
    rest: &[(&str, &Value)],
    path: &[(&'static str, String)],
) -> Result<Option<Value>, HubError> {
    let Some(spec) = &op.body else {
        if let Some((key, _)) = rest.first() {
            return Err(unknown_argument(op, key));
        }
        if explicit.is_some_and(|b| !b.is_null()) {
            return Err(HubError::invalid(
                "body",
                format!("`{}` takes no request body", op.name),
            ));
        }
        return Ok(None);
    };

    let mut body = match explicit {
        Some(value) if !value.is_null() => {
            if let Some((key, _)) = rest.first() {
                return Err(HubError::invalid(
                    *key,
                    format!(
                        "not a parameter of `{}`; when `body` is given, body fields go inside it",
                        op.name
                    ),
                ));
            }
            let value = match value {
                // JSON text is accepted for callers that can only pass strings.
                Value::String(text) => serde_json::from_str(text)
                    .map_err(|e| HubError::invalid("body", format!("not valid JSON text: {e}")))?,
                other => other.clone(),
            };
            match value {
                Value::Object(map) => map,
                other => {
                    return Err(HubError::invalid(
                        "body",
                        format!("expected a JSON object, got {}", json_kind(&other)),
                    ));
                }
            }
        }
        _ => {
            let mut map = Map::new();
            for (key, value) in rest {
                let field = spec
                    .fields
                    .iter()
                    .find(|f| f.answers_to(key))
                    .ok_or_else(|| unknown_argument(op, key))?;
                if map.contains_key(field.name) {
                    return Err(HubError::invalid(
                        *key,
                        "given twice under different spellings",
                    ));
                }
                if !value.is_null() {
                    map.insert(field.name.to_string(), (*value).clone());
                }
            }
            if map.is_empty()
                && !spec.required
                && !path
                    .iter()
                    .any(|(p, _)| spec.fields.iter().any(|f| f.name == *p))
            {
                return Ok(None);
            }
            map
        }
    };

    for (name, value) in path {
        if spec.fields.iter().any(|f| f.name == *name) && !body.contains_key(*name) {
            body.insert(name.to_string(), Value::String(value.clone()));
        }
    }

    for field in spec.fields {
        match body.get_mut(field.name) {
            None | Some(Value::Null) if field.required => {
                return Err(HubError::invalid(
                    field.name,
                    "required body field is missing",
                ));
            }
            None | Some(Value::Null) => {}
            Some(value) => *value = field_value(field, value)?,
        }
    }
    Ok(Some(Value::Object(body)))
}

/// Checks a body field and normalises string-typed numbers and booleans.
fn field_value(field: &Field, value: &Value) -> Result<Value, HubError> {
    let name = field.name;
    let out = match field.ty {
        Type::String => match value {
            Value::String(_) => value.clone(),
            Value::Number(n) => Value::String(n.to_string()),
            _ => return Err(expected(name, "a string", value)),
        },
        Type::Integer => integer(value)
            .map(Value::from)
            .ok_or_else(|| expected(name, "an integer", value))?,
        Type::Number => number(value)
            .map(Value::from)
            .ok_or_else(|| expected(name, "a number", value))?,
        Type::Boolean => boolean(value)
            .map(Value::Bool)
            .ok_or_else(|| expected(name, "true or false", value))?,
        Type::Object => match value {
            Value::Object(_) => value.clone(),
            _ => return Err(expected(name, "a JSON object", value)),
        },
        Type::Array => {
            let Value::Array(items) = value else {
                return Err(expected(name, "a JSON array", value));
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let at = format!("{name}[{i}]");
                let item = match (field.items, item) {
                    (Some(Type::String), Value::String(_)) => item.clone(),
                    (Some(Type::String), Value::Number(n)) => Value::String(n.to_string()),
                    (Some(Type::String), _) => return Err(expected(&at, "a string", item)),
                    (Some(Type::Integer), _) => integer(item)
                        .map(Value::from)
                        .ok_or_else(|| expected(&at, "an integer", item))?,
                    (Some(Type::Object), Value::Object(_)) => item.clone(),
                    (Some(Type::Object), _) => return Err(expected(&at, "a JSON object", item)),
                    _ => item.clone(),
                };
                if let Value::String(s) = &item {
                    check_enum(&at, s, field.enum_values)?;
                }
                out.push(item);
            }
            return Ok(Value::Array(out));
        }
    };
    if let Value::String(s) = &out {
        check_enum(name, s, field.enum_values)?;
        if let Some(max) = field.max_length {
            let chars = s.chars().count();
            if chars > max as usize {
                return Err(HubError::invalid(
                    name,
                    format!("at most {max} characters, got {chars}"),
                ));
            }
        }
    }
    Ok(out)
}

fn check_enum(name: &str, value: &str, allowed: &[&str]) -> Result<(), HubError> {
    if allowed.is_empty() || allowed.contains(&value) {
        return Ok(());
    }
    let list: Vec<String> = allowed.iter().map(|v| format!("`{v}`")).collect();
    Err(HubError::invalid(
        name,
        format!("`{value}` is not one of {}", list.join(", ")),
    ))
}

fn unknown_argument(op: &Operation, key: &str) -> HubError {
    let mut known: Vec<&str> = op.params.iter().map(|p| p.name).collect();
    if let Some(body) = &op.body {
        known.extend(body.fields.iter().map(|f| f.name));
        known.push("body");
    }
    let reason = if known.is_empty() {
        format!("`{}` takes no arguments", op.name)
    } else {
        format!(
            "not an argument of `{}`; it takes {}",
            op.name,
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    HubError::invalid(key, reason)
}

fn expected(name: &str, what: &str, got: &Value) -> HubError {
    HubError::invalid(name, format!("expected {what}, got {}", describe(got)))
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) if s.chars().count() <= 40 => format!("the string {s:?}"),
        Value::Number(n) => format!("the number {n}"),
        Value::Bool(b) => format!("{b}"),
        other => json_kind(other).to_string(),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(whole_number)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_f64(s.trim()),
        _ => None,
    }
}

/// Parses a finite decimal number written as Rust's `f64::from_str` accepts one (`+1.5`, `.5`,
/// `1.`, `007`, `1e3`; not `inf` or `NaN`), through serde_json's number parser: the component
/// links serde_json's float parsing anyway, and core's adds ~15 KB of code and tables.
pub(crate) fn parse_f64(s: &str) -> Option<f64> {
    let (negative, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if int.len() + frac.len() == 0 || !digits(int) || !digits(frac) {
        return None;
    }
    // JSON's grammar: no `+`, no leading zeros, digits on both sides of the point; the exponent
    // (always present) keeps `-0` negative and makes serde_json parse a float.
    let mut json = String::with_capacity(s.len() + 4);
    if negative {
        json.push('-');
    }
    match int.trim_start_matches('0') {
        "" => json.push('0'),
        int => json.push_str(int),
    }
    if !frac.is_empty() {
        json.push('.');
        json.push_str(frac);
    }
    json.push('e');
    match exponent {
        Some(e) => {
            let unsigned = e.strip_prefix(['+', '-']).unwrap_or(e);
            if unsigned.is_empty() || !digits(unsigned) {
                return None;
            }
            json.push_str(e);
        }
        None => json.push('0'),
    }
    serde_json::from_str::<f64>(&json).ok()
}

fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

/// `f` as an integer, when it is a whole number that an `i64` (and the Hub) hold exactly.
/// (`f64::fract` is std's, not core's.)
fn whole_number(f: f64) -> Option<i64> {
    // Below 2^53 in magnitude the cast is exact, so a round trip changes only a fraction; NaN
    // fails the bound.
    (f.abs() < 9.0e15 && (f as i64) as f64 == f).then_some(f as i64)
}

/// Whole numbers print without a fraction: the Hub rejects `page=2.0`. Others print as `f64`'s
/// `Display` does (shortest round-trip digits, never an exponent), built from serde_json's
/// formatting: core's float formatting would add ~10 KB to the component.
fn number_text(f: f64) -> String {
    if let Some(n) = whole_number(f) {
        return n.to_string();
    }
    // `f` is finite: JSON numbers and `parse_f64` give no other.
    let text = serde_json::Number::from_f64(f).map_or_else(String::new, |n| n.to_string());
    let (mantissa, exponent) = match text.split_once('e') {
        Some((m, e)) => (m, e.parse::<isize>().unwrap_or(0)),
        None => (text.as_str(), 0),
    };
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = [int, frac].concat();
    // Where the decimal point falls in `digits`, after applying the exponent.
    let point = int.len() as isize + exponent;
    let mut out = String::from(sign);
    if point <= 0 {
        out.push_str("0.");
        out.extend(core::iter::repeat_n('0', point.unsigned_abs()));
        out.push_str(&digits);
    } else if point as usize >= digits.len() {
        out.push_str(&digits);
        out.extend(core::iter::repeat_n('0', point as usize - digits.len()));
    } else {
        let (whole, fraction) = digits.split_at(point as usize);
        out.push_str(whole);
        out.push('.');
        out.push_str(fraction);
    }
    if out.contains('.') {
        let trimmed = out.trim_end_matches('0').trim_end_matches('.').len();
        out.truncate(trimmed);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::find;
    use serde_json::json;

    fn op(name: &str) -> &'static Operation {
        find(name).unwrap()
    }

    fn invalid_name(r: Result<Bound, HubError>) -> String {
        match r {
            Err(HubError::InvalidArgument { name, .. }) => name,
            other => panic!("expected invalid-argument, got {other:?}"),
        }
    }

    #[test]
    fn path_and_query_parameters_bind_by_name() {
        let b = bind(
            op("list_repository_tags"),
            &json!({"namespace": "library", "repository": "alpine", "page_size": 50}),
        )
        .unwrap();
        assert_eq!(
            b.path,
            vec![
                ("namespace", "library".into()),
                ("repository", "alpine".into())
            ]
        );
        assert_eq!(b.query, vec![("page_size", "50".into())]);
        assert_eq!(b.body, None);
    }

    #[test]
    fn camel_case_parameters_accept_snake_case_aliases() {
        let b = bind(
            op("scim_list_users"),
            &json!({"start_index": 3, "count": 5, "sort_order": "ascending"}),
        )
        .unwrap();
        assert!(b.query.contains(&("startIndex", "3".into())));
        assert!(b.query.contains(&("sortOrder", "ascending".into())));
        let b = bind(op("scim_list_users"), &json!({"startIndex": 3})).unwrap();
        assert_eq!(b.query, vec![("startIndex", "3".into())]);
    }

    #[test]
    fn the_same_parameter_under_two_spellings_is_refused() {
        let r = bind(
            op("scim_list_users"),
            &json!({"startIndex": 1, "start_index": 2}),
        );
        let name = invalid_name(r);
        assert!(name == "startIndex" || name == "start_index");
    }

    #[test]
    fn missing_required_path_parameter_is_named() {
        let r = bind(op("get_repository"), &json!({"namespace": "library"}));
        assert_eq!(invalid_name(r), "repository");
    }

    #[test]
    fn wrong_types_are_refused_with_the_expected_type() {
        let r = bind(
            op("list_repository_tags"),
            &json!({"namespace": "a", "repository": "b", "page": "two"}),
        );
        match r {
            Err(HubError::InvalidArgument { name, reason }) => {
                assert_eq!(name, "page");
                assert!(reason.contains("integer"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let r = bind(
            op("get_repository"),
            &json!({"namespace": {"x": 1}, "repository": "b"}),
        );
        assert_eq!(invalid_name(r), "namespace");
    }

    #[test]
    fn numbers_and_booleans_as_strings_are_accepted() {
        let b = bind(
            op("list_repository_tags"),
            &json!({"namespace": "a", "repository": "b", "page": "2"}),
        )
        .unwrap();
        assert_eq!(b.query, vec![("page", "2".into())]);
        let b = bind(
            op("list_org_members"),
            &json!({"org_name": "acme", "invites": "true"}),
        )
        .unwrap();
        assert!(b.query.contains(&("invites", "true".into())));
        let b = bind(
            op("assign_repository_group"),
            &json!({"namespace": "acme", "repository": "r", "group_id": "42", "permission": "read"}),
        )
        .unwrap();
        assert_eq!(b.body.unwrap()["group_id"], json!(42));
    }

    #[test]
    fn whole_numbers_print_without_fraction() {
        let b = bind(
            op("list_personal_access_tokens"),
            &json!({"page": 2.0, "page_size": 25}),
        )
        .unwrap();
        assert_eq!(
            b.query,
            vec![("page", "2".into()), ("page_size", "25".into())]
        );
    }

    #[test]
    fn number_text_prints_like_display() {
        let mut values = vec![
            2.5,
            0.1,
            1.0 / 3.0,
            -2.5e-8,
            1.5e-7,
            1e-7,
            1e-6,
            0.001,
            123456789.125,
            9.0e15,
            1e16,
            1e20,
            1e21,
            1e22,
            12345678901234567890.0,
            1e300,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            1e15 + 0.5,
            -1e16,
            4503599627370497.5,
        ];
        // A deterministic spread over magnitudes and digit patterns.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = f64::from_bits(x);
            if f.is_finite() {
                values.push(f);
            }
        }
        let mut ties = 0;
        for f in values {
            let expected = if f.fract() == 0.0 && f.abs() < 9.0e15 {
                (f as i64).to_string()
            } else {
                f.to_string()
            };
            let got = number_text(f);
            assert_eq!(
                got.parse::<f64>().ok(),
                Some(f),
                "{got} does not round-trip"
            );
            if got != expected {
                // A tie between two shortest texts (`…562.25` as `.2` or `.3`): serde_json's
                // formatting rounds half to even, core's rounds half up. Both denote `f`.
                let (a, b) = (got.as_bytes(), expected.as_bytes());
                let n = a.len();
                assert!(
                    n == b.len() && a[..n - 1] == b[..n - 1] && a[n - 1] + 1 == b[n - 1],
                    "{f:e}: {got} vs {expected}"
                );
                ties += 1;
            }
        }
        assert!(ties < 20, "{ties} ties");
    }

    #[test]
    fn parse_f64_accepts_what_from_str_accepts() {
        let cases = [
            "2",
            "2.5",
            "+1.5",
            "-1.5",
            ".5",
            "5.",
            "-.5",
            "007",
            "0",
            "-0",
            "-0.0",
            "1e3",
            "1E3",
            "1e+3",
            "1e-3",
            "1.5e-7",
            "0.000001",
            "123456789.125",
            "9000000000000000",
            "1e400",
            "1e-400",
            "0e99999999999",
            "1e99999999999",
            "",
            "+",
            "-",
            ".",
            "e5",
            "1e",
            "1e+",
            "1.2.3",
            "1,5",
            "0x10",
            "inf",
            "-inf",
            "infinity",
            "NaN",
            "nan",
            "1_000",
            " 1",
            "1 ",
            "++1",
            "+-1",
            "1e5.5",
            "١",
        ];
        for s in cases {
            let expected = s.parse::<f64>().ok().filter(|f| f.is_finite());
            let got = parse_f64(s);
            assert_eq!(
                got.map(f64::to_bits),
                expected.map(f64::to_bits),
                "{s:?}: {got:?} vs {expected:?}"
            );
        }
    }

    #[test]
    fn enum_values_are_checked_for_parameters_and_body_fields() {
        let r = bind(
            op("list_repositories"),
            &json!({"namespace": "a", "ordering": "size"}),
        );
        match r {
            Err(HubError::InvalidArgument { name, reason }) => {
                assert_eq!(name, "ordering");
                assert!(reason.contains("-last_updated"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let r = bind(
            op("update_org_member_role"),
            &json!({"org_name": "a", "username": "u", "role": "boss"}),
        );
        assert_eq!(invalid_name(r), "role");
    }

    #[test]
    fn page_sizes_outside_what_the_hub_allows_are_refused_before_sending() {
        let tags = |size: Value| {
            bind(
                op("list_repository_tags"),
                &json!({"namespace": "a", "repository": "b", "page_size": size}),
            )
        };
        for bad in [json!(0), json!(101), json!("500"), json!(-3)] {
            match tags(bad.clone()) {
                Err(HubError::InvalidArgument { name, reason }) => {
                    assert_eq!(name, "page_size", "{bad}");
                    assert!(reason.contains("from 1 to 100"), "{bad}: {reason}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        for good in [json!(1), json!(100), json!("25")] {
            assert!(tags(good.clone()).is_ok(), "{good}");
        }
        // Typed as a number in Docker's description, the tokens' page size has the same bounds.
        let r = bind(
            op("list_personal_access_tokens"),
            &json!({"page_size": 250.5}),
        );
        assert_eq!(invalid_name(r), "page_size");
    }

    #[test]
    fn unknown_arguments_are_refused_and_the_known_ones_listed() {
        let r = bind(
            op("get_repository"),
            &json!({"namespace": "a", "repository": "b", "colour": "red"}),
        );
        match r {
            Err(HubError::InvalidArgument { name, reason }) => {
                assert_eq!(name, "colour");
                assert!(reason.contains("`namespace`"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let r = bind(
            op("create_repository"),
            &json!({"namespace": "a", "name": "n", "colour": "red"}),
        );
        assert_eq!(invalid_name(r), "colour");
    }

    #[test]
    fn remaining_arguments_become_the_body() {
        let b = bind(
            op("create_repository"),
            &json!({"namespace": "acme", "name": "api", "is_private": true}),
        )
        .unwrap();
        // `namespace` is both a path parameter and a required body field: filled from the path.
        assert_eq!(
            b.body,
            Some(json!({"name": "api", "is_private": true, "namespace": "acme"}))
        );
    }

    #[test]
    fn an_explicit_body_is_used_as_given() {
        let b = bind(
            op("create_repository"),
            &json!({"namespace": "acme", "body": {"name": "api", "namespace": "acme", "extra": 1}}),
        )
        .unwrap();
        assert_eq!(b.body.unwrap()["extra"], json!(1));
        // JSON text works too, for callers that only pass strings.
        let b = bind(
            op("verify_repository_immutable_tags"),
            &json!({"namespace": "a", "repository": "b", "body": "{\"regex\": \"v.*\"}"}),
        )
        .unwrap();
        assert_eq!(b.body, Some(json!({"regex": "v.*"})));
    }

    #[test]
    fn explicit_body_and_loose_fields_together_are_refused() {
        let r = bind(
            op("create_repository"),
            &json!({"namespace": "acme", "name": "x", "body": {"name": "api"}}),
        );
        assert_eq!(invalid_name(r), "name");
    }

    #[test]
    fn missing_required_body_field_is_named() {
        let r = bind(
            op("create_personal_access_token"),
            &json!({"token_label": "ci"}),
        );
        assert_eq!(invalid_name(r), "scopes");
        let r = bind(
            op("create_personal_access_token"),
            &json!({"body": {"scopes": ["repo:read"]}}),
        );
        assert_eq!(invalid_name(r), "token_label");
    }

    #[test]
    fn body_field_types_are_checked() {
        let r = bind(
            op("create_personal_access_token"),
            &json!({"token_label": "ci", "scopes": "repo:read"}),
        );
        assert_eq!(invalid_name(r), "scopes");
        let r = bind(
            op("create_personal_access_token"),
            &json!({"token_label": "ci", "scopes": [{"a": 1}]}),
        );
        assert_eq!(invalid_name(r), "scopes[0]");
        let r = bind(
            op("update_personal_access_token"),
            &json!({"uuid": "u", "is_active": "yes"}),
        );
        assert_eq!(invalid_name(r), "is_active");
    }

    #[test]
    fn body_field_aliases_map_to_the_canonical_name() {
        let b = bind(
            op("scim_create_user"),
            &json!({"schemas": ["urn:x"], "user_name": "jo@example.com"}),
        )
        .unwrap();
        assert_eq!(b.body.unwrap()["userName"], json!("jo@example.com"));
    }

    #[test]
    fn operations_without_a_body_refuse_one() {
        let r = bind(
            op("get_repository"),
            &json!({"namespace": "a", "repository": "b", "body": {}}),
        );
        assert_eq!(invalid_name(r), "body");
    }

    #[test]
    fn dot_segments_and_empty_path_values_are_refused() {
        for bad in [".", "..", ""] {
            let r = bind(
                op("get_repository"),
                &json!({"namespace": bad, "repository": "b"}),
            );
            assert_eq!(invalid_name(r), "namespace", "{bad:?}");
        }
    }

    #[test]
    fn args_must_be_an_object() {
        assert_eq!(
            invalid_name(bind(op("get_repository"), &json!([1]))),
            "args"
        );
        // null means no arguments.
        assert!(bind(op("scim_list_schemas"), &Value::Null).is_ok());
    }

    #[test]
    fn header_parameters_bind_by_alias() {
        let b = bind(
            op("bulk_create_invites"),
            &json!({"x_analytics_client_feature": "cli", "org": "acme", "invitees": ["a@b.c"], "dry_run": true}),
        )
        .unwrap();
        assert_eq!(
            b.headers,
            vec![("X-Analytics-Client-Feature", "cli".into())]
        );
        assert_eq!(b.body.unwrap()["dry_run"], json!(true));
    }

    #[test]
    fn null_values_count_as_absent() {
        let b = bind(
            op("list_repositories"),
            &json!({"namespace": "a", "page": null}),
        )
        .unwrap();
        assert!(b.query.is_empty());
    }
}
