//! `dockhand completions SHELL` and `dockhand man DIR`: both generated from the command line's
//! own clap definition, so they cannot drift from it. Operation names and aliases come from the
//! catalog's route table (`dockhand_host::operation_names`) and complete after `call`.

use super::Outcome;
use crate::cli::{Cli, Global};
use crate::output::Failure;
use clap::CommandFactory;
use std::path::Path;
use std::process::ExitCode;

pub fn completions(shell: clap_complete::Shell) -> Outcome {
    use std::io::Write as _;
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "dockhand", &mut script);
    let mut script = String::from_utf8_lossy(&script).into_owned();
    // clap's PowerShell script offers no values for a positional argument either: the operation
    // names go into the completions it offers after `call`.
    if shell == clap_complete::Shell::PowerShell {
        let case = "'dockhand;call' {\n";
        let names: String = dockhand_host::operation_names()
            .into_iter()
            .map(|name| {
                format!(
                    "            [CompletionResult]::new('{name}', '{name}', \
                     [CompletionResultType]::ParameterValue, '{name}')\n"
                )
            })
            .collect();
        script = script.replacen(case, &format!("{case}{names}"), 1);
        script = script.replacen(
            POWERSHELL_SWITCH,
            &format!("{POWERSHELL_ARGUMENTS}{POWERSHELL_SWITCH}"),
            1,
        );
    }
    if shell == clap_complete::Shell::Zsh {
        script = script.replacen(ZSH_REGISTER, ZSH_ARGUMENTS, 1);
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(script.as_bytes());
    // clap's fish script offers no values for a positional argument: add the operation names
    // after `call` (bash and zsh have them from the clap definition).
    // Argument names after an operation depend on the operation, which a static script cannot
    // know: each shell's script asks `dockhand __argument-names OP`, and otherwise keeps clap's
    // completion.
    if shell == clap_complete::Shell::Bash {
        let _ = out.write_all(BASH_ARGUMENTS.as_bytes());
    }
    if shell == clap_complete::Shell::Fish {
        let names = dockhand_host::operation_names().join(" ");
        let _ = writeln!(
            out,
            "complete -c dockhand -n \"__fish_dockhand_using_subcommand call; and not __dockhand_operation\" -f -a \"{names}\""
        );
        let _ = out.write_all(FISH_ARGUMENTS.as_bytes());
    }
    Ok(ExitCode::SUCCESS)
}

const BASH_ARGUMENTS: &str = r#"
_dockhand_with_arguments() {
    local i at=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} == call ]]; then at=$i; break; fi
    done
    local cur=${COMP_WORDS[COMP_CWORD]}
    if ((at > 0)) && [[ $cur != -* && $cur != *=* ]]; then
        local typed=("${COMP_WORDS[@]:at+1:COMP_CWORD-at-1}")
        COMPREPLY=($(compgen -W "$(dockhand __argument-names -- "${typed[@]}" 2>/dev/null)" -- "$cur"))
        if [[ ${#COMPREPLY[@]} -gt 0 ]]; then
            compopt -o nospace 2>/dev/null
            return 0
        fi
    fi
    _dockhand "$@"
}
complete -F _dockhand_with_arguments -o nosort -o bashdefault -o default dockhand
"#;

/// clap's zsh script ends by registering `_dockhand` (or, autoloaded from `fpath`, calling it);
/// the operation-aware function takes its place in both.
const ZSH_REGISTER: &str = "if [ \"$funcstack[1]\" = \"_dockhand\" ]; then
    _dockhand \"$@\"
else
    compdef _dockhand dockhand
fi";

const ZSH_ARGUMENTS: &str = r#"_dockhand_with_arguments() {
    local i at=0
    for ((i = 2; i < CURRENT; i++)); do
        if [[ ${words[i]} == call ]]; then at=$i; break; fi
    done
    local cur=${words[CURRENT]}
    if (( at > 0 )) && [[ $cur != -* && $cur != *=* ]]; then
        local -a names
        names=(${(f)"$(dockhand __argument-names -- "${(@)words[at + 1, CURRENT - 1]}" 2>/dev/null)"})
        names=(${(M)names:#${cur}*})
        if (( ${#names} )); then
            compadd -S '' -- "${names[@]}"
            return 0
        fi
    fi
    _dockhand "$@"
}

if [ "$funcstack[1]" = "_dockhand" ]; then
    # Autoloaded from $fpath as `_dockhand`: this file just redefined `_dockhand` as clap's,
    # so the completion is handed to the operation-aware function from now on.
    compdef _dockhand_with_arguments dockhand
    _dockhand_with_arguments "$@"
else
    compdef _dockhand_with_arguments dockhand
fi"#;

const FISH_ARGUMENTS: &str = r#"
# The words typed after `call`; dockhand itself finds the operation among them (past flags and
# their values), and fails when there is none yet.
function __dockhand_after_call
    set -l words (commandline -opc)
    set -l at (contains -i -- call $words); or return 1
    printf '%s\n' $words[(math $at + 1)..-1]
end
function __dockhand_operation
    dockhand __argument-names -- (__dockhand_after_call) >/dev/null 2>&1
end
complete -c dockhand -n "__fish_dockhand_using_subcommand call; and __dockhand_operation" -f -a "(dockhand __argument-names -- (__dockhand_after_call) 2>/dev/null)"
"#;

/// Where clap's PowerShell script chooses completions by the words typed so far.
const POWERSHELL_SWITCH: &str = "    $completions = @(switch ($command) {";

const POWERSHELL_ARGUMENTS: &str = r#"    $typed = @($commandElements | ForEach-Object { "$_" })
    $callAt = [array]::IndexOf($typed, 'call')
    if ($callAt -ge 1 -and -not $wordToComplete.StartsWith('-')) {
        $after = @($typed | Select-Object -Skip ($callAt + 1))
        if ($wordToComplete -and $after.Count -gt 0) { $after = @($after | Select-Object -SkipLast 1) }
        $names = @(dockhand __argument-names -- @after 2>$null)
        if ($names.Count -gt 0) {
            $names | Where-Object { $_ -like "$wordToComplete*" } |
                ForEach-Object { [CompletionResult]::new($_, $_, [CompletionResultType]::ParameterValue, $_) }
            return
        }
    }
"#;

/// `dockhand __argument-names WORDS...`: the operation among the words typed after `call`
/// (the first that is neither a flag nor a flag's value, as clap's definition of `call` says
/// which flags take one), and its argument names as `name=`, one per line. Exit 1 when no
/// word is an operation yet, which is how fish tells operation names from argument names.
pub async fn argument_names(g: &Global, words: &[String]) -> Outcome {
    let Some(operation) = operation_among(words) else {
        return Ok(ExitCode::from(1));
    };
    let hub = super::host::open_without_credentials(g)?;
    if let Some(op) = hub.resolve(operation).await? {
        let schema: serde_json::Value =
            serde_json::from_str(&op.args_schema).unwrap_or(serde_json::Value::Null);
        if let Some(properties) = schema["properties"].as_object() {
            for name in properties.keys() {
                crate::output::say!("{name}=");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The first of `words` (those after `call`) that is not a flag or a flag's value.
fn operation_among(words: &[String]) -> Option<&str> {
    let mut command = Cli::command();
    // Building propagates the global flags (`--account`, `-o`) to `call`.
    command.build();
    let call = command.find_subcommand("call")?;
    let takes_value = |flag: &str| {
        let found = match flag.strip_prefix("--") {
            Some(long) => call.get_arguments().find(|a| a.get_long() == Some(long)),
            None => {
                let short = flag.strip_prefix('-')?.chars().next()?;
                call.get_arguments().find(|a| a.get_short() == Some(short))
            }
        };
        found.map(|a| a.get_action().takes_values())
    };
    let mut words = words.iter();
    while let Some(word) = words.next() {
        if word == "--" {
            return words.next().map(String::as_str);
        }
        if word.starts_with('-') && word.len() > 1 {
            // `--flag=value` and `-ovalue` carry their value; `--flag value` does not.
            let inline = word.contains('=') || (!word.starts_with("--") && word.len() > 2);
            if !inline && takes_value(word) == Some(true) {
                words.next();
            }
            continue;
        }
        return Some(word);
    }
    None
}

/// Writes `dockhand.1` and a page per command (`dockhand-call.1`, ...) into `dir`.
pub fn man(dir: &Path) -> Outcome {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::Host(format!("creating {}: {e}", dir.display())))?;
    clap_mangen::generate_to(Cli::command(), dir)
        .map_err(|e| Failure::Host(format!("writing man pages into {}: {e}", dir.display())))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::operation_among;

    fn op(words: &[&str]) -> Option<String> {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        operation_among(&words).map(str::to_string)
    }

    #[test]
    fn the_operation_is_found_past_flags_and_their_values() {
        assert_eq!(
            op(&["list_repository_tags", "pa"]).as_deref(),
            Some("list_repository_tags")
        );
        assert_eq!(
            op(&[
                "--all-pages",
                "-o",
                "table",
                "--max-pages",
                "3",
                "get_repository"
            ])
            .as_deref(),
            Some("get_repository")
        );
        assert_eq!(
            op(&["--columns=name", "-otable", "x"]).as_deref(),
            Some("x")
        );
        assert_eq!(op(&["--all-pages", "--account", "work"]), None);
        assert_eq!(op(&[]), None);
    }
}
