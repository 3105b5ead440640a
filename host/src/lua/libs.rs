//! The `json` and `regex` namespaces. What they build in Rust memory is bounded: JSON by the
//! conversion bound of `convert.rs`, `regex.replace` by [`MAX_REPLACED`]; what they hand to Lua
//! is under the heap cap.

use super::convert::{self, ConvertError};
use super::limits::limit_error;
use mlua::{Lua, LuaSerdeExt, Table, Value as LuaValue};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// The most `regex.replace` may produce.
pub(super) const MAX_REPLACED: usize = 64 << 20;

pub(super) fn json_table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "encode",
        lua.create_function(|_, (value, opts): (LuaValue, Option<Table>)| {
            let value =
                convert::from_lua(value, "json.encode's value").map_err(ConvertError::into_lua)?;
            let pretty = match opts {
                Some(o) => o.get::<Option<bool>>("pretty")?.unwrap_or(false),
                None => false,
            };
            convert::to_text(&value, pretty, "json.encode's text").map_err(|hit| limit_error(hit.0))
        })?,
    )?;
    t.set(
        "decode",
        lua.create_function(|lua, text: mlua::LuaString| {
            let value =
                convert::parse(&text.as_bytes(), "json.decode's value").map_err(|e| match e {
                    ConvertError::Invalid(m) => mlua::Error::runtime(format!("json.decode: {m}")),
                    limit => limit.into_lua(),
                })?;
            convert::to_lua(lua, &value)
        })?,
    )?;
    // Decoding maps null to nil; `json.null` lets a script send an explicit null.
    t.set("null", lua.null())?;
    Ok(t)
}

/// Compiled patterns are kept per run: workflows tend to apply one pattern to many tags.
struct Patterns(RefCell<HashMap<String, regex::Regex>>);

impl Patterns {
    fn get(&self, pattern: &str) -> mlua::Result<regex::Regex> {
        if let Some(re) = self.0.borrow().get(pattern) {
            return Ok(re.clone());
        }
        let re = regex::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| mlua::Error::runtime(format!("regex: {e}")))?;
        let mut cache = self.0.borrow_mut();
        if cache.len() < 256 {
            cache.insert(pattern.to_string(), re.clone());
        }
        Ok(re)
    }
}

/// `Regex::replace_all`, failing rather than building more than [`MAX_REPLACED`] bytes. One
/// expansion can reach the length of the match once per `$` in the replacement, so one whose
/// worst case alone is over the bound is refused before it is built.
fn replace_all(re: &regex::Regex, s: &str, replacement: &str) -> mlua::Result<String> {
    let refused = || {
        limit_error(format!(
            "regex.replace: the result passed its bound of {} MiB",
            MAX_REPLACED >> 20
        ))
    };
    let dollars = replacement.bytes().filter(|&b| b == b'$').count();
    let mut out = String::new();
    let mut last = 0;
    for caps in re.captures_iter(s) {
        let m = caps.get(0).expect("group 0 is the match");
        out.push_str(&s[last..m.start()]);
        let worst = dollars
            .saturating_mul(m.len())
            .saturating_add(replacement.len());
        if worst > MAX_REPLACED {
            return Err(refused());
        }
        caps.expand(replacement, &mut out);
        if out.len() > MAX_REPLACED {
            return Err(refused());
        }
        last = m.end();
    }
    out.push_str(&s[last..]);
    if out.len() > MAX_REPLACED {
        return Err(refused());
    }
    Ok(out)
}

pub(super) fn regex_table(lua: &Lua) -> mlua::Result<Table> {
    let patterns = Rc::new(Patterns(RefCell::new(HashMap::new())));
    let t = lua.create_table()?;
    let p = patterns.clone();
    t.set(
        "is_match",
        lua.create_function(move |_, (pattern, s): (String, String)| {
            Ok(p.get(&pattern)?.is_match(&s))
        })?,
    )?;
    let p = patterns.clone();
    t.set(
        "match",
        lua.create_function(move |lua, (pattern, s): (String, String)| {
            let re = p.get(&pattern)?;
            let Some(caps) = re.captures(&s) else {
                return Ok(LuaValue::Nil);
            };
            // m[0] is the whole match, m[1].. the groups, and named groups by name.
            let m = lua.create_table()?;
            for (i, group) in caps.iter().enumerate() {
                if let Some(g) = group {
                    m.raw_set(i, g.as_str())?;
                }
            }
            for name in re.capture_names().flatten() {
                if let Some(g) = caps.name(name) {
                    m.raw_set(name, g.as_str())?;
                }
            }
            Ok(LuaValue::Table(m))
        })?,
    )?;
    let p = patterns.clone();
    t.set(
        "find_all",
        lua.create_function(move |lua, (pattern, s): (String, String)| {
            let re = p.get(&pattern)?;
            lua.create_sequence_from(re.find_iter(&s).map(|m| m.as_str().to_string()))
        })?,
    )?;
    let p = patterns.clone();
    t.set(
        "replace",
        lua.create_function(
            move |_, (pattern, s, replacement): (String, String, String)| {
                replace_all(&p.get(&pattern)?, &s, &replacement)
            },
        )?,
    )?;
    let p = patterns;
    t.set(
        "split",
        lua.create_function(move |lua, (pattern, s): (String, String)| {
            let re = p.get(&pattern)?;
            lua.create_sequence_from(re.split(&s).map(str::to_string))
        })?,
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_matches_the_regex_crate() {
        let cases = [
            (r"(\d+)\.(\d+)", "3.19 and 3.20", "$2.$1"),
            (r"(?P<major>\d+)", "v3 v4", "[${major}]"),
            (r"a", "banana", "$$"),
            (r"a", "banana", "$"),
            (r"(a)", "banana", "$1x$1_"),
            (r"x*", "abc", "-"),
            (r"b", "abc", "${unclosed"),
        ];
        for (pattern, s, replacement) in cases {
            let re = regex::Regex::new(pattern).unwrap();
            assert_eq!(
                replace_all(&re, s, replacement).unwrap(),
                re.replace_all(s, replacement),
                "{pattern} {s} {replacement}"
            );
        }
    }

    #[test]
    fn replace_is_bounded() {
        let re = regex::Regex::new(".+").unwrap();
        let err = replace_all(&re, &"x".repeat(1 << 20), &"$0".repeat(100)).unwrap_err();
        assert!(err.to_string().contains("64 MiB"), "{err}");
        let re = regex::Regex::new(".").unwrap();
        let err = replace_all(&re, &"x".repeat(1 << 16), &"y".repeat(1 << 11)).unwrap_err();
        assert!(err.to_string().contains("64 MiB"), "{err}");
    }
}
