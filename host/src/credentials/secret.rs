//! [`Secret`]: a string that formats as `***`, and reading one from standard input.

use std::fmt;
use std::io::Read;

use super::CredentialError;

/// A password, token or bearer. `Debug` and `Display` print `***`, so a secret inside an account,
/// an error or a log line cannot leak by formatting; only [`Secret::expose`] gives the text.
#[derive(Clone)]
pub struct Secret(Box<str>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into().into_boxed_str())
    }

    /// The secret text. Call only where the value is sent to its destination.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret::new(value)
    }
}

/// Far more than any token; a bigger input is a mistake (a file piped in by accident).
const MAX_SECRET_LEN: u64 = 64 * 1024;

/// Reads one secret from `reader` (for `--token-stdin`): the whole input with surrounding
/// whitespace trimmed, as `echo "$TOKEN" | dockhand --token-stdin` leaves a trailing newline.
/// Empty input, more than one line, or more than 64 KiB is refused.
pub fn read_secret(reader: impl Read) -> Result<Secret, CredentialError> {
    let mut text = String::new();
    reader
        .take(MAX_SECRET_LEN + 1)
        .read_to_string(&mut text)
        .map_err(|e| CredentialError::Stdin(format!("could not read the secret: {e}")))?;
    if text.len() as u64 > MAX_SECRET_LEN {
        return Err(CredentialError::Stdin(format!(
            "input is longer than {MAX_SECRET_LEN} bytes; expected one token"
        )));
    }
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(CredentialError::Stdin(
            "input is empty; expected one token".into(),
        ));
    }
    if trimmed.contains(['\n', '\r']) {
        return Err(CredentialError::Stdin(
            "input has more than one line; expected one token".into(),
        ));
    }
    Ok(Secret::new(trimmed))
}
