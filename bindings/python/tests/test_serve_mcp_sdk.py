"""`dockhand serve` as the official MCP Python SDK's Streamable HTTP client sees it: a client
with its own token gets the same tools as `dockhand mcp`, real calls against the mock answer
with structured results that fit each tool's outputSchema, a read-only client's write is refused
as a tool error, and a request without a valid token never gets a session.
"""

import asyncio
import os
import re
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import List, Tuple

import jsonschema
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from conftest import ALICE, ALICE_PAT, dockhand_bin

READER_TOKEN = "serve-sdk-reader-token-0001"


def home_with_a_reader() -> str:
    home = tempfile.mkdtemp(prefix="dockhand-serve-sdk-")
    config_dir = Path(home, ".config", "dockhand")
    config_dir.mkdir(parents=True)
    token = config_dir / "reader.token"
    token.write_text(READER_TOKEN)
    token.chmod(0o600)
    config = config_dir / "config.yaml"
    config.write_text("serve:\n  clients:\n    reader:\n      token_file: reader.token\n")
    config.chmod(0o600)
    return home


class Served:
    """`dockhand serve` on a free loopback port, until stopped."""

    def __init__(self, base_url: str) -> None:
        env = {
            "HOME": home_with_a_reader(),
            "PATH": "/usr/bin:/bin",
            "DOCKHAND_USERNAME": ALICE,
            "DOCKHAND_TOKEN": ALICE_PAT,
        }
        self.process = subprocess.Popen(
            [str(dockhand_bin()), "--base-url", base_url, "--no-cache", "serve", "--addr", "127.0.0.1:0"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: List[str] = []
        found = threading.Event()
        self.url = ""

        def read() -> None:
            assert self.process.stderr is not None
            for line in self.process.stderr:
                self.lines.append(line)
                match = re.search(r"listening on (http://\S+)", line)
                if match and not found.is_set():
                    self.url = match.group(1)
                    found.set()

        threading.Thread(target=read, daemon=True).start()
        if not found.wait(60):
            self.process.kill()
            raise RuntimeError("dockhand serve did not start: " + "".join(self.lines))

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(30)
        return "".join(self.lines)


async def session_run(url: str, token: str) -> Tuple[list, dict]:
    client = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with client:
        async with streamable_http_client(url + "/mcp", http_client=client) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = (await session.list_tools()).tools
                results = {
                    "get_repository": await session.call_tool(
                        "get_repository", {"namespace": "alice", "repository": "demo"}
                    ),
                    "list_repository_tags": await session.call_tool(
                        "list_repository_tags", {"namespace": "library", "repository": "alpine"}
                    ),
                    "create_repository": await session.call_tool(
                        "create_repository", {"namespace": "alice", "name": "over-http"}
                    ),
                }
                return tools, results


def test_serve_speaks_mcp_over_streamable_http_to_its_clients(mock):
    served = Served(mock.base_url)
    try:
        tools, results = asyncio.run(session_run(served.url, READER_TOKEN))
        by_name = {t.name: t for t in tools}
        assert "list_repository_tags" in by_name and "plan_tag_cleanup" in by_name
        for name in ("get_repository", "list_repository_tags"):
            result = results[name]
            assert not result.is_error, f"{name}: {result.content}"
            jsonschema.validate(result.structured_content, by_name[name].output_schema)
        assert results["get_repository"].structured_content["name"] == "demo"
        refused = results["create_repository"]
        assert refused.is_error
        assert refused.structured_content["error"]["kind"] == "denied"

        # A token no client has: no session at all.
        with pytest.raises(BaseException):
            asyncio.run(session_run(served.url, "not-a-client-token"))
    finally:
        log = served.stop()
    assert "client=reader surface=mcp operation=get_repository outcome=ok" in log, log
    assert "operation=create_repository outcome=denied" in log, log
    for secret in (READER_TOKEN, ALICE_PAT):
        assert secret not in log
