"""Starts the mock Docker Hub (`dockhand mock`) on a free loopback port for the test session.

The binary is $DOCKHAND_BIN, else $CARGO_TARGET_DIR/debug/dockhand, else
<repo>/target/debug/dockhand; building it is the job of bindings/run-tests.sh.
"""

import os
import re
import socket
import subprocess
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

# Fixtures of the mock's built-in seed (mock/src/fixtures.rs).
ALICE = "alice"
ALICE_PAT = "dckr_pat_mock_alice_admin_0000000001"
ALICE_PASSWORD = "mock-password-alice"
ALPINE_TAGS = ["latest", "3.20", "edge", "3.19", "3.18"]


def dockhand_bin() -> Path:
    candidates = []
    if os.environ.get("DOCKHAND_BIN"):
        candidates.append(Path(os.environ["DOCKHAND_BIN"]))
    if os.environ.get("CARGO_TARGET_DIR"):
        candidates.append(Path(os.environ["CARGO_TARGET_DIR"]) / "debug" / "dockhand")
    candidates.append(REPO / "target" / "debug" / "dockhand")
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(
        "the dockhand binary was not found (looked at "
        + ", ".join(map(str, candidates))
        + "); build it with `cargo build -p dockhand-host --bin dockhand` or set DOCKHAND_BIN"
    )


class Mock:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [str(dockhand_bin()), "mock", "--addr", "127.0.0.1:0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        first = {}

        def read() -> None:
            assert self.proc.stdout is not None
            for i, line in enumerate(self.proc.stdout):  # keep draining so the mock never blocks
                if i == 0:
                    first["line"] = line
                    ready.set()
            ready.set()

        ready = threading.Event()
        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(30) or "line" not in first:
            self.stop()
            raise RuntimeError("the mock did not start")
        match = re.search(r"listening on (http://127\.0\.0\.1:(\d+))", first["line"])
        if not match:
            self.stop()
            raise RuntimeError(f"unexpected first line from the mock: {first['line']!r}")
        self.base_url = match.group(1)
        self.port = int(match.group(2))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def mock():
    m = Mock()
    yield m
    m.stop()


class Recorder:
    """A TCP listener on a free loopback port that only counts connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"

    def connections(self) -> int:
        """Connections accepted so far (non-blocking)."""
        self.sock.setblocking(False)
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def recorder():
    r = Recorder()
    yield r
    r.close()
