"""`dockhand mcp` as the official MCP Python SDK sees it: every tool that answers JSON declares
an outputSchema, and the structured results of real calls against the mock validate against it.

The SDK itself revalidates a tool's structuredContent against the tool's outputSchema on every
`call_tool` (and raises when it does not fit); the test also checks with `jsonschema` directly,
so a change in the SDK's habits cannot hollow it out.
"""

import asyncio
import tempfile
from typing import Any, Dict, List, Tuple

import jsonschema
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from conftest import ALICE, ALICE_PAT, dockhand_bin

# A page of a list, one object, a HEAD check, the CSV export (text, wrapped), an organization's
# settings and its members.
CALLS: List[Tuple[str, Dict[str, Any]]] = [
    ("list_repository_tags", {"namespace": "library", "repository": "alpine", "page_size": 2}),
    ("get_repository", {"namespace": "library", "repository": "alpine"}),
    ("check_repository", {"namespace": "library", "repository": "alpine"}),
    ("get_org_settings", {"name": "acme"}),
    ("export_org_members", {"org_name": "acme"}),
    ("list_org_members", {"org_name": "acme"}),
    ("search_repositories", {"query": "alpine"}),
    ("get_current_user", {}),
]


def server(base_url: str) -> StdioServerParameters:
    # A home of its own, so no configuration or `docker login` of the machine is read.
    home = tempfile.mkdtemp(prefix="dockhand-mcp-sdk-")
    return StdioServerParameters(
        command=str(dockhand_bin()),
        args=["--base-url", base_url, "--no-cache", "mcp"],
        env={
            "HOME": home,
            "PATH": "/usr/bin:/bin",
            "DOCKHAND_USERNAME": ALICE,
            "DOCKHAND_TOKEN": ALICE_PAT,
        },
    )


async def session_run(base_url: str):
    async with stdio_client(server(base_url)) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = (await session.list_tools()).tools
            results = {name: await session.call_tool(name, args) for name, args in CALLS}
            return tools, results


def test_every_json_tool_declares_an_output_schema_and_results_fit_it(mock):
    tools, results = asyncio.run(session_run(mock.base_url))
    by_name = {t.name: t for t in tools}
    missing = [t.name for t in tools if t.name != "docs" and not t.output_schema]
    assert not missing, f"tools without outputSchema: {missing}"
    for tool in tools:
        if tool.output_schema:
            assert tool.output_schema.get("type") == "object", tool.name
            jsonschema.Draft202012Validator.check_schema(tool.output_schema)

    for name, result in results.items():
        assert not result.is_error, f"{name}: {result.content}"
        assert result.structured_content is not None, name
        jsonschema.validate(result.structured_content, by_name[name].output_schema)


def test_a_result_that_does_not_fit_fails_validation(mock):
    """The schemas say something: a tag list whose count is text does not fit its schema."""
    tools, results = asyncio.run(session_run(mock.base_url))
    schema = {t.name: t for t in tools}["list_repository_tags"].output_schema
    good = results["list_repository_tags"].structured_content
    bad = dict(good, count="five")
    try:
        jsonschema.validate(bad, schema)
    except jsonschema.ValidationError:
        return
    raise AssertionError("a count given as text fitted the tag list's schema")
