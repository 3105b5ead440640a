//! Running the real `dockhand` binary from a test, the way a user would.

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// What one run of the binary left behind.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Standard output as one JSON value.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    /// Standard error as one JSON value (errors with `--json`).
    pub fn error_json(&self) -> Value {
        serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("stderr is not JSON ({e}): {}", self.stderr))
    }
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// `command` with a clean environment: no real credentials or config leak in.
fn clean_env<'a>(command: &'a mut Command, home: &Path) -> &'a mut Command {
    command
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
}

/// Runs `dockhand <args>` with a clean environment plus `env`, feeding it `stdin`.
pub async fn dockhand(home: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
    let home = home.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let stdin = stdin.to_string();
    // Blocking: the mock keeps serving on the runtime's other worker meanwhile.
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_dockhand"));
        let mut child = clean_env(&mut command, &home)
            .args(&args)
            .envs(env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dockhand");
        // A closed pipe just means the command did not read its input.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        Run::from(child.wait_with_output().unwrap())
    })
    .await
    .unwrap()
}

/// Starts `dockhand` (clean environment, `home` as HOME) without waiting for it, for tests that
/// signal it while it runs; stdin is empty, stdout and stderr are piped.
pub fn spawn_dockhand(home: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dockhand"));
    clean_env(&mut command, home)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dockhand")
}

/// [`dockhand`] with no stdin or extra environment, under an address-space limit of
/// `limit_kib` (`ulimit -v`, set by the shell that then becomes the binary).
pub async fn dockhand_with_address_limit(home: &Path, limit_kib: u64, args: &[&str]) -> Run {
    let home = home.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new("/bin/sh");
        let out = clean_env(&mut command, &home)
            .arg("-c")
            .arg(format!("ulimit -v {limit_kib} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_dockhand"))
            .args(&args)
            // Compiling spawns a thread per core, each with a stack and a malloc arena to fit
            // under the limit; two are plenty.
            .env("RAYON_NUM_THREADS", "2")
            .stdin(Stdio::null())
            .output()
            .expect("start dockhand through /bin/sh");
        Run::from(out)
    })
    .await
    .unwrap()
}

/// A pseudo-terminal session of `dockhand`: what [`on_a_terminal`] runs.
#[derive(Default)]
pub struct Terminal<'a> {
    /// Added to an otherwise empty environment (HOME, PATH and `TERM=xterm` aside).
    pub env: &'a [(&'a str, &'a str)],
    /// The terminal's width; 0 leaves the pty's own size (none).
    pub cols: u16,
    /// What to type, once the screen shows the first text: `("[y/N]", "y")`.
    pub typing: Option<(&'a str, &'a str)>,
}

/// Runs `dockhand args...` under a pseudo-terminal (Python's `pty`: stdin, stdout and stderr
/// are all the terminal); its exit code and the screen's bytes.
pub fn on_a_terminal(home: &Path, args: &[&str], terminal: Terminal<'_>) -> (i32, String) {
    const DRIVER: &str = r#"
import fcntl, os, pty, struct, sys, termios, time
cols, prompt, answer, argv = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3], sys.argv[4:]
pid, fd = pty.fork()
if pid == 0:
    if cols:
        # Sized before dockhand starts, so it reads the width it is meant to.
        fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    os.execv(argv[0], argv)
seen, typed = b"", not prompt
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    if not typed and prompt in seen:
        # A prompt for a secret prints first and turns echo off after: typing before that would
        # be echoed by the terminal itself, whatever dockhand does.
        if b"not shown" in prompt:
            for _ in range(500):
                if not termios.tcgetattr(fd)[3] & termios.ECHO:
                    break
                time.sleep(0.01)
        os.write(fd, answer.encode() + b"\n")
        typed = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let (prompt, answer) = terminal.typing.unwrap_or(("", ""));
    let out = Command::new("python3")
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .env("TERM", "xterm")
        .envs(terminal.env.iter().copied())
        .arg("-c")
        .arg(DRIVER)
        .arg(terminal.cols.to_string())
        .arg(prompt)
        .arg(answer)
        .arg(env!("CARGO_BIN_EXE_dockhand"))
        .args(args)
        .output()
        .expect("python3 runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The screen without its terminal sequences: what a person reads.
pub fn text_of(screen: &str) -> String {
    console::strip_ansi_codes(screen).replace("\r\n", "\n")
}
