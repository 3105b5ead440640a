//! `dockhand call OPERATION name=value...`: one Hub operation; the body is printed as JSON. A
//! value may come from a file (`name=@path`) or standard input (`name=@-`).

use super::Outcome;
use super::host::open;
use crate::cli::{CallArgs, Global};
use crate::output::{Failure, print_json, usage};
use dockhand_host::bindings::exports::dockhand::hub::types::InvalidArgument;
use dockhand_host::{CallError, CallOptions, HubError};
use serde_json::{Map, Value};
use std::io::Read;
use std::process::ExitCode;

pub async fn run(g: &Global, args: &CallArgs) -> Outcome {
    // Arguments first: a file that cannot be read is reported before the component is loaded.
    // Standard input is read here only when nothing else (a secret) is read from it.
    check_stdin_once(g, args)?;
    let arguments = call_arguments(args, &mut std::io::stdin().lock())?;
    let hub = open(g, g.base_url.clone())?;
    let options = CallOptions {
        account: g.account.clone(),
        all_pages: args.all_pages,
        max_pages: args.max_pages,
        page_concurrency: args.page_concurrency,
        max_retries: args.retries,
        max_retry_wait: args.retry_wait.map(std::time::Duration::from_secs),
    };
    let result = hub.call(&args.operation, &arguments, &options).await?;
    print_json(&result.body, g.json);
    Ok(ExitCode::SUCCESS)
}

/// The most a value read from a file or standard input (`name=@path`, `name=@-`) may be: far
/// more than any Hub field takes (a repository overview is at most 25,000 characters).
const MAX_VALUE_FROM_FILE: u64 = 1 << 20;

/// Standard input can be read once: by `--args-json -`, one `name=@-`, or a secret flag.
fn check_stdin_once(g: &Global, args: &CallArgs) -> Result<(), Failure> {
    let c = &g.credentials;
    let mut readers: Vec<String> = [
        (c.token_stdin, "--token-stdin"),
        (c.bearer_stdin, "--bearer-stdin"),
        (c.scim_token_stdin, "--scim-token-stdin"),
        (args.args_json.as_deref() == Some("-"), "--args-json -"),
    ]
    .into_iter()
    .filter(|(reads, _)| *reads)
    .map(|(_, flag)| flag.to_string())
    .collect();
    readers.extend(
        args.args
            .iter()
            .filter(|pair| pair.split_once('=').is_some_and(|(_, v)| v == "@-"))
            .cloned(),
    );
    if readers.len() > 1 {
        return Err(usage(format!(
            "standard input can be read only once, and it is asked for by {}",
            readers
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        )));
    }
    Ok(())
}

/// `name=value` pairs merged over `--args-json`. A value `@path` is the text of a file, `@-` that
/// of standard input, and `@@...` the text after the first `@`.
fn call_arguments(args: &CallArgs, stdin: &mut dyn Read) -> Result<Value, Failure> {
    let mut map = match args.args_json.as_deref() {
        None => Map::new(),
        Some(text) => {
            let text = if text == "-" {
                std::io::read_to_string(&mut *stdin)
                    .map_err(|e| usage(format!("reading --args-json from standard input: {e}")))?
            } else {
                text.to_string()
            };
            match serde_json::from_str(&text) {
                Ok(Value::Object(map)) => map,
                Ok(_) => return Err(usage("--args-json must be a JSON object")),
                Err(e) => return Err(usage(format!("--args-json is not valid JSON: {e}"))),
            }
        }
    };
    for pair in &args.args {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| usage(format!("`{pair}`: arguments are written name=value")))?;
        if name.is_empty() {
            return Err(usage(format!("`{pair}`: the argument name is missing")));
        }
        let value = argument_value(value, stdin).map_err(|reason| {
            Failure::Call(CallError::Hub(HubError::InvalidArgument(InvalidArgument {
                name: name.to_string(),
                reason,
            })))
        })?;
        map.insert(name.to_string(), value);
    }
    Ok(Value::Object(map))
}

/// One `name=value`'s value: `@@...` the text after the first `@`, `@-` standard input's text,
/// `@path` the file's text (never read as JSON: a README may well start with `[`), a value
/// starting with `[` or `{` JSON, and anything else the text itself.
fn argument_value(value: &str, stdin: &mut dyn Read) -> Result<Value, String> {
    if let Some(rest) = value.strip_prefix('@') {
        if rest.starts_with('@') {
            return Ok(Value::String(rest.to_string()));
        }
        if rest == "-" {
            return read_text(stdin, "standard input").map(Value::String);
        }
        if rest.is_empty() {
            return Err(
                "`@` must be followed by a file name (`@-` reads standard input, \
                        `@@` starts a value with `@`)"
                    .into(),
            );
        }
        let file = std::fs::File::open(rest).map_err(|e| {
            format!("cannot read the file `{rest}`: {e} (write `@@{rest}` for a value that starts with `@`)")
        })?;
        return read_text(file, &format!("the file `{rest}`")).map(Value::String);
    }
    if value.starts_with(['[', '{']) {
        return serde_json::from_str(value)
            .map_err(|e| format!("the value looks like JSON but does not parse: {e}"));
    }
    Ok(Value::String(value.to_string()))
}

/// All of `reader` as text, refusing more than [`MAX_VALUE_FROM_FILE`] without reading it all.
fn read_text(reader: impl Read, what: &str) -> Result<String, String> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_VALUE_FROM_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {what}: {e}"))?;
    if bytes.len() as u64 > MAX_VALUE_FROM_FILE {
        return Err(format!(
            "{what} is larger than 1 MiB, the most a value read from a file or standard input \
             may be"
        ));
    }
    String::from_utf8(bytes).map_err(|_| format!("{what} is not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str, stdin: &str) -> Result<Value, String> {
        argument_value(text, &mut stdin.as_bytes())
    }

    #[test]
    fn at_reads_a_file_as_text_never_as_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("README.md");
        std::fs::write(&path, "[![badge](x)](y)\n# Title\n").unwrap();
        let got = value(&format!("@{}", path.display()), "").unwrap();
        assert_eq!(got, Value::String("[![badge](x)](y)\n# Title\n".into()));
    }

    #[test]
    fn at_dash_reads_standard_input_and_at_at_escapes() {
        assert_eq!(value("@-", "from stdin\n").unwrap(), "from stdin\n");
        assert_eq!(value("@@team", "").unwrap(), "@team");
        assert_eq!(value("@@", "").unwrap(), "@");
        assert_eq!(value("@@-", "unread").unwrap(), "@-");
        assert_eq!(value("a@b", "").unwrap(), "a@b");
        assert_eq!(value("{\"a\":1}", "").unwrap(), serde_json::json!({"a": 1}));
    }

    #[test]
    fn a_missing_file_an_empty_name_and_a_large_input_are_refused() {
        let e = value("@/no/such/file", "").unwrap_err();
        assert!(e.contains("/no/such/file") && e.contains("@@"), "{e}");
        assert!(value("@", "").unwrap_err().contains("file name"));
        let big = "x".repeat(MAX_VALUE_FROM_FILE as usize + 1);
        assert!(value("@-", &big).unwrap_err().contains("1 MiB"));
        let exactly = "x".repeat(MAX_VALUE_FROM_FILE as usize);
        assert_eq!(
            value("@-", &exactly).unwrap().as_str().unwrap().len(),
            exactly.len()
        );
        let e = argument_value("@-", &mut &[0xff_u8, 0xfe][..]).unwrap_err();
        assert!(e.contains("not UTF-8"), "{e}");
    }
}
