//! `dockhand lua`: Lua 5.4 workflows over the component, with the namespaces of the earlier
//! integration (`app.integrations.docker.*`, `docs.read`, `json`, `regex`, `dump`).
//!
//! Scripts are untrusted in the same way tool calls from a model are: the state has no `os`,
//! `io`, `package`, `debug` or file loading, only text chunks load, and limits stop runaway
//! scripts. Every Hub call goes through [`Dockhand::call`], so the host's egress policy and
//! sealed credentials apply unchanged.
//!
//! # Limits
//!
//! A run ends with `{kind: "limit", message}` (exit code 1 from the CLI), the message naming the
//! limit, when the script passes one of these:
//!
//! - **time**: [`LuaOptions::time_limit`], Hub calls included. Once it has passed the run ends
//!   whatever the script does: the error cannot be caught (`pcall` and its kin raise it again),
//!   and the C functions that could loop without the VM are replaced (patterns run on a
//!   matcher that watches the clock; see `limits.rs` for the list);
//! - **memory**: [`LuaOptions::memory_limit`] on the Lua heap;
//! - **conversion**: a Lua value converted to JSON (`json.encode`, `json.decode`, `dump`, call
//!   arguments, the script's result) may have at most 2,000,000 values and 64 MiB of strings
//!   and keys, and its JSON text at most 64 MiB. A table that appears in several places counts
//!   each time, since it is copied each time;
//! - **output**: what `print` and `dump` collect for `--json` ([`LuaOptions::capture_output`])
//!   is capped at 16 MiB; printing to stdout is not buffered and not capped;
//! - **replacement**: `regex.replace` may produce at most 64 MiB, `string.gsub` no more than
//!   the memory limit.
//!
//! The time and output limits end the run on the spot; the others fail the one call, which the
//! script may catch, as it may catch running out of Lua memory.

mod convert;
mod libs;
// The limit hook is a raw C hook through Lua's C API: mlua's own hooks run `__close` handlers
// inside the hook when they fail (see the module's docs).
#[allow(unsafe_code)]
mod limits;
mod output;
mod pattern;
mod strings;

use crate::bindings::exports::dockhand::hub::catalog::Access;
use crate::report::error_fields;
use crate::{CallError, CallOptions, Dockhand};
use convert::{ConvertError, to_lua};
use limits::{Limits, limit_error, limit_hit};
use mlua::{Function, Lua, MultiValue, Table, Value as LuaValue};
use output::Sink;
use serde_json::{Map, Value, json};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// How a script runs.
#[derive(Debug, Clone)]
pub struct LuaOptions {
    /// Allow operations the catalog marks `write`; without it they fail before any request.
    pub force: bool,
    /// The account `app.integrations.docker.<name>` uses (`default` when `None`).
    pub account: Option<String>,
    /// Wall-clock limit for the whole script, Hub calls included.
    pub time_limit: Duration,
    /// Cap on the Lua heap.
    pub memory_limit: usize,
    /// Collect what `print` and `dump` write into [`LuaOutcome::output`] instead of stdout.
    pub capture_output: bool,
}

impl Default for LuaOptions {
    fn default() -> Self {
        LuaOptions {
            force: false,
            account: None,
            time_limit: Duration::from_secs(300),
            memory_limit: 256 << 20,
            capture_output: true,
        }
    }
}

/// A chunk of Lua text and the name it is reported under (`workflow.lua`, `--eval`).
#[derive(Debug, Clone)]
pub struct Chunk {
    /// How errors and tracebacks name the chunk.
    pub name: String,
    /// The Lua source.
    pub code: String,
}

/// What a run produced. `error` has the shape of [`error_fields`] for Hub errors and
/// `{kind: "lua" | "syntax" | "limit", message}` for the script's own failures.
#[derive(Debug, Clone, PartialEq)]
pub struct LuaOutcome {
    /// What `print` and `dump` wrote, when [`LuaOptions::capture_output`] was set; empty
    /// otherwise.
    pub output: String,
    /// The last chunk's return values: `null` for none, the value for one, an array for more.
    pub result: Value,
    /// Why the run failed, if it did (see above for its shape).
    pub error: Option<Map<String, Value>>,
}

impl LuaOutcome {
    /// `{"output": ..., "result": ..., "error": ...}`, what `dockhand lua --json` prints.
    pub fn to_json(&self) -> Value {
        json!({
            "output": self.output,
            "result": self.result,
            "error": self.error.as_ref().map(|e| Value::Object(e.clone())),
        })
    }

    /// The error's kind, if the run failed.
    pub fn error_kind(&self) -> Option<&str> {
        self.error
            .as_ref()
            .and_then(|e| e.get("kind"))
            .and_then(Value::as_str)
    }
}

/// Runs `chunks` in order in one fresh sandboxed state; the first failure stops the run.
pub async fn run(hub: Arc<Dockhand>, chunks: &[Chunk], options: &LuaOptions) -> LuaOutcome {
    let output = Rc::new(RefCell::new(String::new()));
    let limits = Rc::new(Limits::new(options.time_limit, options.memory_limit));
    let run = execute(hub, chunks, options, output.clone(), limits.clone());
    // The instruction hook stops busy Lua; this stops a script waiting on Hub calls.
    let outcome = tokio::time::timeout(options.time_limit + Duration::from_secs(1), run).await;
    let (result, error) = match outcome {
        Ok(Ok(result)) => (result, None),
        Ok(Err(error)) => (Value::Null, Some(error)),
        Err(_) => (
            Value::Null,
            Some(script_error("limit", limits.time_message())),
        ),
    };
    // A limit that ends the run is why it ended, whatever became of its error on the way out.
    let (result, error) = match limits.stopped() {
        Some(message) => (Value::Null, Some(script_error("limit", message))),
        None => (result, error),
    };
    let output = output.borrow().clone();
    LuaOutcome {
        output,
        result,
        error,
    }
}

fn script_error(kind: &str, message: impl Into<String>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("kind".into(), kind.into());
    m.insert("message".into(), Value::String(message.into()));
    m
}

async fn execute(
    hub: Arc<Dockhand>,
    chunks: &[Chunk],
    options: &LuaOptions,
    output: Rc<RefCell<String>>,
    limits: Rc<Limits>,
) -> Result<Value, Map<String, Value>> {
    let preparing = |e: mlua::Error| script_error("host", format!("preparing Lua: {e}"));
    let (lua, pcall) = sandbox(options, &limits).map_err(preparing)?;
    let sink = if options.capture_output {
        Sink::Capture(output)
    } else {
        Sink::Stdout
    };
    install(&lua, hub, options, sink, &limits)
        .await
        .map_err(preparing)?;
    let mut result = Value::Null;
    for chunk in chunks {
        let function = lua
            .load(chunk.code.as_str())
            .set_name(format!("={}", chunk.name))
            .set_mode(mlua::chunk::ChunkMode::Text)
            .into_function()
            .map_err(|e| match e {
                mlua::Error::SyntaxError { message, .. } => script_error("syntax", message),
                other => script_error("lua", other.to_string()),
            })?;
        let mut values: MultiValue = pcall
            .call_async(function)
            .await
            .map_err(|e| script_error("lua", e.to_string()))?;
        let ok = matches!(values.pop_front(), Some(LuaValue::Boolean(true)));
        if !ok {
            let error = values.pop_front().unwrap_or(LuaValue::Nil);
            return Err(lua_error_fields(&lua, error, options));
        }
        let shown = match values.len() {
            0 => Ok(Value::Null),
            1 => convert::to_json(values.pop_front().unwrap_or(LuaValue::Nil), RESULT),
            _ => convert::to_json_each(values.into_iter().collect(), RESULT).map(Value::Array),
        };
        result = shown.map_err(|hit| script_error("limit", hit.0))?;
    }
    Ok(result)
}

const RESULT: &str = "the script's result";

/// A Lua error value as the JSON error: limits are `limit`, typed Hub errors (tables with
/// `kind`) pass through, strings and other values become `{kind: "lua", message}`.
fn lua_error_fields(lua: &Lua, error: LuaValue, options: &LuaOptions) -> Map<String, Value> {
    if let LuaValue::Error(e) = &error
        && let Some(hit) = limit_hit(e)
    {
        return script_error("limit", hit.0.clone());
    }
    if let LuaValue::Table(t) = &error
        && let Ok(Some(_)) = t.get::<Option<String>>("kind")
        && let Ok(Value::Object(map)) = convert::to_json(error.clone(), "the error")
    {
        return map;
    }
    let message = match &error {
        LuaValue::String(s) => s.to_string_lossy(),
        // `table: 0x...` says nothing; the table itself goes into `value`.
        LuaValue::Table(t) if t.metatable().is_none() => {
            "the script raised a table as its error (see `value`)".to_string()
        }
        other => lua_tostring(lua, other.clone()),
    };
    if message.contains("not enough memory") {
        let limit = options.memory_limit >> 20;
        return script_error(
            "limit",
            format!("the script passed its memory limit of {limit} MiB ({message})"),
        );
    }
    let mut fields = script_error("lua", message);
    if let LuaValue::Table(_) = &error
        && let Ok(value) = convert::to_json(error, "the error")
    {
        fields.insert("value".into(), value);
    }
    fields
}

fn lua_tostring(lua: &Lua, value: LuaValue) -> String {
    lua.globals()
        .get::<Function>("tostring")
        .and_then(|f| f.call::<String>(value))
        .unwrap_or_else(|_| "<value>".into())
}

/// A fresh state with only the safe libraries and the limits and their guards in place, and
/// Lua's own `pcall` to run chunks with: taken before any script runs, so a script that
/// replaces the global cannot hide its errors.
fn sandbox(options: &LuaOptions, limits: &Rc<Limits>) -> mlua::Result<(Lua, Function)> {
    use mlua::StdLib;
    // No IO, OS, PACKAGE or DEBUG: scripts reach the outside world only through the component.
    let libs = StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::UTF8 | StdLib::COROUTINE;
    let lua = Lua::new_with(libs, mlua::LuaOptions::default())?;
    lua.set_memory_limit(options.memory_limit)?;
    let globals = lua.globals();
    for name in ["dofile", "loadfile", "require", "collectgarbage"] {
        globals.set(name, LuaValue::Nil)?;
    }
    let string: Table = globals.get("string")?;
    string.set("dump", LuaValue::Nil)?;
    let pcall: Function = globals.get("pcall")?;
    limits::install(&lua, limits)?;
    strings::install(&lua, limits)?;
    Ok((lua, pcall))
}

/// Helpers written in Lua because only Lua code can raise an arbitrary value (our typed error
/// table) as an error; the Rust callbacks return `ok, value` pairs and these turn them into
/// results or errors.
const PRELUDE: &str = r##"
local raw_call, raw_docs, suggest = ...
local error, getmetatable, setmetatable, type, tostring, select =
  error, getmetatable, setmetatable, type, tostring, select

local error_mt = {
  __tostring = function(e) return tostring(e.message or e.kind or "error") end,
}

local function check(ok, value)
  if ok then return value end
  if type(value) == "table" then setmetatable(value, error_mt) end
  error(value, 3)
end

-- Errors in the script's terms, raised at the script's line: typed, like the Hub's.
local function refuse(level, fields)
  error(setmetatable(fields, error_mt), level + 1)
end

-- The metatables of the `docker` namespaces, to tell `docker:op{...}` (the namespace passed as
-- the arguments) from a mistake with a table of arguments.
local namespaces = setmetatable({}, {__mode = "k"})

local function bind(name, account)
  local example = ("docker.%s{namespace = \"library\", repository = \"alpine\"}"):format(name)
  return function(args, options, ...)
    if type(args) == "table" and namespaces[getmetatable(args) or false] then
      refuse(2, {kind = "invalid-argument", argument = "args", operation = name,
        message = ("invalid argument `args`: call `%s` with a dot, not a colon: %s")
          :format(name, example)})
    end
    if (args ~= nil and type(args) ~= "table") or (options ~= nil and type(options) ~= "table")
        or select("#", ...) > 0 then
      refuse(2, {kind = "invalid-argument", argument = "args", operation = name,
        message = ("invalid argument `args`: `%s` takes one table of named arguments (and, "
          .. "optionally, a table of options), as in %s"):format(name, example)})
    end
    return check(raw_call(name, account, args, options))
  end
end

local function read(topic)
  return check(raw_docs(topic))
end

local function strict(t, what)
  local mt = {
    __index = function(_, key)
      local hint = suggest(tostring(key))
      refuse(2, {kind = "unknown-operation",
        message = ("unknown operation: no Docker Hub %s named `%s`%s (docs.read(\"docker\") lists them)")
          :format(what, tostring(key), hint and ("; did you mean " .. hint .. "?") or "")})
    end,
  }
  namespaces[mt] = true
  return setmetatable(t, mt)
end

return bind, read, strict
"##;

/// The closest operation names to a misspelt `key`, as `a, b or c`, if any is close.
fn closest(known: &[String], key: &str) -> Option<String> {
    let needle = key.to_ascii_lowercase().replace('-', "_");
    let mut scored: Vec<(usize, &str)> = known
        .iter()
        .filter_map(|name| {
            dockhand_vocab::similar::closeness(&needle, name).map(|d| (d, name.as_str()))
        })
        .collect();
    scored.sort();
    let names: Vec<String> = scored
        .iter()
        .take(3)
        .map(|(_, n)| format!("`{n}`"))
        .collect();
    match names.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        [first @ .., last] => Some(format!("{} or {last}", first.join(", "))),
    }
}

/// The namespaces that need no Hub: `json`, `regex`, `print` and `dump`.
fn install_libraries(lua: &Lua, sink: Sink, limits: &Rc<Limits>) -> mlua::Result<()> {
    let globals = lua.globals();
    globals.set("json", libs::json_table(lua)?)?;
    globals.set("regex", libs::regex_table(lua)?)?;
    output::install(lua, sink, limits)
}

async fn install(
    lua: &Lua,
    hub: Arc<Dockhand>,
    options: &LuaOptions,
    sink: Sink,
    limits: &Rc<Limits>,
) -> mlua::Result<()> {
    install_libraries(lua, sink, limits)?;
    let globals = lua.globals();
    let raw_call = {
        let hub = hub.clone();
        let force = options.force;
        lua.create_async_function(
            move |lua,
                  (name, account, args, call_options): (
                String,
                Option<String>,
                LuaValue,
                Option<Table>,
            )| {
                let hub = hub.clone();
                async move { call_operation(&lua, &hub, force, name, account, args, call_options).await }
            },
        )?
    };
    let raw_docs = {
        let hub = hub.clone();
        lua.create_async_function(move |lua, topic: Option<String>| {
            let hub = hub.clone();
            async move { read_docs(&lua, &hub, topic).await }
        })?
    };
    let ops = hub
        .operations()
        .await
        .map_err(|e| mlua::Error::runtime(e.to_string()))?;
    let suggest = {
        let known: Vec<String> = ops.iter().map(|op| op.name.clone()).collect();
        lua.create_function(move |_, key: String| Ok(closest(&known, &key)))?
    };
    let (bind, read, strict): (Function, Function, Function) = lua
        .load(PRELUDE)
        .set_name("=dockhand")
        .call((raw_call, raw_docs, suggest))?;
    let mut names: Vec<&str> = ops
        .iter()
        .flat_map(|op| {
            std::iter::once(op.name.as_str()).chain(op.aliases.iter().map(String::as_str))
        })
        .collect();
    // Not operations: the tag-cleanup planner, which reads every tag and changes nothing, and
    // the apply, which deletes what a plan says (a write: `--force`).
    names.push(crate::prune::PLAN_TAG_CLEANUP);
    names.push(crate::prune::APPLY_TAG_CLEANUP);
    let namespace = |account: Option<&str>| -> mlua::Result<Table> {
        let t = lua.create_table()?;
        for name in &names {
            t.set(*name, bind.call::<Function>((*name, account))?)?;
        }
        Ok(t)
    };
    let docker = namespace(options.account.as_deref())?;
    for account in hub.broker().accounts().iter() {
        let table = namespace(Some(&account.name))?;
        // Canonical names use `-`, which Lua field syntax cannot spell: `docker.my_team` works too.
        for key in [account.name.clone(), account.name.replace('-', "_")] {
            if !names.contains(&key.as_str()) {
                docker.set(key, table.clone())?;
            }
        }
        strict.call::<Table>((table, "operation"))?;
    }
    let docker: Table = strict.call((docker, "operation or account"))?;
    let integrations = lua.create_table()?;
    integrations.set("docker", docker)?;
    let app = lua.create_table()?;
    app.set("integrations", integrations)?;
    globals.set("app", app)?;

    let docs = lua.create_table()?;
    docs.set("read", read)?;
    globals.set("docs", docs)?;

    Ok(())
}

async fn call_operation(
    lua: &Lua,
    hub: &Dockhand,
    force: bool,
    name: String,
    account: Option<String>,
    args: LuaValue,
    call_options: Option<Table>,
) -> mlua::Result<(bool, LuaValue)> {
    let args = match args {
        LuaValue::Nil => json!({}),
        table @ LuaValue::Table(_) => match convert::from_lua(table, &format!("`{name}`'s args")) {
            Ok(v @ Value::Object(_)) => v,
            // An empty Lua table is `{}` either way; anything else array-like is not arguments.
            Ok(Value::Array(a)) if a.is_empty() => json!({}),
            Ok(_) => return invalid(lua, &name, "args", "a table of named arguments"),
            Err(ConvertError::Limit(hit)) => return Err(limit_error(hit.0)),
            Err(ConvertError::Invalid(e)) => {
                let expected = format!("JSON-compatible values: {e}");
                return invalid(lua, &name, "args", &expected);
            }
        },
        _ => return invalid(lua, &name, "args", "a table of named arguments"),
    };
    let mut options = match call_options.map(call_options_from).transpose() {
        Ok(options) => options.unwrap_or_default(),
        Err((argument, expected)) => return invalid(lua, &name, &argument, expected),
    };
    options.account = account;
    if name == crate::prune::PLAN_TAG_CLEANUP {
        return match crate::prune::plan_from_args(hub, &args, &options).await {
            Ok(result) => Ok((true, to_lua(lua, &result.body)?)),
            Err(e) => fail(lua, &name, &e),
        };
    }
    if name == crate::prune::APPLY_TAG_CLEANUP {
        if !force {
            let e = CallError::Hub(crate::HubError::Denied(format!(
                "`{name}` deletes tags: run with --allow-write to allow it (nothing was sent)"
            )));
            return fail(lua, &name, &e);
        }
        return match crate::prune::apply_from_args(hub, &args, &options).await {
            Ok(result) => Ok((true, to_lua(lua, &result.body)?)),
            Err(e) => fail(lua, &name, &e),
        };
    }
    // Refused here, before any request, so the message can name the flag that allows it.
    if !force {
        match hub.resolve(&name).await {
            Ok(Some(op)) if op.access == Access::Write => {
                let e = CallError::Hub(crate::HubError::Denied(format!(
                    "`{}` is a write operation: run with --allow-write to allow it (nothing was sent)",
                    op.name
                )));
                return fail(lua, &name, &e);
            }
            Err(e) => return fail(lua, &name, &e),
            _ => {}
        }
    }
    match hub.call(&name, &args, &options).await {
        Ok(result) => Ok((true, to_lua(lua, &result.body)?)),
        Err(e) => fail(lua, &name, &e),
    }
}

/// An `invalid-argument` error naming `argument` (`args`, `options`, `options.<key>`).
fn invalid(
    lua: &Lua,
    operation: &str,
    argument: &str,
    expected: &str,
) -> mlua::Result<(bool, LuaValue)> {
    let e = CallError::Hub(crate::HubError::InvalidArgument(
        crate::bindings::exports::dockhand::hub::types::InvalidArgument {
            name: argument.into(),
            reason: format!("expected {expected}"),
        },
    ));
    fail(lua, operation, &e)
}

/// The second table of a call: `{all_pages, max_pages, page_concurrency, max_retries,
/// max_retry_wait}`. A key
/// that is not one of these is refused rather than ignored, so a misspelt option cannot
/// silently change nothing. `Err` names the argument (`options.<key>`) and what it needs.
fn call_options_from(table: Table) -> Result<CallOptions, (String, &'static str)> {
    let mut options = CallOptions::default();
    for pair in table.pairs::<LuaValue, LuaValue>() {
        let Ok((LuaValue::String(key), value)) = pair else {
            return Err(("options".into(), "a table with string keys"));
        };
        let key = key.to_string_lossy();
        let refused = |expected| Err((format!("options.{key}"), expected));
        match key.as_str() {
            "all_pages" => match value {
                LuaValue::Boolean(b) => options.all_pages = b,
                _ => return refused("true or false"),
            },
            "max_pages" => match whole_count(&value) {
                Some(n) if n > 0 => options.max_pages = Some(n),
                _ => return refused("a whole number of pages, at least 1"),
            },
            "page_concurrency" => match whole_count(&value) {
                Some(n) if n > 0 => options.page_concurrency = Some(n),
                _ => return refused("a whole number of pages in flight, at least 1"),
            },
            "max_retries" => match whole_count(&value) {
                Some(n) => options.max_retries = Some(n),
                None => return refused("a whole number of retries, 0 or more"),
            },
            "max_retry_wait" => match whole_count(&value) {
                Some(n) => options.max_retry_wait = Some(Duration::from_secs(n.into())),
                None => return refused("a whole number of seconds, 0 or more"),
            },
            _ => {
                return Err((
                    format!("options.{key}"),
                    "one of the options all_pages, max_pages, page_concurrency, max_retries, \
                     max_retry_wait (in snake_case)",
                ));
            }
        }
    }
    Ok(options)
}

/// A Lua integer, or a float with no fraction, that fits a `u32`.
fn whole_count(value: &LuaValue) -> Option<u32> {
    match value {
        LuaValue::Integer(n) => u32::try_from(*n).ok(),
        LuaValue::Number(n) if n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(n) => {
            Some(*n as u32)
        }
        _ => None,
    }
}

fn fail(lua: &Lua, operation: &str, e: &CallError) -> mlua::Result<(bool, LuaValue)> {
    let mut fields = error_fields(e);
    fields.insert("operation".into(), operation.into());
    Ok((false, to_lua(lua, &Value::Object(fields))?))
}

async fn read_docs(
    lua: &Lua,
    hub: &Dockhand,
    topic: Option<String>,
) -> mlua::Result<(bool, LuaValue)> {
    let topic = topic.unwrap_or_else(|| "docker".into());
    let operation = topic
        .strip_prefix("integrations.")
        .unwrap_or(&topic)
        .to_string();
    let (header, operation) = match operation.as_str() {
        "docker" => (true, None),
        other => match other.strip_prefix("docker.") {
            Some(op) if !op.is_empty() => (false, Some(op.to_string())),
            _ => {
                let e = CallError::Hub(crate::HubError::InvalidArgument(
                    crate::bindings::exports::dockhand::hub::types::InvalidArgument {
                        name: "topic".into(),
                        reason: format!("`{topic}`: expected \"docker\" or \"docker.<operation>\""),
                    },
                ));
                return fail(lua, "docs.read", &e);
            }
        },
    };
    match hub.docs(operation.as_deref()).await {
        Ok(markdown) => {
            let text = if header {
                format!("{LUA_HEADER}\n{markdown}")
            } else {
                markdown
            };
            Ok((true, LuaValue::String(lua.create_string(&text)?)))
        }
        Err(e) => fail(lua, "docs.read", &e),
    }
}

const LUA_HEADER: &str = "# Docker Hub from Lua

Call any operation as `app.integrations.docker.<name>(args)` with a table of named arguments;
every name below works, and so do its aliases. Use `app.integrations.docker.<account>.<name>`
for a named account. A second table `{all_pages = true, max_pages = 5}` follows pagination
(`page_concurrency`, default 4, pages in flight at once when the first gives the count); in the same table
`max_retries` (default 2) and `max_retry_wait` (seconds, default 30) bound the retries after a
429 or, for reads, a 502/503/504 or a dropped connection.
Results are Lua tables (JSON `null` becomes `nil`). Errors are tables with `kind`, `message` and,
where they apply, `status`, `argument` and `retry_after`: catch them with `pcall`. Write
operations need `--allow-write`.
";

#[cfg(test)]
mod tests;
