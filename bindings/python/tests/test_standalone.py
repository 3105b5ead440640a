"""The self-contained component (dockhand-standalone.wasm, written by `cargo xtask standalone`)
loaded with wasmtime-py's stock WASI and wasi-http, and nothing written for dockhand: no
credentials import to provide. The bearer comes from the guest's environment."""

import json
import os
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from wasmtime import Engine, Store, WasiConfig
from wasmtime.component import Component, Linker, Record, Variant

from conftest import ALICE, ALICE_PAT, REPO

CATALOG = "dockhand:hub/catalog@0.4.0"


def standalone_path() -> Path:
    if os.environ.get("DOCKHAND_STANDALONE_WASM"):
        return Path(os.environ["DOCKHAND_STANDALONE_WASM"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "wasm32-wasip2" / "release" / "dockhand-standalone.wasm"


@pytest.fixture(scope="module")
def standalone():
    path = standalone_path()
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; build it with `cargo xtask standalone`")
    engine = Engine()
    return engine, Component.from_file(engine, str(path))


def options(base_url: str) -> Record:
    record = Record()
    for name in ["account", "all-pages", "max-pages", "page-concurrency", "max-retries", "max-retry-wait-seconds"]:
        setattr(record, name, None)
    setattr(record, "base-url", base_url)
    return record


def invoke(standalone, env, function, *args):
    """One export of `catalog`, in a fresh store whose WASI environment is `env`."""
    engine, component = standalone
    linker = Linker(engine)
    linker.add_wasip2()
    linker.add_wasi_http()
    store = Store(engine)
    wasi = WasiConfig()
    wasi.env = list(env.items())
    store.set_wasi(wasi)
    store.set_wasi_http()
    instance = linker.instantiate(store, component)
    interface = instance.get_export_index(store, CATALOG)
    func = instance.get_func(store, instance.get_export_index(store, function, interface))
    return func(store, *args)


def mint_bearer(base_url: str) -> str:
    """A JWT minted outside the guest, as the docs advise: the PAT never enters it."""
    request = urllib.request.Request(
        f"{base_url}/v2/auth/token",
        data=json.dumps({"identifier": ALICE, "secret": ALICE_PAT}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)["access_token"]


def test_operations_need_no_host_function(standalone):
    operations = invoke(standalone, {}, "operations")
    names = [op.name for op in operations]
    assert len(names) == 60
    assert "list_repository_tags" in names


def test_a_call_uses_the_bearer_from_the_environment(standalone, mock):
    bearer = mint_bearer(mock.base_url)
    args = json.dumps({"namespace": "acme", "repository": "private"})
    answer = invoke(standalone, {"DOCKHAND_BEARER": bearer}, "call", "get_repository", args, options(mock.base_url))
    assert isinstance(answer, Record), answer
    assert answer.status == 200
    assert json.loads(answer.body)["name"] == "private"

    # No variable: anonymous, and the private repository is out of reach.
    answer = invoke(standalone, {}, "call", "get_repository", args, options(mock.base_url))
    assert isinstance(answer, Variant) and answer.tag == "unauthorized", answer


class Echo(BaseHTTPRequestHandler):
    """Records each request's Authorization header and answers 404."""

    seen: list = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        Echo.seen.append(self.headers.get("Authorization"))
        body = b'{"message": "not here"}'
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_bearer_arrives_as_the_environment_gives_it(standalone):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base_url = f"http://127.0.0.1:{server.server_address[1]}"
        Echo.seen.clear()
        args = json.dumps({"namespace": "library", "repository": "alpine"})
        env = {"DOCKHAND_BEARER": "bearer-from-the-environment"}
        answer = invoke(standalone, env, "call", "get_repository", args, options(base_url))
        assert isinstance(answer, Variant) and answer.tag == "not-found", answer
        assert Echo.seen == ["Bearer bearer-from-the-environment"]

        # A named account reads its own variable; the default one is not used for it.
        Echo.seen.clear()
        record = options(base_url)
        record.account = "work"
        env = {"DOCKHAND_BEARER": "default-bearer", "DOCKHAND_WORK_BEARER": "work-bearer"}
        invoke(standalone, env, "call", "get_repository", args, record)
        assert Echo.seen == ["Bearer work-bearer"]
    finally:
        server.shutdown()
