//! Entry points for the fuzz targets in `fuzz/`, built only with the `fuzzing` feature and not
//! part of the library's API.
//!
//! The Lua-to-JSON conversion lives in the `lua` module, which as a whole needs the runtime
//! (wasmtime, the call path). The fuzz targets must not instrument wasmtime, so the conversion's
//! two source files are compiled here a second time, on their own: the code fuzzed is the code
//! `dockhand lua` runs. The functions below only widen the conversion's `pub(super)` items to the
//! fuzz crate, and turn its error into one the fuzz crate can name.

// The conversion's files are shared with `lua`, which uses parts of them this module does not.
#[allow(dead_code)]
#[path = "lua/convert.rs"]
mod convert;
// The limit hook goes through Lua's C API (see `lua::limits`).
#[allow(dead_code, unsafe_code)]
#[path = "lua/limits.rs"]
mod limits;

/// The `mlua` the conversion is built with, so that the fuzz crate makes values of the same type.
pub use mlua;

use serde_json::Value;

/// Values one conversion may produce.
pub const MAX_VALUES: usize = convert::MAX_VALUES;
/// Bytes of strings and keys one conversion may copy, and of JSON text one encoding may write.
pub const MAX_BYTES: usize = convert::MAX_BYTES;

/// Why a conversion failed.
#[derive(Debug)]
pub enum ConvertError {
    /// The conversion bound was reached (`kind: "limit"` in a `dockhand lua` run).
    Limit(String),
    /// The value is not JSON data (a function, a cycle, a non-string key, bad text).
    Invalid(String),
}

impl From<convert::ConvertError> for ConvertError {
    fn from(e: convert::ConvertError) -> Self {
        match e {
            convert::ConvertError::Limit(hit) => ConvertError::Limit(hit.0),
            convert::ConvertError::Invalid(message) => ConvertError::Invalid(message),
        }
    }
}

/// A Lua value as data, as `json.encode` and call arguments convert it.
pub fn lua_to_json(value: mlua::Value) -> Result<Value, ConvertError> {
    Ok(convert::from_lua(value, "the value")?)
}

/// A Lua value for showing, as `dump` and a script's result convert it (non-data skipped).
pub fn lua_to_json_shown(value: mlua::Value) -> Result<Value, ConvertError> {
    convert::to_json(value, "the value").map_err(|hit| ConvertError::Limit(hit.0))
}

/// Several values for showing under one budget, as a script's results are converted.
pub fn lua_to_json_each(values: Vec<mlua::Value>) -> Result<Vec<Value>, ConvertError> {
    convert::to_json_each(values, "the values").map_err(|hit| ConvertError::Limit(hit.0))
}

/// JSON text to a value under the conversion bound, as `json.decode` parses it.
pub fn parse_json(text: &[u8]) -> Result<Value, ConvertError> {
    Ok(convert::parse(text, "the text")?)
}

/// A value as JSON text under the text bound, as `json.encode` and `--json` write it.
pub fn json_to_text(value: &Value, pretty: bool) -> Result<String, ConvertError> {
    convert::to_text(value, pretty, "the value").map_err(|hit| ConvertError::Limit(hit.0))
}

/// JSON to a Lua value, as call results and `json.decode` reach a script.
pub fn json_to_lua(lua: &mlua::Lua, value: &Value) -> mlua::Result<mlua::Value> {
    convert::to_lua(lua, value)
}
