//! `string.find`, `string.match`, `string.gmatch` and `string.gsub` on the bounded matcher of
//! `pattern.rs`, with the arguments, results and error messages of Lua 5.4's own.
//!
//! The Rust functions return `true, results...` or `false, message`, and small Lua wrappers
//! raise the message: that way a script's `pcall` gets a string, positioned at its own call,
//! as it would from the C functions. `gsub` with a function or table replacement runs its loop
//! in Lua, calling Rust only to find each match, so the replacement's own errors (tables
//! included) pass through untouched. Only the time limit's error is raised from Rust directly.
//! One difference remains: an error from a call in tail position (`return s:find("[")`) has no
//! `chunk:line:` prefix, because the tail call took the caller's frame with it.

use super::limits::{Limits, limit_error};
use super::pattern::{self, Budget, Capture, Failure, Found};
use mlua::{Lua, LuaString, MultiValue, Value as LuaValue};
use std::cell::Cell;
use std::rc::Rc;

/// Replaces the four functions in the `string` table (which is also strings' `__index`).
pub(super) fn install(lua: &Lua, limits: &Rc<Limits>) -> mlua::Result<()> {
    let l = limits.clone();
    let find = lua.create_function(move |lua, args: MultiValue| {
        reply(lua, find_or_match(lua, &l, args, true))
    })?;
    let l = limits.clone();
    let match_ = lua.create_function(move |lua, args: MultiValue| {
        reply(lua, find_or_match(lua, &l, args, false))
    })?;
    let l = limits.clone();
    let gmatch = lua.create_function(move |lua, args: MultiValue| {
        let iterator = gmatch(lua, &l, args).map(|f| vec![LuaValue::Function(f)]);
        reply(lua, iterator)
    })?;
    let l = limits.clone();
    let gsub = lua.create_function(move |lua, args: MultiValue| reply(lua, gsub(lua, &l, args)))?;
    let gsub_args =
        lua.create_function(move |lua, args: MultiValue| reply(lua, gsub_args(lua, args)))?;
    let l = limits.clone();
    let search = lua.create_function(
        move |lua,
              (s, p, init, anchor, skip_end, all): (
            LuaString,
            LuaString,
            usize,
            bool,
            i64,
            bool,
        )| {
            let skip_end = usize::try_from(skip_end).ok();
            let found = search(&l, &s.as_bytes(), &p.as_bytes(), init, anchor, skip_end);
            let values = found.and_then(|found| match found {
                None => Ok(vec![]),
                Some(f) => {
                    let mut values = vec![
                        LuaValue::Integer(f.start as i64),
                        LuaValue::Integer(f.end as i64),
                    ];
                    let captures = if all {
                        f.captures(true)?
                    } else {
                        vec![f.capture(0)?]
                    };
                    values.extend(lua_captures(lua, &s.as_bytes(), &captures)?);
                    Ok(values)
                }
            });
            reply(lua, values)
        },
    )?;
    lua.load(STRINGS)
        .set_name("=dockhand")
        .call::<()>((find, match_, gmatch, gsub, gsub_args, search))
}

const STRINGS: &str = r#"
local raw_find, raw_match, raw_gmatch, raw_gsub, raw_gsub_args, raw_search = ...
local error, select, type, sub, concat, pack, unpack =
  error, select, type, string.sub, table.concat, table.pack, table.unpack

local function finish(ok, ...)
  if ok then return ... end
  error((...), 2)
end

string.find = function(...) return finish(raw_find(...)) end
string.match = function(...) return finish(raw_match(...)) end

string.gmatch = function(...)
  local ok, iterate = raw_gmatch(...)
  if not ok then error(iterate, 2) end
  return function() return finish(iterate()) end
end

string.gsub = function(...)
  local repl = (select(3, ...))
  local tr = type(repl)
  if tr ~= "function" and tr ~= "table" then return finish(raw_gsub(...)) end
  local ok, s, p, anchor, max_n = raw_gsub_args(...)
  if not ok then error(s, 2) end
  local all = tr == "function"
  local pos, last, n, parts, np, changed = 0, -1, 0, {}, 0, false
  while n < max_n do
    local r = pack(raw_search(s, p, pos, anchor, last, all))
    if not r[1] then error(r[2], 2) end
    local start, e = r[2], r[3]
    if start == nil then break end
    n = n + 1
    if start > pos then np = np + 1; parts[np] = sub(s, pos + 1, start) end
    local value
    if all then value = repl(unpack(r, 4, r.n)) else value = repl[r[4]] end
    if not value then
      value = sub(s, start + 1, e)
    elseif type(value) == "string" or type(value) == "number" then
      changed = true
    else
      error("invalid replacement value (a " .. type(value) .. ")", 2)
    end
    np = np + 1; parts[np] = value
    pos, last = e, e
    if anchor then break end
  end
  if not changed then return (...), n end
  np = np + 1; parts[np] = sub(s, pos + 1)
  return concat(parts, "", 1, np), n
end
"#;

/// A failure raised as a string (argument and pattern errors) or as the limit's error.
type Outcome = Result<Vec<LuaValue>, Failure<mlua::Error>>;

/// `true, values...`, or `false, message` for the Lua wrapper to raise.
fn reply(lua: &Lua, outcome: Outcome) -> mlua::Result<MultiValue> {
    match outcome {
        Ok(values) => Ok(std::iter::once(LuaValue::Boolean(true))
            .chain(values)
            .collect()),
        Err(Failure::Pattern(message)) => Ok(MultiValue::from_iter([
            LuaValue::Boolean(false),
            LuaValue::String(lua.create_string(message)?),
        ])),
        Err(Failure::Stopped(e)) => Err(e),
    }
}

fn search(
    limits: &Limits,
    src: &[u8],
    pattern: &[u8],
    init: usize,
    anchor: bool,
    skip_end: Option<usize>,
) -> Result<Option<Found>, Failure<mlua::Error>> {
    let mut tick = || limits.check();
    pattern::search(
        src,
        pattern,
        init,
        anchor,
        skip_end,
        &mut Budget::new(&mut tick),
    )
}

fn lua_captures(
    lua: &Lua,
    src: &[u8],
    captures: &[Capture],
) -> Result<Vec<LuaValue>, Failure<mlua::Error>> {
    captures
        .iter()
        .map(|c| match *c {
            Capture::Text(a, b) => lua
                .create_string(&src[a..b])
                .map(LuaValue::String)
                .map_err(Failure::Stopped),
            Capture::Position(p) => Ok(LuaValue::Integer(p as i64)),
        })
        .collect()
}

/// The `luaL_check*` family over one call's arguments, failing with Lua's messages.
struct Args<'a> {
    lua: &'a Lua,
    values: Vec<LuaValue>,
    name: &'static str,
}

impl Args<'_> {
    /// `luaL_argerror`: called as a method (`s:find(...)`), `self` is not counted.
    fn error(&self, i: usize, why: &str) -> Failure<mlua::Error> {
        // Level 1 is the Lua wrapper, which the script called.
        let method = self
            .lua
            .inspect_stack(1, |d| d.names().name_what == Some("method"))
            .unwrap_or(false);
        let name = self.name;
        Failure::Pattern(match (method, i) {
            (true, 0) => format!("calling '{name}' on bad self ({why})"),
            (true, _) => format!("bad argument #{i} to '{name}' ({why})"),
            (false, _) => format!("bad argument #{} to '{name}' ({why})", i + 1),
        })
    }

    fn type_name(&self, i: usize) -> &'static str {
        match self.values.get(i) {
            None => "no value",
            Some(LuaValue::LightUserData(_)) => "light userdata",
            Some(LuaValue::UserData(_) | LuaValue::Error(_)) => "userdata",
            Some(LuaValue::Integer(_) | LuaValue::Number(_)) => "number",
            Some(v) => v.type_name(),
        }
    }

    fn string(&self, i: usize) -> Result<LuaString, Failure<mlua::Error>> {
        match self.values.get(i) {
            Some(LuaValue::String(s)) => Ok(s.clone()),
            Some(v @ (LuaValue::Integer(_) | LuaValue::Number(_))) => {
                match self.lua.coerce_string(v.clone()) {
                    Ok(Some(s)) => Ok(s),
                    Ok(None) => Err(self.error(i, "string expected, got number")),
                    Err(e) => Err(Failure::Stopped(e)),
                }
            }
            _ => {
                let why = format!("string expected, got {}", self.type_name(i));
                Err(self.error(i, &why))
            }
        }
    }

    fn opt_integer(&self, i: usize, default: i64) -> Result<i64, Failure<mlua::Error>> {
        let value = match self.values.get(i) {
            None | Some(LuaValue::Nil) => return Ok(default),
            Some(v) => v.clone(),
        };
        if let Ok(Some(n)) = self.lua.coerce_integer(value.clone()) {
            return Ok(n);
        }
        if let Ok(Some(_)) = self.lua.coerce_number(value) {
            return Err(self.error(i, "number has no integer representation"));
        }
        let why = format!("number expected, got {}", self.type_name(i));
        Err(self.error(i, &why))
    }

    fn truthy(&self, i: usize) -> bool {
        !matches!(
            self.values.get(i),
            None | Some(LuaValue::Nil | LuaValue::Boolean(false))
        )
    }
}

/// `posrelatI`: a 1-based start position, negative counting from the end, clipped to 1.
fn start_position(pos: i64, len: usize) -> usize {
    if pos > 0 {
        pos as usize
    } else if pos == 0 || pos.unsigned_abs() > len as u64 {
        1
    } else {
        len - pos.unsigned_abs() as usize + 1
    }
}

fn split_anchor(p: &[u8]) -> (&[u8], bool) {
    match p.split_first() {
        Some((b'^', rest)) => (rest, true),
        _ => (p, false),
    }
}

/// `str_find_aux`.
fn find_or_match(lua: &Lua, limits: &Limits, args: MultiValue, find: bool) -> Outcome {
    let args = Args {
        lua,
        values: args.into_iter().collect(),
        name: if find { "find" } else { "match" },
    };
    let s = args.string(0)?;
    let p = args.string(1)?;
    let (s, p) = (s.as_bytes(), p.as_bytes());
    let init = start_position(args.opt_integer(2, 1)?, s.len()) - 1;
    if init > s.len() {
        return Ok(vec![LuaValue::Nil]);
    }
    if find && (args.truthy(3) || !pattern::has_specials(&p)) {
        let mut tick = || limits.check();
        let at = pattern::find_plain(&s, init, &p, &mut Budget::new(&mut tick))?;
        return Ok(match at {
            Some(at) => vec![
                LuaValue::Integer(at as i64 + 1),
                LuaValue::Integer((at + p.len()) as i64),
            ],
            None => vec![LuaValue::Nil],
        });
    }
    let (pat, anchor) = split_anchor(&p);
    let Some(found) = search(limits, &s, pat, init, anchor, None)? else {
        return Ok(vec![LuaValue::Nil]);
    };
    if find {
        let mut values = vec![
            LuaValue::Integer(found.start as i64 + 1),
            LuaValue::Integer(found.end as i64),
        ];
        values.extend(lua_captures(lua, &s, &found.captures(false)?)?);
        Ok(values)
    } else {
        lua_captures(lua, &s, &found.captures(true)?)
    }
}

/// `gmatch`: the iterator keeps the subject, the pattern and where to go on from.
fn gmatch(
    lua: &Lua,
    limits: &Rc<Limits>,
    args: MultiValue,
) -> Result<mlua::Function, Failure<mlua::Error>> {
    let args = Args {
        lua,
        values: args.into_iter().collect(),
        name: "gmatch",
    };
    let s = args.string(0)?;
    let p = args.string(1)?;
    let len = s.as_bytes().len();
    let init = (start_position(args.opt_integer(2, 1)?, len) - 1).min(len + 1);
    let position = Cell::new(init);
    let last_end = Cell::new(None);
    let limits = limits.clone();
    lua.create_function(move |lua, ()| {
        let (src, pat) = (s.as_bytes(), p.as_bytes());
        let outcome =
            search(&limits, &src, &pat, position.get(), false, last_end.get()).and_then(|found| {
                match found {
                    None => {
                        position.set(src.len() + 1);
                        Ok(vec![])
                    }
                    Some(f) => {
                        position.set(f.end);
                        last_end.set(Some(f.end));
                        lua_captures(lua, &src, &f.captures(true)?)
                    }
                }
            });
        reply(lua, outcome)
    })
    .map_err(Failure::Stopped)
}

/// The checks `str_gsub` makes before its loop, in its order. The subject, the pattern
/// without its anchor, whether it had one, and the most replacements to make.
fn gsub_checked(
    args: &Args<'_>,
) -> Result<(LuaString, LuaString, bool, i64), Failure<mlua::Error>> {
    let s = args.string(0)?;
    let p = args.string(1)?;
    let max = args.opt_integer(3, s.as_bytes().len() as i64 + 1)?;
    match args.values.get(2) {
        Some(
            LuaValue::Integer(_)
            | LuaValue::Number(_)
            | LuaValue::String(_)
            | LuaValue::Function(_)
            | LuaValue::Table(_),
        ) => {}
        _ => {
            let why = format!("string/function/table expected, got {}", args.type_name(2));
            return Err(args.error(2, &why));
        }
    }
    let anchor = p.as_bytes().first() == Some(&b'^');
    let p = if anchor {
        args.lua
            .create_string(&p.as_bytes()[1..])
            .map_err(Failure::Stopped)?
    } else {
        p
    };
    Ok((s, p, anchor, max))
}

/// For the Lua loop of `gsub` with a function or table.
fn gsub_args(lua: &Lua, args: MultiValue) -> Outcome {
    let args = Args {
        lua,
        values: args.into_iter().collect(),
        name: "gsub",
    };
    let (s, p, anchor, max) = gsub_checked(&args)?;
    Ok(vec![
        LuaValue::String(s),
        LuaValue::String(p),
        LuaValue::Boolean(anchor),
        LuaValue::Integer(max),
    ])
}

/// `str_gsub` with a string (or number) replacement, entirely here.
fn gsub(lua: &Lua, limits: &Limits, args: MultiValue) -> Outcome {
    let args = Args {
        lua,
        values: args.into_iter().collect(),
        name: "gsub",
    };
    let (s, p, anchor, max) = gsub_checked(&args)?;
    let replacement = args.string(2)?;
    let (src, pat, replacement) = (s.as_bytes(), p.as_bytes(), replacement.as_bytes());
    // The result becomes a Lua string, so it can never be larger than the Lua heap.
    let cap = limits.memory_limit();
    let mut out = Vec::new();
    let mut push = |out: &mut Vec<u8>, piece: &[u8]| {
        if out.len() + piece.len() > cap {
            return Err(Failure::Stopped(limit_error(format!(
                "string.gsub: the result passed the script's memory limit of {} MiB",
                cap >> 20
            ))));
        }
        out.extend_from_slice(piece);
        Ok(())
    };
    let (mut position, mut last_end, mut n, mut changed) = (0, None, 0i64, false);
    while n < max {
        let Some(found) = search(limits, &src, &pat, position, anchor, last_end)? else {
            break;
        };
        n += 1;
        push(&mut out, &src[position..found.start])?;
        add_replacement(&mut out, &src, &found, &replacement, &mut push)?;
        changed = true;
        position = found.end;
        last_end = Some(found.end);
        if anchor {
            break;
        }
    }
    if !changed {
        return Ok(vec![args.values[0].clone(), LuaValue::Integer(n)]);
    }
    push(&mut out, &src[position..])?;
    let result = lua.create_string(&out).map_err(Failure::Stopped)?;
    Ok(vec![LuaValue::String(result), LuaValue::Integer(n)])
}

/// `add_s`: the replacement string with `%0`..`%9` and `%%` expanded.
fn add_replacement<F>(
    out: &mut Vec<u8>,
    src: &[u8],
    found: &Found,
    replacement: &[u8],
    push: &mut F,
) -> Result<(), Failure<mlua::Error>>
where
    F: FnMut(&mut Vec<u8>, &[u8]) -> Result<(), Failure<mlua::Error>>,
{
    let mut rest = replacement;
    while let Some(at) = rest.iter().position(|&b| b == b'%') {
        push(out, &rest[..at])?;
        let escaped = rest.get(at + 1).copied().unwrap_or(0);
        match escaped {
            b'%' => push(out, b"%")?,
            b'0' => push(out, &src[found.start..found.end])?,
            d if d.is_ascii_digit() => match found.capture(usize::from(d - b'1'))? {
                Capture::Text(a, b) => push(out, &src[a..b])?,
                Capture::Position(p) => push(out, p.to_string().as_bytes())?,
            },
            _ => {
                return Err(Failure::Pattern(
                    "invalid use of '%' in replacement string".into(),
                ));
            }
        }
        rest = &rest[at + 2..];
    }
    push(out, rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A state with only these four functions replaced, and another with Lua's own.
    fn states(time_limit: Duration) -> (Lua, Lua) {
        let ours = Lua::new();
        install(&ours, &Rc::new(Limits::new(time_limit, 256 << 20))).unwrap();
        (ours, Lua::new())
    }

    /// Every value `code` returns, or its error, as text.
    fn run(lua: &Lua, code: &str) -> String {
        let show = r##"
          local function show(ok, ...)
            local out = { tostring(ok) }
            for i = 1, select("#", ...) do
              local v = select(i, ...)
              local shown = math.type(v) or type(v)
              if type(v) ~= "function" and type(v) ~= "table" then shown = shown .. "=" .. tostring(v) end
              out[#out + 1] = shown
            end
            return table.concat(out, " | ")
          end
          return function(f) return show(pcall(f)) end
        "##;
        let show: mlua::Function = lua.load(show).eval().unwrap();
        let f = lua.load(code).set_name("=case").into_function().unwrap();
        show.call::<String>(f).unwrap()
    }

    #[test]
    fn behaves_like_lua_string_functions() {
        let (ours, theirs) = states(Duration::from_secs(60));
        let cases = [
            r#"("hello world"):find("o w")"#,
            r#"("hello world"):find("o", 6)"#,
            r#"("hello world"):find("l+")"#,
            r#"("hello"):find("")"#,
            r#"("hello"):find("", 10)"#,
            r#"("hello"):find("", 6)"#,
            r#"("hello"):find("l", -2)"#,
            r#"("hello"):find("l", -100)"#,
            r#"("a.b"):find(".", 1, true)"#,
            r#"("a+b"):find("+", 1, true)"#,
            r#"("a\0b"):find("\0b")"#,
            r#"("3.20.1"):match("^(%d+)%.(%d+)")"#,
            r#"("3.20.1"):match("()%.()")"#,
            r#"("key = value"):match("(%w+)%s*=%s*(%w+)")"#,
            r#"("  trim  "):match("^%s*(.-)%s*$")"#,
            r#"("f(a(b)c)d"):match("%b()")"#,
            r#"("THE (quick) fox"):find("%f[%a]%a+", 5)"#,
            r#"("abab"):match("(ab)%1")"#,
            r#"("x"):match("[%]]")"#,
            r#"("a]b"):match("[]]")"#,
            r#"("a-b"):match("[a%-]+")"#,
            r#"("\v"):match("%s")"#,
            r#"(12345):find(34)"#,
            r#"("abc"):match("^(a)(b)(c)$")"#,
            r#"("hello"):match(".-(l+)(.*)")"#,
            r#"("abc"):find("b", 1.0)"#,
            r#"do: local t = {} for k, v in ("a=1, b=2"):gmatch("(%w+)=(%w+)") do t[#t+1] = k .. v end return table.concat(t, ",")"#,
            r#"do: local t = {} for w in ("one two  three"):gmatch("%a*") do t[#t+1] = "<" .. w .. ">" end return table.concat(t)"#,
            r#"do: local t = {} for w in ("abc"):gmatch("", 2) do t[#t+1] = "." end return #t"#,
            r#"do: local t = {} for w in ("abc"):gmatch("^b") do t[#t+1] = w end return #t"#,
            r#"("hello world"):gsub("o", "0")"#,
            r#"("hello world"):gsub("(o)", "[%1%1]", 1)"#,
            r#"("hello"):gsub("", "-")"#,
            r#"("abc"):gsub("%w", "%0%0")"#,
            r#"("abc"):gsub("()", "%1")"#,
            r#"("abc"):gsub("^a", "x")"#,
            r#"("abc"):gsub("^b", "x")"#,
            r#"("abc"):gsub("b*", "-")"#,
            r#"("abc"):gsub("%w", "%%")"#,
            r#"("abc"):gsub("%w", { a = "1", b = true, c = false })"#,
            r#"("abc"):gsub("%w", function(c) if c == "b" then return 2 end end)"#,
            r#"("a b"):gsub("(%w)", function(c) return nil end)"#,
            r#"(123):gsub("x", "y")"#,
            r#"("abc"):gsub(".", "x", 0)"#,
            r#"("abc"):gsub(".", "x", -1)"#,
            r#"("abc"):gsub(".", "x", 2.0)"#,
            r#"("abc"):gsub("(a)(b", "x")"#,
            r#"("abc"):gsub("(a)", { a = 1 })"#,
            r#"("abc"):gsub("()b", { [2] = "two" })"#,
            // Errors: same messages, raised at the caller's line.
            r#"("abc"):find("[a")"#,
            r#"("abc"):find("%")"#,
            r#"("abc"):find("a)")"#,
            r#"("abc"):find("%g(")"#,
            r#"("abc"):match("(a")"#,
            r#"("abc"):find("%1")"#,
            r#"("abc"):find("%f")"#,
            r#"("abc"):find("%b")"#,
            r#"("abc"):find(("("):rep(40))"#,
            r#"("a"):rep(300):find(("a?"):rep(300))"#,
            r#"("abc"):gsub("%w", "%2")"#,
            r#"("abc"):gsub("%w", "%x")"#,
            r#"("abc"):gsub("%w", "50%")"#,
            r#"("abc"):gsub("(a)(b", function() end)"#,
            r#"("abc"):gsub("%w", { a = {} })"#,
            r#"("abc"):gsub("%w", function() return true end)"#,
            r#"("abc"):gsub("%w", function() error({ code = 1 }) end)"#,
            r#"("abc"):gsub("%w")"#,
            r#"("abc"):gsub("%w", true)"#,
            r#"("abc"):gsub("%w", "x", "many")"#,
            r#"("abc"):gsub("%w", "x", 1.5)"#,
            r#"string.find()"#,
            r#"string.find("abc")"#,
            r#"string.find("abc", {})"#,
            r#"string.find("abc", "b", "x")"#,
            r#"string.match(nil, "x")"#,
            r#"string.gmatch("abc")"#,
            r#"do: for w in ("abc"):gmatch("%") do end"#,
        ];
        for case in cases {
            // Expressions are evaluated outside a tail call, which would hide the caller's line.
            let code = match case.strip_prefix("do: ") {
                Some(statements) => statements.to_string(),
                None => format!("local r = table.pack({case}) return table.unpack(r, 1, r.n)"),
            };
            assert_eq!(run(&ours, &code), run(&theirs, &code), "{case}");
        }
    }

    #[test]
    fn backtracking_stops_at_the_time_limit() {
        let (ours, _) = states(Duration::from_millis(300));
        let started = std::time::Instant::now();
        let err = ours
            .load(r#"return string.find(("a"):rep(40), ("a*"):rep(12) .. "b")"#)
            .exec()
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(super::super::limits::limit_hit(&err).is_some(), "{err}");
        for code in [
            r#"return ("a"):rep(40):match(("a-"):rep(12) .. "b")"#,
            r#"for _ in ("a"):rep(40):gmatch(("a*"):rep(12) .. "b") do end"#,
            r#"return ("a"):rep(40):gsub(("a*"):rep(12) .. "b", "x")"#,
            r#"return ("a"):rep(40):gsub(("a*"):rep(12) .. "b", {})"#,
            r#"return ("a"):rep(1 << 22):find(("a"):rep(1 << 21) .. "b", 1, true)"#,
        ] {
            let err = ours.load(code).exec().unwrap_err();
            assert!(
                super::super::limits::limit_hit(&err).is_some(),
                "{code}: {err}"
            );
        }
    }

    #[test]
    fn gsub_results_cannot_outgrow_the_heap() {
        let (ours, _) = states(Duration::from_secs(60));
        let err = ours
            .load(r#"return ("x"):rep(1 << 20):gsub(".+", ("%0"):rep(300))"#)
            .exec()
            .unwrap_err();
        assert!(err.to_string().contains("memory limit of 256 MiB"), "{err}");
    }
}
