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
    local i op=""
    for ((i = 1; i < COMP_CWORD - 1; i++)); do
        if [[ ${COMP_WORDS[i]} == call ]]; then op=${COMP_WORDS[i + 1]}; break; fi
    done
    local cur=${COMP_WORDS[COMP_CWORD]}
    if [[ -n $op && $cur != -* && $cur != *=* ]]; then
        COMPREPLY=($(compgen -W "$(dockhand __argument-names "$op" 2>/dev/null)" -- "$cur"))
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
    local i op=""
    for ((i = 2; i < CURRENT - 1; i++)); do
        if [[ ${words[i]} == call ]]; then op=${words[i + 1]}; break; fi
    done
    local cur=${words[CURRENT]}
    if [[ -n $op && $cur != -* && $cur != *=* ]]; then
        local -a names
        names=(${(f)"$(dockhand __argument-names "$op" 2>/dev/null)"})
        names=(${(M)names:#${cur}*})
        if (( ${#names} )); then
            compadd -S '' -- "${names[@]}"
            return 0
        fi
    fi
    _dockhand "$@"
}

if [ "$funcstack[1]" = "_dockhand" ]; then
    _dockhand_with_arguments "$@"
else
    compdef _dockhand_with_arguments dockhand
fi"#;

const FISH_ARGUMENTS: &str = r#"
# The operation after `call`, once one is typed (nothing before that).
function __dockhand_operation
    set -l words (commandline -opc)
    set -l at (contains -i -- call $words); or return 1
    test (count $words) -gt $at; or return 1
    echo $words[(math $at + 1)]
end
complete -c dockhand -n "__fish_dockhand_using_subcommand call; and __dockhand_operation >/dev/null" -f -a "(dockhand __argument-names (__dockhand_operation) 2>/dev/null)"
"#;

/// Where clap's PowerShell script chooses completions by the words typed so far.
const POWERSHELL_SWITCH: &str = "    $completions = @(switch ($command) {";

const POWERSHELL_ARGUMENTS: &str = r#"    if ($command -like 'dockhand;call;*') {
        $operation = $command.Split(';')[2]
        dockhand __argument-names $operation 2>$null |
            Where-Object { $_ -like "$wordToComplete*" } |
            ForEach-Object { [CompletionResult]::new($_, $_, [CompletionResultType]::ParameterValue, $_) }
        return
    }
"#;

/// `dockhand __argument-names OP`: the operation's argument names as `name=`, one per line.
pub async fn argument_names(g: &Global, operation: &str) -> Outcome {
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

/// Writes `dockhand.1` and a page per command (`dockhand-call.1`, ...) into `dir`.
pub fn man(dir: &Path) -> Outcome {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::Host(format!("creating {}: {e}", dir.display())))?;
    clap_mangen::generate_to(Cli::command(), dir)
        .map_err(|e| Failure::Host(format!("writing man pages into {}: {e}", dir.display())))?;
    Ok(ExitCode::SUCCESS)
}
