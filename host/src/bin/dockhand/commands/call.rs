//! `dockhand call OPERATION name=value...`: one Hub operation; the body is printed as JSON. How
//! the arguments are read and shaped is `arguments.rs`.

use super::Outcome;
use super::host::open;
use crate::arguments;
use crate::cli::{CallArgs, Global};
use crate::output::{Failure, print_result, progress, say, usage, warn};
use dockhand_host::bindings::exports::dockhand::hub::catalog::OperationInfo;
use dockhand_host::{CallError, CallOptions, Dockhand, HubError};
use serde_json::Value;
use std::io::IsTerminal;
use std::process::ExitCode;

/// The pages `--all-pages` fetches without `--max-pages` (the component's default), for the
/// progress display's expected total.
const DEFAULT_MAX_PAGES: u32 = 100;

pub async fn run(g: &Global, args: &CallArgs) -> Outcome {
    // Arguments first: a file that cannot be read is reported before the component is loaded.
    // Standard input is read here only when nothing else (a secret) is read from it.
    check_stdin_once(g, args)?;
    let read = arguments::read(
        args.args_json.as_deref(),
        &args.args,
        &mut std::io::stdin().lock(),
    )?;
    let hub = open(g, g.base_url.clone())?;
    let op = hub.resolve(&args.operation).await?;
    let arguments = match op {
        Some(op) => arguments::shape(op, read)?,
        // The call reports an unknown operation, with its did-you-mean.
        None => arguments::plain(read),
    };
    if let Some(op) = op
        && op.destructive
        && !args.yes
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal()
    {
        confirm(op, &arguments)?;
    }
    let options = CallOptions {
        account: g.account.clone(),
        all_pages: args.all_pages,
        max_pages: args.max_pages,
        page_concurrency: args.page_concurrency,
        max_retries: args.retries,
        max_retry_wait: args.retry_wait.map(std::time::Duration::from_secs),
    };
    // Pages take a round trip each: a person at a terminal sees them come in.
    let pages = (args.all_pages && progress::wanted(g.json)).then(|| {
        std::sync::Arc::new(progress::Pages::new(
            args.max_pages.unwrap_or(DEFAULT_MAX_PAGES),
        ))
    });
    let observer = pages.clone().map(|p| p as dockhand_host::RequestObserver);
    let answer = hub
        .call_observed(&args.operation, &arguments, &options, observer)
        .await;
    if let Some(pages) = &pages {
        pages.finish();
    }
    if args.exit_status {
        // The check_* operations answer `{"exists": bool}`; anything else exists if it answered.
        match &answer {
            Ok(result) if result.body["exists"] == Value::Bool(false) => {
                return Ok(ExitCode::from(1));
            }
            Ok(_) => return Ok(ExitCode::SUCCESS),
            Err(CallError::Hub(HubError::NotFound(_))) => return Ok(ExitCode::from(1)),
            Err(_) => {}
        }
    }
    let result = answer.map_err(|e| in_the_clis_words(&hub, g, e))?;
    if args.all_pages
        && let Some(why) = truncated(&result.body, result.pages)
    {
        warn(g.json, "truncated", &why);
    }
    // A person at a terminal is told what was done; a script still reads the JSON `null`.
    if result.body.is_null() && !g.json && std::io::stdout().is_terminal() {
        say!("{}", done_line(op, &arguments, result.status));
    } else {
        print_result(g, &result.body, op.and_then(|op| op.table.as_ref()));
        if !args.all_pages
            && std::io::stderr().is_terminal()
            && let Some(note) = one_page_of_more(&result.body)
        {
            warn(g.json, "one_page", &note);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What an answer without a body did, in words, with the request it was: `deleted repository
/// tag alice/demo/latest (DELETE /v2/repositories/alice/demo/tags/latest/, HTTP 204)`. An
/// operation named otherwise than `delete_`, `remove_` or `cancel_` is `done: NAME (...)`.
fn done_line(op: Option<&OperationInfo>, arguments: &Value, status: u16) -> String {
    let Some(op) = op else {
        return format!("done, HTTP {status}");
    };
    let request = format!(
        "{} {}, HTTP {status}",
        op.method,
        filled_path(op, arguments)
    );
    let verb = [
        ("delete_", "deleted"),
        ("remove_", "removed"),
        ("cancel_", "cancelled"),
    ]
    .into_iter()
    .find_map(|(prefix, done)| op.name.strip_prefix(prefix).map(|what| (done, what)));
    match verb {
        Some((done, what)) => {
            // The path's values in order name the thing: acme/owners, alice/demo/latest.
            let target: Vec<String> = op
                .path
                .split('/')
                .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
                .filter_map(|name| arguments.get(name))
                .map(text_of)
                .collect();
            format!(
                "{done} {} {} ({request})",
                what.replace('_', " "),
                target.join("/")
            )
        }
        None => format!("done: {} ({request})", op.name),
    }
}

/// An argument as it reads in a path: a string without its quotes.
fn text_of(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

/// The operation's path with the arguments in it.
fn filled_path(op: &OperationInfo, arguments: &Value) -> String {
    let mut path = op.path.clone();
    if let Value::Object(map) = arguments {
        for (name, value) in map {
            path = path.replace(&format!("{{{name}}}"), &text_of(value));
        }
    }
    path
}

/// For a person at a terminal: a single page of a longer listing says how much more there is.
fn one_page_of_more(body: &Value) -> Option<String> {
    let count = body.get("count").and_then(Value::as_u64)?;
    let shown = body.get("results").and_then(Value::as_array)?.len() as u64;
    (shown < count && body.get("next").is_some_and(|n| !n.is_null()))
        .then(|| format!("{shown} of {count} shown; --all-pages fetches them all"))
}

/// Why a merged listing is not the whole listing, if it is not: `--max-pages` (or the default
/// cap) stopped the walk, or a link left the Hub's origin. The result says where the rest
/// starts (`next`), or how many there are (SCIM's `totalResults`).
fn truncated(body: &Value, pages: u32) -> Option<String> {
    if let Some(next) = body.get("next").and_then(Value::as_str) {
        return Some(format!(
            "stopped after {pages} page(s) with more to come (raise --max-pages); the \
             result's `next` is where the rest starts: {next}"
        ));
    }
    let total = body.get("totalResults").and_then(Value::as_u64)?;
    let have = body.get("Resources").and_then(Value::as_array)?.len() as u64;
    (have < total).then(|| {
        format!("stopped after {pages} page(s) with {have} of {total} results (raise --max-pages)")
    })
}

/// Asks on the terminal before an operation the catalog marks destructive; anything but `y` or
/// `yes` stops here, with nothing sent.
fn confirm(op: &OperationInfo, arguments: &Value) -> Result<(), Failure> {
    use std::io::{BufRead, Write};
    // The path with the arguments in it says what is about to go.
    let target = filled_path(op, arguments);
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "`{}` ({} {target}) cannot be undone. Go ahead? [y/N] ",
        op.name, op.method
    );
    let _ = err.flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(Failure::Host(
            "not confirmed, so nothing was sent (--yes skips the question)".into(),
        )),
    }
}

/// A call's error with what a person at this command line can do about it: where the operation
/// names are, and, for a 401 to an anonymous call, how to give credentials. Kind and exit code
/// stay the same.
fn in_the_clis_words(hub: &Dockhand, g: &Global, e: CallError) -> Failure {
    let e = match e {
        CallError::Hub(HubError::UnknownOperation(m)) if !m.contains("did you mean") => {
            CallError::Hub(HubError::UnknownOperation(format!(
                "{m}; `dockhand ops` lists them"
            )))
        }
        CallError::Hub(HubError::Unauthorized(m)) if hub.is_anonymous(g.account.as_deref()) => {
            CallError::Hub(HubError::Unauthorized(format!(
                "{m}. The call was anonymous: give a personal access token with \
                 DOCKHAND_USERNAME and DOCKHAND_TOKEN (or --username NAME --token-stdin), or \
                 configure an account in config.yaml (see `dockhand accounts`)"
            )))
        }
        e => e,
    };
    Failure::Call(e)
}

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
