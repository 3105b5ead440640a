//! Hostile Lua values through the conversion `dockhand lua` uses between Lua and JSON (call
//! arguments, `json.encode`/`decode`, `dump`, a script's results): deep nesting, subtables shared
//! many times, cycles, huge and invalid-UTF-8 strings, integer and string keys mixed, sparse
//! arrays, NaN and infinities, functions, metatables that raise errors. Never a panic, and:
//!
//! - a conversion either fails (the bound, or a value that is not JSON data) or gives a value
//!   within the bound: at most `MAX_VALUES` values and `MAX_BYTES` bytes of strings and keys;
//! - a value converted as data converts the same way for showing (`dump`, results);
//! - its JSON text is within the text bound and parses back, under the same bound, to the value;
//! - the value goes back to Lua and converts again to itself (nulls in objects aside, as `nil`
//!   drops them).
//!
//! Input: a program for a small stack machine written in Lua (`MACHINE` below), one instruction
//! per byte, every byte string valid. It runs in a fresh Lua state under a memory limit and an
//! instruction limit; what is left on its stack is converted. Instructions: `t` push a table,
//! `a` an array-marked table, `0`-`9` a digit, `*` `/` `^` `-` arithmetic on the top two (or one),
//! `i`/`I` the largest and smallest integers, `h` infinity, `f` 0.5, `s` a short string, `c`
//! concatenate the top two, `S` a string of `n` bytes, `u` invalid UTF-8, `z` a NUL, `b`/`B`
//! booleans, `n` nil, `N` the JSON null, `F` a function, `C` a coroutine, `=` set `t[k] = v`, `+`
//! append, `r` store the table in itself, `D` nest the top `n` tables deep, `W` share it
//! `{t, t}` `n` times, `L` fill `n` array slots, `K` set `n` string keys, `g` a key at 2^31,
//! `m` a metatable of kind `n`, `d` duplicate, `x` swap, `p` pop. A count `n` is popped from the
//! stack and capped at 100,000 (`W` at 64).

#![no_main]

use dockhand_host::fuzzing::mlua::{self, HookTriggers, Lua, LuaOptions, StdLib, VmState};
use dockhand_host::fuzzing::{
    ConvertError, MAX_BYTES, MAX_VALUES, json_to_lua, json_to_text, lua_to_json, lua_to_json_each,
    lua_to_json_shown, parse_json,
};
use libfuzzer_sys::{Corpus, fuzz_target};
use serde_json::Value;
use std::cell::Cell;
use std::rc::Rc;

/// The interpreter: fixed Lua code that reads the input as data, so every input is a program.
/// Each instruction runs under `pcall`, so one that fails (a bad key, out of memory) is
/// skipped and the rest still build.
const MACHINE: &str = r#"
local program, s, ARRAY = ...
-- The stack's height is kept in `s.n` as it changes: a program stopped at a limit leaves it
-- right for the conversions that follow.
local n = 0
s.n = 0
local LIMIT = 100000
local function push(v) n = n + 1; s[n] = v; s.n = n end
local function pop()
  if n == 0 then return nil end
  local v = s[n]; s[n] = nil; n = n - 1; s.n = n; return v
end
local function count()
  local v = math.tointeger(pop()) or 0
  if v < 0 then return 0 end
  return math.min(v, LIMIT)
end
local function tab()
  local t = s[n]
  if type(t) ~= "table" then t = {}; push(t) end
  return t
end
local metas = {
  [0] = ARRAY,
  {__len = function() error("len") end},
  {__index = function(_, k) return k end, __newindex = function() error("newindex") end},
  {__pairs = function() error("pairs") end},
  {__metatable = "locked"},
  {__len = function() return math.maxinteger end},
  {__name = "thing", __tostring = function() return "thing" end},
  {__index = ARRAY},
}
local ops = {
  t = function() push({}) end,
  a = function() push(setmetatable({}, ARRAY)) end,
  ["*"] = function() local b, a = pop(), pop(); push(a * b) end,
  ["/"] = function() local b, a = pop(), pop(); push(a / b) end,
  ["^"] = function() local b, a = pop(), pop(); push(a ^ b) end,
  ["-"] = function() push(-pop()) end,
  i = function() push(math.maxinteger) end,
  I = function() push(math.mininteger) end,
  h = function() push(math.huge) end,
  f = function() push(0.5) end,
  s = function() push("k" .. n) end,
  c = function() local b, a = pop(), pop(); push(tostring(a) .. tostring(b)) end,
  S = function() push(string.rep("x", count())) end,
  u = function() push("\xff\xfe\xc3") end,
  z = function() push("a\0b") end,
  b = function() push(true) end,
  B = function() push(false) end,
  n = function() push(nil) end,
  N = function() push(NULL) end,
  F = function() push(print) end,
  C = function() push(coroutine.create(function() end)) end,
  ["="] = function() local v, k = pop(), pop(); rawset(tab(), k, v) end,
  ["+"] = function() local v = pop(); local t = tab(); rawset(t, rawlen(t) + 1, v) end,
  r = function() local k = pop(); local t = tab(); rawset(t, k, t) end,
  D = function() local k = count(); local t = pop(); for _ = 1, k do t = {t} end; push(t) end,
  W = function() local k = math.min(count(), 64); local t = pop()
    for _ = 1, k do t = {t, t} end; push(t) end,
  L = function() local k = count(); local t = tab(); for i = 1, k do rawset(t, i, i) end end,
  K = function() local k = count(); local t = tab(); for i = 1, k do rawset(t, "k" .. i, i) end end,
  g = function() rawset(tab(), 2 ^ 31, true) end,
  m = function() local k = count(); setmetatable(tab(), metas[k % 8]) end,
  d = function() push(s[n]) end,
  x = function() local b, a = pop(), pop(); push(b); push(a) end,
  p = function() pop() end,
}
for i = 1, #program do
  local c = program:sub(i, i)
  if ops[c] then pcall(ops[c])
  elseif c:match("%d") then push(tonumber(c)) end
end
"#;

/// Lua heap for a program: enough for a few million table slots, far below the RSS limit.
const MEMORY_LIMIT: usize = 64 << 20;
/// VM instructions for a program, and again for the conversions (which run no Lua unless a
/// metamethod is called): bounds each run to well under a second.
const INSTRUCTIONS: u64 = 2_000_000;
const HOOK_EVERY: u32 = 10_000;
/// Values past which a converted value is only checked against the bound.
const BIG: usize = 100_000;

/// How many values and bytes of strings and keys a converted value holds, counted as the
/// conversion's budget counts them.
fn size(value: &Value) -> (usize, usize) {
    match value {
        Value::String(s) => (1, s.len()),
        Value::Array(items) => items.iter().map(size).fold((1, 0), add),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| add(size(v), (0, k.len())))
            .fold((1, 0), add),
        _ => (1, 0),
    }
}

fn add(a: (usize, usize), b: (usize, usize)) -> (usize, usize) {
    (a.0 + b.0, a.1 + b.1)
}

fn within_bound(value: &Value) {
    let (values, bytes) = size(value);
    assert!(values <= MAX_VALUES, "{values} values");
    assert!(bytes <= MAX_BYTES, "{bytes} bytes of strings and keys");
}

/// Equal as JSON values, numbers within float precision (JSON text keeps f64s to ~17 digits),
/// and with `null` members of objects dropped on the left when `drop_nulls` (a round trip
/// through Lua, where `null` becomes `nil`).
fn same(left: &Value, right: &Value, drop_nulls: bool) -> bool {
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
            a == b || (a - b).abs() <= f64::EPSILON * 4.0 * a.abs().max(b.abs())
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y, drop_nulls))
        }
        (Value::Object(a), Value::Object(b)) => {
            let kept = |v: &&Value| !(drop_nulls && v.is_null());
            a.values().filter(kept).count() == b.len()
                && a.iter()
                    .filter(|(_, v)| kept(v))
                    .all(|(k, v)| b.get(k).is_some_and(|w| same(v, w, drop_nulls)))
        }
        _ => left == right,
    }
}

/// Whether a value has `null` where Lua would leave a hole (in an array) or turn `[]`/`{}`
/// into something else once the `null` members are gone; such values do not round-trip.
fn lossy_in_lua(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|v| v.is_null() || lossy_in_lua(v)),
        Value::Object(map) => map.values().any(|v| v.is_null() || lossy_in_lua(v)),
        _ => false,
    }
}

/// Checks one value; false when it was big (or past the bound), so that the caller spares
/// itself converting it again.
fn check_data(lua: &Lua, value: mlua::Value, program: &str) -> bool {
    let data = match lua_to_json(value.clone()) {
        Ok(data) => data,
        // Showing visits the same values in the same order, so it passes the bound too;
        // converting again would only double the time of a slow case.
        Err(ConvertError::Limit(_)) => return false,
        // Not data (a function, a cycle, a bad key): showing skips such values, within the
        // bound.
        Err(ConvertError::Invalid(_)) => {
            return match lua_to_json_shown(value) {
                Ok(shown) => {
                    within_bound(&shown);
                    size(&shown).0 <= BIG
                }
                Err(_) => false,
            };
        }
    };
    within_bound(&data);
    // The checks below take the same code paths for a value of any size; on a big one they
    // would only multiply the time a run spends on it.
    if size(&data).0 > BIG {
        return false;
    }
    match lua_to_json_shown(value) {
        Ok(shown) => assert_eq!(shown, data, "shown and data differ: {program:?}"),
        Err(e) => panic!("converts as data but not for showing: {e:?}"),
    }

    for pretty in [false, true] {
        let text = match json_to_text(&data, pretty) {
            Ok(text) => text,
            Err(ConvertError::Limit(_)) => continue,
            Err(e) => panic!("writing JSON failed without the bound: {e:?}"),
        };
        assert!(text.len() <= MAX_BYTES);
        match parse_json(text.as_bytes()) {
            Ok(back) => assert!(
                same(&data, &back, false),
                "text does not parse back: {program:?}"
            ),
            // The text's nesting can pass serde_json's recursion limit, which the conversion
            // from Lua does not share, and the bound counts the same values again.
            Err(ConvertError::Invalid(m)) if m.contains("recursion limit") => {}
            Err(e) => panic!("its own JSON text does not parse: {e:?}"),
        }
    }

    if let Ok(again) = json_to_lua(lua, &data) {
        match lua_to_json(again) {
            Ok(back) if !lossy_in_lua(&data) => {
                let changed = format!("the Lua round trip changed the value: {program:?}");
                assert!(same(&data, &back, true), "{changed}")
            }
            Ok(back) => within_bound(&back),
            Err(ConvertError::Limit(_)) | Err(ConvertError::Invalid(_)) => {}
        }
    }
    true
}

fuzz_target!(|program: &[u8]| -> Corpus {
    let libs = StdLib::STRING | StdLib::TABLE | StdLib::MATH | StdLib::COROUTINE;
    let lua = Lua::new_with(libs, LuaOptions::default()).expect("a Lua state");
    lua.set_memory_limit(MEMORY_LIMIT).expect("a memory limit");
    let ran = Rc::new(Cell::new(0u64));
    let counter = ran.clone();
    lua.set_global_hook(
        HookTriggers::new().every_nth_instruction(HOOK_EVERY),
        move |_, _| {
            counter.set(counter.get() + u64::from(HOOK_EVERY));
            if counter.get() > INSTRUCTIONS {
                Err(mlua::Error::runtime("instruction limit"))
            } else {
                Ok(VmState::Continue)
            }
        },
    )
    .expect("a hook");

    let stack = lua.create_table().expect("a table");
    let array = mlua::LuaSerdeExt::array_metatable(&lua);
    lua.globals()
        .set("NULL", mlua::Value::NULL)
        .expect("a global");
    let program_text = lua.create_string(program).expect("a string");
    // The program may stop at a limit; what it built so far is converted all the same.
    let _ = lua
        .load(MACHINE)
        .set_name("machine")
        .call::<()>((program_text, stack.clone(), array));
    ran.set(0);
    // A program may leave the heap full; the conversions' own use of the Lua stack (and the
    // way back to Lua) get room of their own, still bounded.
    lua.set_memory_limit(2 * MEMORY_LIMIT)
        .expect("a memory limit");

    let n: usize = stack.raw_get("n").unwrap_or(0);
    let values: Vec<mlua::Value> = (1..=n)
        .map(|i| stack.raw_get(i).unwrap_or(mlua::Value::Nil))
        .collect();
    let Some(top) = values.last() else {
        return Corpus::Keep;
    };
    if !check_data(&lua, top.clone(), &String::from_utf8_lossy(program)) {
        // Checked, but not kept: an input whose value is big takes seconds to convert, and a
        // working corpus full of them would spend each run's time on its first pass. The
        // seeds that reach the bound run every time.
        return Corpus::Reject;
    }
    // Several results share one budget; with one, this is the conversion above again.
    if values.len() < 2 {
        return Corpus::Keep;
    }
    match lua_to_json_each(values.clone()) {
        Ok(shown) => {
            assert_eq!(shown.len(), values.len());
            let (count, bytes) = shown.iter().map(size).fold((0, 0), add);
            assert!(
                count <= MAX_VALUES && bytes <= MAX_BYTES,
                "{count} values, {bytes} bytes"
            );
            if count <= BIG {
                Corpus::Keep
            } else {
                Corpus::Reject
            }
        }
        Err(ConvertError::Limit(_)) => Corpus::Reject,
        Err(e) => panic!("showing failed without the bound: {e:?}"),
    }
});
