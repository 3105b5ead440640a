"""The generated result types (dockhand/results.py) against real answers from the mock Hub.

Each answer must fit its operation's `TypedDict`s all the way down: every key one the type
declares, every required key there, every value of its declared type. So the types cannot drift
from what the binding returns without a test saying so.
"""

import typing
from typing import Any, Dict, List, Literal, Union, get_args, get_origin

import pytest

from dockhand import Hub, results
from conftest import ALICE, ALICE_PASSWORD, ALICE_PAT

# Fixtures of the mock's built-in seed (mock/src/fixtures.rs).
SCIM_TOKEN = "dsa_scim_mock_acme_0000000000000007"
ORG_OAT_ID = "0a700000-0000-4000-8000-000000000006"
ALICE_PAT_UUID = "a11ce000-0000-4000-8000-000000000001"
ALPINE = {"namespace": "library", "repository": "alpine"}
ACME = {"org_name": "acme"}

# (who asks, operation, arguments[, call options]): reads across every area, a HEAD check, the
# CSV export, the pages of a list merged.
CASES = [
    ("anon", "get_repository", ALPINE),
    ("anon", "check_repository", ALPINE),
    ("anon", "list_repositories", {"namespace": "library"}),
    ("anon", "list_repository_tags", {**ALPINE, "page_size": 2}),
    ("anon", "list_repository_tags", {**ALPINE, "page_size": 2}, {"all_pages": True}),
    ("anon", "get_repository_tag", {**ALPINE, "tag": "edge"}),
    ("anon", "check_repository_tag", {**ALPINE, "tag": "latest"}),
    ("anon", "check_repository_tag", {**ALPINE, "tag": "no-such-tag"}),
    ("alice", "get_repository", {"namespace": "acme", "repository": "private"}),
    ("alice", "list_personal_access_tokens", {}),
    ("alice", "get_personal_access_token", {"uuid": ALICE_PAT_UUID}),
    ("alice", "list_audit_log_actions", {"account": "acme"}),
    ("alice", "list_audit_log_events", {"account": "acme"}),
    ("alice", "list_org_groups", ACME),
    ("alice", "get_org_group", {**ACME, "group_name": "developers"}),
    ("alice", "list_group_members", {**ACME, "group_name": "developers"}),
    ("alice", "list_org_invites", ACME),
    ("alice_password", "list_org_access_tokens", {"name": "acme"}),
    ("alice_password", "get_org_access_token", {**ACME, "access_token_id": ORG_OAT_ID}),
    ("alice", "get_org_settings", {"name": "acme"}),
    ("alice", "list_org_members", ACME),
    ("alice", "export_org_members", ACME),
    ("scim", "scim_get_service_provider_config", {}),
    ("scim", "scim_list_resource_types", {}),
    ("scim", "scim_list_schemas", {}),
    ("scim", "scim_list_users", {}),
    ("anon", "search_repositories", {"query": "alpine"}),
    ("alice", "get_current_user", {}),
    ("alice", "list_current_user_orgs", {}),
]




@pytest.fixture(scope="module")
def hubs(mock):
    return {
        "anon": Hub(base_url=mock.base_url, env={}),
        "alice": Hub(base_url=mock.base_url, username=ALICE, token=ALICE_PAT),
        # Organization access tokens are managed with a password's bearer, not a PAT's.
        "alice_password": Hub(base_url=mock.base_url, username=ALICE, token=ALICE_PASSWORD),
        "scim": Hub(base_url=mock.base_url, scim_token=SCIM_TOKEN, env={}),
    }


def is_typeddict(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, dict) and hasattr(hint, "__required_keys__")


def misfits(value: Any, hint: Any, at: str = "") -> List[str]:
    """Where `value` does not fit the type `hint`, as `path: problem` lines."""
    where = at or "/"
    if hint is Any:
        return []
    if hint is None or hint is type(None):
        return [] if value is None else [f"{where}: expected None, got {value!r}"]
    origin, args = get_origin(hint), get_args(hint)
    if origin is Union:
        tries = [misfits(value, arg, at) for arg in args]
        return [] if any(not t for t in tries) else min(tries, key=len)
    if origin is Literal:
        return [] if value in args else [f"{where}: {value!r} is not one of {list(args)}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {value!r}"]
        return [p for i, item in enumerate(value) for p in misfits(item, args[0], f"{at}/{i}")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{where}: expected a dict, got {value!r}"]
        return [p for k, v in value.items() for p in misfits(v, args[1], f"{at}/{k}")]
    if is_typeddict(hint):
        if not isinstance(value, dict):
            return [f"{where}: expected {hint.__name__}, got {value!r}"]
        fields = typing.get_type_hints(hint)
        known = fields.keys()
        problems = [f"{where}: `{k}` is not a key of {hint.__name__}" for k in value if k not in known]
        problems += [f"{where}: {hint.__name__} needs `{k}`" for k in sorted(hint.__required_keys__) if k not in value]
        for key, item in value.items():
            if key in fields:
                problems += misfits(item, fields[key], f"{at}/{key}")
        return problems
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif hint is str:
        ok = isinstance(value, str)
    else:
        return [f"{where}: the test cannot check the type {hint!r}"]
    return [] if ok else [f"{where}: expected {hint.__name__}, got {value!r}"]


def test_the_checker_notices_misfits():
    tag = results.ListRepositoryTagsResultResultsItem
    assert misfits({"name": "latest", "status": "active", "v2": True}, tag) == []
    assert misfits({"nmae": "latest", "status": "gone", "v2": "yes"}, tag) == [
        "/: `nmae` is not a key of ListRepositoryTagsResultResultsItem",
        "/status: 'gone' is not one of ['active', 'inactive']",
        "/v2: expected bool, got 'yes'",
    ]
    assert misfits({}, results.GetRepositoryResult)[0] == "/: GetRepositoryResult needs `categories`"
    assert misfits({"actions": {"pull": {"label": 1}}}, results.ListAuditLogActionsResult) == [
        "/actions/pull/label: expected str, got 1"
    ]
    assert misfits(None, results.DeletePersonalAccessTokenResult) == []
    assert misfits({}, results.DeletePersonalAccessTokenResult) == ["/: {} is not one of [None]"]
    assert misfits({"next": None}, results.ListRepositoryTagsResult) == []
    assert misfits({"next": 3}, results.ListRepositoryTagsResult) == ["/next: expected str, got 3"]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_answers_fit_their_result_types(hubs, case):
    who, operation, args, *options = case
    answer = hubs[who].call(operation, args, **(options[0] if options else {}))
    assert misfits(answer, results.RESULT_TYPES[operation]) == [], answer


def test_typed_functions_answer_their_result_types(hubs):
    repo = hubs["anon"].repositories.get_repository(**ALPINE)
    assert misfits(repo, results.GetRepositoryResult) == []
    assert results.RESULT_TYPES["get_repository"] is results.GetRepositoryResult
    exists = hubs["anon"].repositories.check_repository_tag(**ALPINE, tag="latest")
    assert misfits(exists, results.CheckRepositoryTagResult) == []
    assert results.CheckRepositoryTagResult.__required_keys__ == frozenset({"exists"})


def test_every_operation_and_function_has_its_result_type(hubs):
    hub = hubs["anon"]
    operations = hub.operations()
    assert sorted(results.RESULT_TYPES) == sorted(op["name"] for op in operations)
    areas = typing.get_type_hints(results.HubTypes)
    assert areas.pop("call") is results.Call
    for area, protocol in areas.items():
        typed = {name for name in vars(protocol) if not name.startswith("_")}
        assert typed == set(dir(getattr(hub, area))), area
    if hasattr(typing, "get_overloads"):  # Python 3.11+
        named = set()
        for overload in typing.get_overloads(results.Call.__call__):
            operation = overload.__annotations__["operation"]
            if get_origin(operation) is Literal:
                named.update(get_args(operation))
        assert named == {n for op in operations for n in [op["name"], *op["aliases"]]}


def test_the_result_types_change_nothing_at_run_time():
    assert Hub.__mro__ == (Hub, object)
    assert "call" in vars(Hub)
