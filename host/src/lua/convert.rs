//! Lua values to JSON and back, with bounds on what Rust allocates doing it.
//!
//! The Lua heap is capped, but a conversion allocates on the Rust side, and a table graph that
//! shares subtables is small in Lua and exponential once expanded (`t = {t, t}` twenty-two times
//! is 8 million values). So every conversion counts what it has produced and fails with a
//! [`LimitHit`] past [`MAX_VALUES`] values or [`MAX_BYTES`] bytes of strings and keys, and JSON
//! text is written through a writer that refuses to grow past [`MAX_BYTES`]. The shape rules
//! are mlua's (a table with a border is an array, one with the array marker too) and the value
//! rules `serde_json::Value`'s: NaN and infinities become `null`, keys must be strings.

use super::limits::{LimitHit, limit_error};
use mlua::{Lua, LuaSerdeExt, Value as LuaValue};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::cell::Cell;
use std::fmt;

/// Values one conversion may produce: ten times a listing of every tag of a busy repository.
pub(super) const MAX_VALUES: usize = 2_000_000;
/// Bytes of strings and keys one conversion may copy, and of JSON text one encoding may write.
pub(super) const MAX_BYTES: usize = 64 << 20;

/// What one conversion may still produce.
struct Budget {
    values: Cell<usize>,
    bytes: Cell<usize>,
    hit: Cell<bool>,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            values: Cell::new(MAX_VALUES),
            bytes: Cell::new(MAX_BYTES),
            hit: Cell::new(false),
        }
    }
}

impl Budget {
    fn take<E: de::Error>(&self, values: usize, bytes: usize) -> Result<(), E> {
        match (
            self.values.get().checked_sub(values),
            self.bytes.get().checked_sub(bytes),
        ) {
            (Some(v), Some(b)) => {
                self.values.set(v);
                self.bytes.set(b);
                Ok(())
            }
            _ => {
                self.hit.set(true);
                Err(E::custom("conversion bound"))
            }
        }
    }

    /// The error for a conversion that failed: the bound's, naming `what`, if it was hit.
    fn limit(&self, what: &str) -> Option<LimitHit> {
        self.hit.get().then(|| LimitHit(bound_message(what)))
    }
}

fn bound_message(what: &str) -> String {
    format!(
        "{what} passed the JSON conversion bound ({MAX_VALUES} values, {} MiB of text; \
         a table that appears several times counts each time)",
        MAX_BYTES >> 20
    )
}

/// Why a conversion failed.
#[derive(Debug)]
pub(super) enum ConvertError {
    /// Over the bound: report as `limit`.
    Limit(LimitHit),
    /// Not JSON-compatible (a non-string key, invalid UTF-8, bad JSON text).
    Invalid(String),
}

impl ConvertError {
    /// As the error a callback returns.
    pub fn into_lua(self) -> mlua::Error {
        match self {
            ConvertError::Limit(hit) => limit_error(hit.0),
            ConvertError::Invalid(message) => mlua::Error::runtime(message),
        }
    }
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConvertError::Limit(hit) => hit.fmt(f),
            ConvertError::Invalid(message) => f.write_str(message),
        }
    }
}

fn options(display: bool) -> mlua::serde::DeserializeOptions {
    // For showing values (`dump`, results), functions and cycles are skipped rather than failing.
    mlua::serde::DeserializeOptions::new()
        .deny_unsupported_types(!display)
        .deny_recursive_tables(!display)
}

/// Lua to JSON for data (`json.encode`, call arguments): functions and cycles are errors.
/// `what` names the value in the bound's message.
pub(super) fn from_lua(value: LuaValue, what: &str) -> Result<Value, ConvertError> {
    convert(value, options(false), what)
}

/// Lua to JSON for showing (`dump`, the script's result and error values): functions and other
/// non-data values are skipped. `Ok(Null)` when the value is not JSON-compatible.
pub(super) fn to_json(value: LuaValue, what: &str) -> Result<Value, LimitHit> {
    match convert(value, options(true), what) {
        Ok(v) => Ok(v),
        Err(ConvertError::Limit(hit)) => Err(hit),
        Err(ConvertError::Invalid(_)) => Ok(Value::Null),
    }
}

/// [`to_json`] of several values under one budget (a script's several results).
pub(super) fn to_json_each(values: Vec<LuaValue>, what: &str) -> Result<Vec<Value>, LimitHit> {
    let budget = Budget::default();
    values
        .into_iter()
        .map(|value| {
            let de = mlua::serde::Deserializer::new_with_options(value, options(true));
            match Counted(&budget).deserialize(de) {
                Ok(v) => Ok(v),
                Err(_) => budget.limit(what).map_or(Ok(Value::Null), Err),
            }
        })
        .collect()
}

fn convert(
    value: LuaValue,
    options: mlua::serde::DeserializeOptions,
    what: &str,
) -> Result<Value, ConvertError> {
    let budget = Budget::default();
    let de = mlua::serde::Deserializer::new_with_options(value, options);
    Counted(&budget)
        .deserialize(de)
        .map_err(|e| match budget.limit(what) {
            Some(hit) => ConvertError::Limit(hit),
            None => ConvertError::Invalid(e.to_string()),
        })
}

/// JSON text to a value, under the same bound (`json.decode`: `[[],[],...]` is 2 bytes of text
/// per value but 32 bytes of `Value`).
pub(super) fn parse(text: &[u8], what: &str) -> Result<Value, ConvertError> {
    let budget = Budget::default();
    let mut de = serde_json::Deserializer::from_slice(text);
    let parsed = Counted(&budget)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v));
    parsed.map_err(|e| match budget.limit(what) {
        Some(hit) => ConvertError::Limit(hit),
        None => ConvertError::Invalid(e.to_string()),
    })
}

/// JSON to Lua: objects and arrays become tables (arrays keep an array marker so they encode
/// back as arrays, even when empty), and null becomes nil so `if page.next then` reads naturally.
/// What this allocates is Lua's, under the heap cap.
pub(super) fn to_lua(lua: &Lua, value: &Value) -> mlua::Result<LuaValue> {
    let options = mlua::serde::SerializeOptions::new()
        .serialize_none_to_null(false)
        .serialize_unit_to_null(false);
    lua.to_value_with(value, options)
}

/// `value` as JSON text, compact or pretty, failing past [`MAX_BYTES`] (indentation alone can
/// make pretty text many times larger than the converted value).
pub(super) fn to_text(value: &Value, pretty: bool, what: &str) -> Result<String, LimitHit> {
    let mut out = Capped(Vec::new());
    let written = if pretty {
        serde_json::to_writer_pretty(&mut out, value)
    } else {
        serde_json::to_writer(&mut out, value)
    };
    match written {
        // serde_json writes only UTF-8; the lossy path never runs.
        Ok(()) => Ok(String::from_utf8(out.0)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())),
        Err(_) => Err(LimitHit(format!(
            "{what} passed the JSON text bound of {} MiB",
            MAX_BYTES >> 20
        ))),
    }
}

struct Capped(Vec<u8>);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_BYTES {
            return Err(std::io::Error::other("JSON text bound"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Builds a `serde_json::Value` as `Value`'s own `Deserialize` does, charging the budget first.
#[derive(Clone, Copy)]
struct Counted<'b>(&'b Budget);

impl<'de> DeserializeSeed<'de> for Counted<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Counted<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.0.take(1, 0)?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.0.take(1, 0)?;
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.0.take(1, 0)?;
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.0.take(1, 0)?;
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.0.take(1, v.len())?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.0.take(1, v.len())?;
        Ok(Value::String(v))
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.0.take(1, 0)?;
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.0.take(1, 0)?;
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.0.take(1, 0)?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.0.take(1, 0)?;
        let mut object = Map::new();
        while let Some(key) = map.next_key_seed(Key(self.0))? {
            let value = map.next_value_seed(self)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// A map key: a string, as `serde_json::Value` requires.
struct Key<'b>(&'b Budget);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        self.0.take(0, v.len())?;
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        self.0.take(0, v.len())?;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_round_trips_arrays_and_drops_nulls() {
        let lua = Lua::new();
        let v = to_lua(&lua, &json!({"a": [], "b": null, "c": [1, 2]})).unwrap();
        assert_eq!(to_json(v, "it").unwrap(), json!({"a": [], "c": [1, 2]}));
    }

    #[test]
    fn shared_subtables_stop_at_the_bound_not_at_exhaustion() {
        let lua = Lua::new();
        // 2^23 values once expanded, a few hundred bytes in Lua.
        let t: LuaValue = lua
            .load("local t = {1} for i = 1, 22 do t = {t, t} end return t")
            .eval()
            .unwrap();
        let err = from_lua(t.clone(), "json.encode's value").unwrap_err();
        assert!(matches!(&err, ConvertError::Limit(_)), "{err}");
        assert!(
            err.to_string().contains("json.encode's value passed"),
            "{err}"
        );
        assert!(to_json(t, "the result").is_err());
    }

    #[test]
    fn big_strings_shared_many_times_count_each_time() {
        let lua = Lua::new();
        let t: LuaValue = lua
            .load(
                "local s = ('x'):rep(1 << 20) local t = {} for i = 1, 100 do t[i] = s end return t",
            )
            .eval()
            .unwrap();
        assert!(matches!(from_lua(t, "args"), Err(ConvertError::Limit(_))));
    }

    #[test]
    fn decoding_is_bounded_too() {
        let text = format!("[{}[]]", "[],".repeat(MAX_VALUES));
        assert!(matches!(
            parse(text.as_bytes(), "json.decode"),
            Err(ConvertError::Limit(_))
        ));
        assert_eq!(
            parse(b"[1, {\"a\": null}]", "x").unwrap(),
            json!([1, {"a": null}])
        );
        assert!(matches!(parse(b"[1,", "x"), Err(ConvertError::Invalid(_))));
    }

    #[test]
    fn text_is_capped() {
        let big = json!(["x".repeat(MAX_BYTES / 2), "y".repeat(MAX_BYTES / 2)]);
        assert!(to_text(&big, false, "json.encode").is_err());
        assert!(to_text(&big, true, "dump").is_err());
        assert_eq!(to_text(&json!({"a": 1}), false, "x").unwrap(), r#"{"a":1}"#);
    }
}
