//! `dockhand completions` and `dockhand man`: the scripts name every operation and alias, bash
//! really completes an operation name after `call` and its argument names after that, and the
//! man pages are written.

use crate::support::dockhand;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shell_script_names_the_operations_and_bash_completes_one() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = dockhand(home.path(), &["completions", shell], &[], "").await;
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        for name in [
            "list_repository_tags",
            "docker_list_tags",
            "scim_list_users",
        ] {
            assert!(run.stdout.contains(name), "{shell} lacks {name}");
        }
    }
    // PowerShell's script is still clap's, the names offered after `call`.
    let run = dockhand(home.path(), &["completions", "powershell"], &[], "").await;
    assert!(run.stdout.contains("Register-ArgumentCompleter"));
    let call = run.stdout.split("'dockhand;call' {").nth(1).unwrap();
    let call = call.split("break").next().unwrap();
    assert!(
        call.contains("[CompletionResult]::new('list_repository_tags'")
            && call.contains("--all-pages"),
        "{call}"
    );

    let script = home.path().join("dockhand.bash");
    let run = dockhand(home.path(), &["completions", "bash"], &[], "").await;
    std::fs::write(&script, run.stdout).unwrap();
    let completed = std::process::Command::new("bash")
        .arg("-c")
        .arg(
            "source \"$1\"; COMP_WORDS=(dockhand call list_rep); COMP_CWORD=2; \
             COMP_LINE='dockhand call list_rep'; COMP_POINT=${#COMP_LINE}; \
             _dockhand dockhand list_rep call; printf '%s\\n' \"${COMPREPLY[@]}\"",
        )
        .arg("bash")
        .arg(&script)
        .output()
        .unwrap();
    let offered = String::from_utf8_lossy(&completed.stdout);
    assert!(
        offered.lines().any(|l| l == "list_repository_tags"),
        "bash offered: {offered}\n{}",
        String::from_utf8_lossy(&completed.stderr)
    );
    assert!(
        offered.lines().all(|l| l.starts_with("list_rep")),
        "bash offered: {offered}"
    );

    // After an operation, its argument names with `=`, asked of dockhand itself.
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_dockhand"))
        .parent()
        .unwrap();
    let completed = std::process::Command::new("bash")
        .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
        .env("HOME", home.path())
        .arg("-c")
        .arg(
            "source \"$1\"; COMP_WORDS=(dockhand call --max-pages 2 list_repository_tags pa); COMP_CWORD=5; \
             COMP_LINE='dockhand call --max-pages 2 list_repository_tags pa'; COMP_POINT=${#COMP_LINE}; \
             _dockhand_with_arguments dockhand pa list_repository_tags; \
             printf '%s\\n' \"${COMPREPLY[@]}\"",
        )
        .arg("bash")
        .arg(&script)
        .output()
        .unwrap();
    let offered = String::from_utf8_lossy(&completed.stdout);
    let mut names: Vec<&str> = offered.lines().collect();
    names.sort();
    assert_eq!(
        names,
        ["page=", "page_size="],
        "bash offered: {offered}\n{}",
        String::from_utf8_lossy(&completed.stderr)
    );
}

/// Runs `script` in `shell` with the dockhand under test first on `PATH`; what it printed.
fn in_shell(shell: &str, flags: &[&str], script: &str, home: &std::path::Path) -> String {
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_dockhand"))
        .parent()
        .unwrap();
    let out = std::process::Command::new(shell)
        .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
        .env("HOME", home)
        .args(flags)
        .arg(script)
        .output()
        .unwrap_or_else(|e| panic!("{shell} runs (.ci/run installs it): {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// zsh and fish complete an operation's argument names after it, as bash does; PowerShell's
/// script asks for them the same way (no PowerShell here to run it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zsh_fish_and_powershell_complete_argument_names_after_an_operation() {
    let home = tempfile::tempdir().unwrap();
    let script = |shell: &str| {
        let home = home.path().to_path_buf();
        let shell = shell.to_string();
        async move {
            let run = dockhand(&home, &["completions", &shell], &[], "").await;
            assert_eq!(run.code, 0, "{}", run.stderr);
            run.stdout
        }
    };

    let fish = home.path().join("dockhand.fish");
    std::fs::write(&fish, script("fish").await).unwrap();
    let offered = in_shell(
        "fish",
        &["--no-config", "-c"],
        &format!(
            "source {0}; complete -C'dockhand call -o table --all-pages list_repository_tags pa'; \
             echo ---; complete -C'dockhand call --all-pages list_repository_t'",
            fish.display()
        ),
        home.path(),
    );
    let (arguments, operations) = offered.split_once("---\n").unwrap();
    let mut names: Vec<&str> = arguments.lines().collect();
    names.sort();
    assert_eq!(names, ["page=", "page_size="], "fish offered: {offered}");
    assert_eq!(
        operations.trim(),
        "list_repository_tags",
        "fish offered: {offered}"
    );

    // zsh: the operation-aware function is what compdef registers; `compadd` is replaced by
    // one that prints what it is given, which is what zsh would offer.
    // As the README installs it: `_dockhand` in a directory on $fpath, autoloaded by compinit.
    let fpath = home.path().join("zfunc");
    std::fs::create_dir_all(&fpath).unwrap();
    std::fs::write(fpath.join("_dockhand"), script("zsh").await).unwrap();
    let offered = in_shell(
        "zsh",
        &["-fc"],
        &format!(
            "fpath=({0} $fpath); autoload -Uz compinit; compinit -u -d {1}/.zcompdump; \
             compadd() {{ local i=${{@[(i)--]}}; print -l -- \"${{@[i+1,-1]}}\" }}; \
             words=(dockhand call -o table list_repository_tags pa); CURRENT=6; \
             for tab in 1 2; do \"${{_comps[dockhand]}}\"; print -r -- \"-- ${{_comps[dockhand]}}\"; done",
            fpath.display(),
            home.path().display()
        ),
        home.path(),
    );
    // Both TABs, the first autoloading the file and the second calling what it registered:
    // each offers the names, then says which function completion goes to.
    let mut tabs: Vec<(Vec<&str>, &str)> = Vec::new();
    let mut names = Vec::new();
    for line in offered.lines() {
        match line.strip_prefix("-- ") {
            Some(function) => {
                names.sort();
                tabs.push((std::mem::take(&mut names), function));
            }
            None => names.push(line),
        }
    }
    let both = (vec!["page=", "page_size="], "_dockhand_with_arguments");
    assert_eq!(tabs, [both.clone(), both], "zsh offered: {offered}");

    let powershell = script("powershell").await;
    let hook = powershell
        .split("$callAt = [array]::IndexOf($typed, 'call')")
        .nth(1)
        .expect("the PowerShell script asks for argument names after an operation");
    assert!(
        hook.split("$completions = @(switch")
            .next()
            .unwrap()
            .contains("dockhand __argument-names -- @after"),
        "{hook}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn man_writes_a_page_per_command() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("man1");
    let run = dockhand(home.path(), &["man", dir.to_str().unwrap()], &[], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let main = std::fs::read_to_string(dir.join("dockhand.1")).unwrap();
    assert!(main.contains(".TH dockhand"), "{main}");
    let call = std::fs::read_to_string(dir.join("dockhand-call.1")).unwrap();
    assert!(call.contains("NAME=VALUE"), "{call}");
}
