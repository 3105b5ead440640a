//! The limits of a run and the guards that keep a script from dodging them.
//!
//! The time limit is enforced by a count hook, which only fires while the VM runs Lua code. So
//! every way a script could catch the limit's error, or run without the VM, is closed here:
//!
//! - once a run is over a limit it cannot continue past ([`Limits::stop`]: the time limit, the
//!   output cap), every hook tick raises the error again, and `pcall`, `xpcall`,
//!   `coroutine.resume`, `coroutine.close`, `coroutine.wrap` and `load` (whose reader's errors
//!   come back as values) re-raise it instead of returning it;
//! - Lua turns hooks off while a hook runs and turns them back on only when the error reaches a
//!   `pcall`: `xpcall`'s message handler runs before that, and a coroutine the error killed
//!   never gets there, so its `__close` handlers would run unwatched when it is closed. Both
//!   refuse to run once the run is over a limit. The hook is a plain C hook that raises like
//!   `luaL_error`: mlua's hooks truncate the interrupted function's stack when they fail, which
//!   runs its `__close` handlers right there, inside the hook, unwatched;
//! - the hook's count of instructions between two looks at the clock adapts to what they cost,
//!   so the looks stay milliseconds apart even when every instruction compares 64 MiB strings.
//!   What remains: a script that turns from cheap instructions to slow ones right at its
//!   deadline overruns by the one look the count was set for, at most 1000 slow instructions;
//! - `__gc` metamethods are refused, because Lua runs finalizers with hooks turned off;
//! - the C loops whose length a script chooses without allocating anything (`string.rep` of an
//!   empty string, `table.move` over a large range, `table.insert`/`table.remove` on a table
//!   whose `__len` claims any length) run as Lua loops instead, which the hook sees;
//! - pattern matching runs in Rust and checks the clock as it goes (`strings.rs`).

use mlua::{Lua, ffi};
use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::fmt;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// The most VM instructions between two looks at the clock: about 1% of the run's time.
const HOOK_EVERY: c_int = 1000;
/// How far apart the looks at the clock may be. Some instructions take milliseconds (comparing
/// or concatenating long strings, calling a C function on one), so the count of instructions
/// between two looks is tuned to what they cost: a fixed 1000 of them could be seconds.
const TICK_AT_MOST: Duration = Duration::from_millis(5);
/// Below this the count doubles, back up to [`HOOK_EVERY`].
const TICK_AT_LEAST: Duration = Duration::from_micros(500);

/// An error raised because the run hit one of its limits; the run reports it as `kind: "limit"`.
#[derive(Debug, Clone)]
pub(super) struct LimitHit(pub String);

impl fmt::Display for LimitHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LimitHit {}

/// A [`LimitHit`] as the error a Rust callback returns.
pub(super) fn limit_error(message: impl Into<String>) -> mlua::Error {
    mlua::Error::external(LimitHit(message.into()))
}

/// The [`LimitHit`] inside an error, however mlua wrapped it on the way.
pub(super) fn limit_hit(error: &mlua::Error) -> Option<&LimitHit> {
    error.downcast_ref::<LimitHit>()
}

/// One run's limits, shared by the hook and every callback that can run long.
pub(super) struct Limits {
    deadline: Instant,
    time_limit: Duration,
    memory_limit: usize,
    /// The message of the limit the run cannot continue past, once one was hit.
    stopped: RefCell<Option<String>>,
    /// When the hook last ran.
    last_tick: Cell<Instant>,
}

impl Limits {
    pub fn new(time_limit: Duration, memory_limit: usize) -> Self {
        Limits {
            deadline: Instant::now() + time_limit,
            time_limit,
            memory_limit,
            stopped: RefCell::new(None),
            last_tick: Cell::new(Instant::now()),
        }
    }

    pub fn memory_limit(&self) -> usize {
        self.memory_limit
    }

    pub fn time_message(&self) -> String {
        format!(
            "the script ran past its time limit of {} s",
            self.time_limit.as_secs_f64()
        )
    }

    /// `Err` once the run has to end: past its deadline, or after [`Limits::stop`].
    pub fn check(&self) -> mlua::Result<()> {
        match self.over() {
            Some(message) => Err(limit_error(message)),
            None => Ok(()),
        }
    }

    /// The message of the limit the run is over, if it is.
    fn over(&self) -> Option<String> {
        self.over_at(Instant::now())
    }

    fn over_at(&self, now: Instant) -> Option<String> {
        if let Some(message) = self.stopped.borrow().as_ref() {
            return Some(message.clone());
        }
        (now >= self.deadline).then(|| self.stop(self.time_message()))
    }

    /// The instruction count for the hook's next tick, given this tick's count and time.
    fn tune(&self, count: c_int, now: Instant) -> c_int {
        let interval = now.saturating_duration_since(self.last_tick.replace(now));
        if interval > TICK_AT_MOST {
            let scaled = i128::from(count) * TICK_AT_MOST.as_nanos() as i128
                / interval.as_nanos().max(1) as i128;
            scaled.clamp(1, i128::from(HOOK_EVERY)) as c_int
        } else if interval < TICK_AT_LEAST {
            count.saturating_mul(2).min(HOOK_EVERY)
        } else {
            count
        }
    }

    /// Ends the run: from now on every hook tick and every caught error raises `message`, or
    /// the message of the limit that ended it first, which this returns.
    pub fn stop(&self, message: String) -> String {
        self.stopped.borrow_mut().get_or_insert(message).clone()
    }

    /// The limit that ended the run, if one did.
    pub fn stopped(&self) -> Option<String> {
        self.stopped.borrow().clone()
    }
}

/// Sets the hook and replaces the functions listed in the module docs. Runs before any other
/// code is loaded, so nothing else ever holds the originals.
pub(super) fn install(lua: &Lua, limits: &Rc<Limits>) -> mlua::Result<()> {
    set_hook(lua, limits)?;
    let check_limits = limits.clone();
    let alive = lua.create_function(move |_, ()| check_limits.check())?;
    lua.load(GUARDS).set_name("=dockhand").call::<()>(alive)
}

/// Where the registry keeps the address of the state's [`Limits`] for the hook.
static LIMITS_KEY: u8 = 0;

fn limits_key() -> *const c_void {
    std::ptr::addr_of!(LIMITS_KEY).cast()
}

/// Sets [`hook`] on the main thread; every thread created afterwards (mlua's, the script's
/// coroutines) inherits it from the thread that creates it.
fn set_hook(lua: &Lua, limits: &Rc<Limits>) -> mlua::Result<()> {
    // The app data lives until after the state is closed, so the address stays valid for as
    // long as the hook can run.
    lua.set_app_data(limits.clone());
    let address = Rc::as_ptr(limits).cast_mut().cast::<c_void>();
    // SAFETY: plain stack and registry operations on the state mlua hands us.
    unsafe {
        lua.exec_raw::<()>((), |state| {
            ffi::lua_pushlightuserdata(state, address);
            ffi::lua_rawsetp(state, ffi::LUA_REGISTRYINDEX, limits_key());
            // From one instruction up: the first instructions may already be slow ones.
            ffi::lua_sethook(state, Some(hook), ffi::LUA_MASKCOUNT, 1);
        })
    }
}

/// Raises the limit's message, as a string, once the run is over a limit.
unsafe extern "C-unwind" fn hook(state: *mut ffi::lua_State, _: *mut ffi::lua_Debug) {
    // SAFETY: Lua guarantees a hook LUA_MINSTACK free slots; the address is the app data's.
    unsafe {
        ffi::lua_rawgetp(state, ffi::LUA_REGISTRYINDEX, limits_key());
        let limits = ffi::lua_touserdata(state, -1).cast_const().cast::<Limits>();
        ffi::lua_pop(state, 1);
        let Some(limits) = limits.as_ref() else {
            return;
        };
        let now = Instant::now();
        let count = ffi::lua_gethookcount(state);
        let tuned = limits.tune(count, now);
        if tuned != count {
            ffi::lua_sethook(state, Some(hook), ffi::LUA_MASKCOUNT, tuned);
        }
        let Some(message) = limits.over_at(now) else {
            return;
        };
        ffi::lua_pushlstring(state, message.as_ptr().cast(), message.len());
        // lua_error jumps over this frame: nothing here may need dropping by then.
        drop(message);
        ffi::lua_error(state);
    }
}

/// The replaced functions keep the originals in locals of the same names, so that an argument
/// error the original raises names the function the script called.
const GUARDS: &str = r##"
local alive = ...
local pcall, xpcall, load, setmetatable = pcall, xpcall, load, setmetatable
local resume, close = coroutine.resume, coroutine.close
local rep, insert, remove, move = string.rep, table.insert, table.remove, table.move
local error, select, type, getmetatable, rawget = error, select, type, getmetatable, rawget
local tointeger, tonumber, mtype, ult, maxinteger =
  math.tointeger, tonumber, math.type, math.ult, math.maxinteger

-- A failure caught once the run is over a limit is the limit's: raise it again.
local function checked(ok, ...)
  if not ok then alive() end
  return ok, ...
end

_ENV.pcall = function(...) return checked(pcall(...)) end
coroutine.resume = function(...) return checked(resume(...)) end

-- An error raised by a hook leaves hooks off until the stack unwinds to a pcall, and a message
-- handler runs before that: once the run is over a limit, the handler must not run at all.
_ENV.xpcall = function(f, handler, ...)
  if type(handler) ~= "function" then return xpcall(f, handler, ...) end
  return checked(xpcall(f, function(...) alive() return handler(...) end, ...))
end

-- A coroutine the hook's error killed never unwinds to a pcall, so hooks stay off in it for
-- good, and closing it would run its `__close` handlers unwatched: refuse once over a limit.
coroutine.close = function(...)
  alive()
  return checked(close(...))
end

-- `coroutine.wrap` closes the coroutine when it fails, so it is rebuilt on the guarded pieces.
-- The local is named after the function the script called, for `create`'s argument errors.
local wrap, status = coroutine.create, coroutine.status
local function wrapped(co, ok, ...)
  if ok then return ... end
  local err = ...
  if status(co) == "dead" then
    alive()
    local closed, close_err = close(co)
    if not closed then err = close_err end
  end
  if type(err) == "string" then error(err, 2) end
  error(err, 0)
end
coroutine.wrap = function(f)
  local co = wrap(f)
  return function(...) return wrapped(co, resume(co, ...)) end
end

-- Text only, so bytecode never loads; a reader function's error comes back as a value.
_ENV.load = function(chunk, name, _mode, env)
  local f, err
  if env == nil then f, err = load(chunk, name, "t") else f, err = load(chunk, name, "t", env) end
  if f == nil then alive() end
  return f, err
end

_ENV.setmetatable = function(...)
  local _, mt = ...
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    error("__gc metamethods are not available: Lua runs them where the time limit cannot stop them", 2)
  end
  return setmetatable(...)
end

string.rep = function(...)
  local s, n, sep = ...
  if s == "" and (sep == nil or sep == "") and n ~= nil and tointeger(n) then return "" end
  return rep(...)
end

local function checkinteger(v, arg, name)
  local i = v ~= nil and tointeger(v)
  if i then return i end
  local why = tonumber(v) and "number has no integer representation"
    or ("number expected, got " .. type(v))
  error(("bad argument #%d to '%s' (%s)"):format(arg, name, why), 3)
end

local function length(t)
  local n = #t
  if mtype(n) ~= "integer" then error("object length is not an integer", 3) end
  return n
end

-- With a metatable, `#t` is whatever `__len` says, so the C loops below could be told to run
-- for 2^63 steps; the same loops in Lua (same order, same metamethods) stay under the hook.
table.insert = function(...)
  local t, pos, v = ...
  if select("#", ...) ~= 3 or type(t) ~= "table" or getmetatable(t) == nil then
    return insert(...)
  end
  local e = length(t) + 1
  pos = checkinteger(pos, 2, "insert")
  if not ult(pos - 1, e) then error("bad argument #2 to 'insert' (position out of bounds)", 2) end
  local i = e
  while i > pos do t[i] = t[i - 1]; i = i - 1 end
  t[pos] = v
end

table.remove = function(...)
  local t, pos = ...
  if type(t) ~= "table" or getmetatable(t) == nil then return remove(...) end
  local size = length(t)
  if pos == nil then pos = size else pos = checkinteger(pos, 2, "remove") end
  if pos ~= size and ult(size, pos - 1) then
    error("bad argument #2 to 'remove' (position out of bounds)", 2)
  end
  local result = t[pos]
  while pos < size do t[pos] = t[pos + 1]; pos = pos + 1 end
  t[pos] = nil
  return result
end

-- Moving a range of nils stores nothing, so only the range bounds how long the C loop runs.
local SMALL_MOVE = 1 << 16
table.move = function(...)
  local a1, f, e, t, a2 = ...
  local fi = f ~= nil and tointeger(f)
  local ei = e ~= nil and tointeger(e)
  if not (fi and ei) or ei - fi < SMALL_MOVE then return move(...) end
  move(a1, 1, 0, t, a2) -- checks the tables and `t`, moves nothing
  local ti = tointeger(t)
  if not (fi > 0 or ei < maxinteger + fi) then
    error("bad argument #3 to 'move' (too many elements to move)", 2)
  end
  local n = ei - fi + 1
  if not (ti <= maxinteger - n + 1) then
    error("bad argument #4 to 'move' (destination wrap around)", 2)
  end
  local dest = a1
  if a2 ~= nil then dest = a2 end
  if ti > ei or ti <= fi or (a2 ~= nil and a1 ~= a2) then
    for i = 0, n - 1 do dest[ti + i] = a1[fi + i] end
  else
    for i = n - 1, 0, -1 do dest[ti + i] = a1[fi + i] end
  end
  return dest
end
"##;
