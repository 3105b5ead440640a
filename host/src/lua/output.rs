//! `print` and `dump`: written to stdout as they happen, or collected for `--json` up to
//! [`MAX_OUTPUT`] bytes. Collected output lives in Rust memory, outside the Lua heap cap, so
//! passing the cap ends the run (it is a limit the script cannot catch, see `limits.rs`) rather
//! than silently dropping what follows.

use super::convert;
use super::limits::{Limits, limit_error};
use mlua::{Function, Lua, LuaString, Value as LuaValue, Variadic};
use std::cell::RefCell;
use std::io::Write as _;
use std::rc::Rc;

/// What `print` and `dump` may collect in one run: far more than anyone reads in one answer.
pub(super) const MAX_OUTPUT: usize = 16 << 20;

/// Where `print` and `dump` write.
pub(super) enum Sink {
    Capture(Rc<RefCell<String>>),
    Stdout,
}

impl Sink {
    /// Writes `parts` separated by tabs, then a newline.
    fn line(&self, parts: &[&[u8]], limits: &Limits) -> mlua::Result<()> {
        match self {
            Sink::Capture(buffer) => {
                let size = parts.iter().map(|p| p.len() + 1).sum::<usize>().max(1);
                let mut b = buffer.borrow_mut();
                if b.len() + size > MAX_OUTPUT {
                    return Err(limit_error(limits.stop(format!(
                        "the script's output passed its cap of {} MiB",
                        MAX_OUTPUT >> 20
                    ))));
                }
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        b.push('\t');
                    }
                    b.push_str(&String::from_utf8_lossy(part));
                }
                b.push('\n');
            }
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        let _ = out.write_all(b"\t");
                    }
                    let _ = out.write_all(part);
                }
                let _ = out.write_all(b"\n");
                let _ = out.flush();
            }
        }
        Ok(())
    }
}

pub(super) fn install(lua: &Lua, sink: Sink, limits: &Rc<Limits>) -> mlua::Result<()> {
    let globals = lua.globals();
    let sink = Rc::new(sink);
    let tostring: Function = globals.get("tostring")?;
    let print = {
        let (sink, limits, tostring) = (sink.clone(), limits.clone(), tostring.clone());
        lua.create_function(move |_, values: Variadic<LuaValue>| {
            let texts: Vec<LuaString> = values
                .into_iter()
                .map(|v| tostring.call::<LuaString>(v))
                .collect::<mlua::Result<_>>()?;
            let bytes: Vec<_> = texts.iter().map(LuaString::as_bytes).collect();
            let parts: Vec<&[u8]> = bytes.iter().map(|b| &b[..]).collect();
            sink.line(&parts, &limits)
        })?
    };
    globals.set("print", print)?;
    let limits = limits.clone();
    let dump = lua.create_function(move |_, value: LuaValue| {
        let text = match &value {
            LuaValue::Table(_) => {
                let shown = convert::to_json(value, "dump's value")
                    .and_then(|v| convert::to_text(&v, true, "dump's value"))
                    .map_err(|hit| limit_error(hit.0))?;
                return sink.line(&[shown.as_bytes()], &limits);
            }
            other => tostring.call::<LuaString>(other.clone())?,
        };
        sink.line(&[&text.as_bytes()], &limits)
    })?;
    globals.set("dump", dump)
}
