"""Typed functions and the dynamic call, against the mock Hub."""

import json

import pytest

from dockhand import Hub, HubError, Response
from conftest import ALICE, ALICE_PAT, ALPINE_TAGS


@pytest.fixture
def anon(mock):
    return Hub(base_url=mock.base_url, env={})


@pytest.fixture
def alice(mock):
    return Hub(base_url=mock.base_url, username=ALICE, token=ALICE_PAT)


def test_call_returns_dicts(anon):
    repo = anon.call("get_repository", namespace="library", repository="alpine")
    assert isinstance(repo, dict)
    assert repo["name"] == "alpine"
    assert repo["namespace"] == "library"


def test_call_one_page_of_tags(anon):
    page = anon.call("list_repository_tags", namespace="library", repository="alpine", page_size=2, all_pages=False)
    assert page["count"] == len(ALPINE_TAGS)
    assert [t["name"] for t in page["results"]] == ALPINE_TAGS[:2]
    assert "page=2" in page["next"]


def test_call_all_pages(anon):
    raw = anon.call_raw("list_repository_tags", namespace="library", repository="alpine", page_size=2, all_pages=True)
    assert isinstance(raw, Response)
    assert raw.status == 200
    assert raw.pages == 3
    assert raw.content_type == "application/json"
    assert isinstance(raw.rate_limit["remaining"], int)
    merged = raw.json()
    assert [t["name"] for t in merged["results"]] == ALPINE_TAGS
    assert merged["next"] is None


def test_max_pages_caps_all_pages(anon):
    raw = anon.call_raw(
        "docker_list_tags", namespace="library", repository="alpine", page_size=2, all_pages=True, max_pages=2
    )
    assert raw.pages == 2
    assert len(raw.json()["results"]) == 4


def test_any_name_and_args_mapping(anon):
    by_alias = anon.call("docker_get_tag", {"namespace": "library", "repository": "alpine", "tag": "edge"})
    by_op_id = anon.call("GetRepositoryTag", namespace="library", repository="alpine", tag="edge")
    assert by_alias == by_op_id
    assert by_alias["name"] == "edge"


def test_typed_functions(anon):
    repo = anon.repositories.get_repository(namespace="library", repository="alpine")
    assert repo["name"] == "alpine"
    tags = anon.repositories.list_repository_tags(namespace="library", repository="alpine", page_size=2, all_pages=True)
    assert [t["name"] for t in tags["results"]] == ALPINE_TAGS
    raw = anon.repositories.check_repository_tag(namespace="library", repository="alpine", tag="latest", raw=True)
    assert raw.json() == {"exists": True}
    assert anon.repositories.check_repository_tag(namespace="library", repository="alpine", tag="nope") == {
        "exists": False
    }
    assert "get_repository" in dir(anon.repositories)


def test_an_operation_without_arguments_takes_only_options(mock):
    scim = Hub(base_url=mock.base_url, scim_token="dsa_scim_mock_acme_0000000000000007", env={})
    assert scim.scim.scim_list_schemas(max_retries=0)["totalResults"] > 0
    assert scim.scim.scim_get_service_provider_config(raw=True).status == 200
    with pytest.raises(TypeError, match="bogus"):
        scim.scim.scim_list_schemas(bogus=1)


def test_typed_functions_check_their_arguments(anon):
    with pytest.raises(TypeError, match="repository"):
        anon.repositories.get_repository(namespace="library")
    with pytest.raises(TypeError, match="bogus"):
        anon.repositories.get_repository(namespace="library", repository="alpine", bogus=1)
    with pytest.raises(AttributeError):
        anon.no_such_area


def test_not_found_is_a_typed_hub_error(anon):
    with pytest.raises(HubError) as info:
        anon.call("get_repository", namespace="library", repository="no-such-repo")
    assert info.value.kind == "not-found"
    assert "no-such-repo" in info.value.payload
    # The same through a typed function, and the Hub goes on working afterwards.
    with pytest.raises(HubError) as typed:
        anon.repositories.get_repository(namespace="library", repository="no-such-repo")
    assert typed.value.kind == "not-found"
    assert anon.call("get_repository", namespace="library", repository="alpine")["name"] == "alpine"


def test_invalid_argument_and_unknown_operation(anon):
    with pytest.raises(HubError) as info:
        anon.call("get_repository", namespace="library")
    assert info.value.kind == "invalid-argument"
    assert info.value.payload["name"] == "repository"
    assert isinstance(info.value.payload["reason"], str)

    with pytest.raises(HubError) as info:
        anon.call("get_repository", namespace="..", repository="alpine")
    assert info.value.kind == "invalid-argument"
    assert info.value.payload["name"] == "namespace"

    with pytest.raises(HubError) as info:
        anon.call("no_such_operation")
    assert info.value.kind == "unknown-operation"


def test_operations_and_docs(anon):
    ops = anon.operations()
    # Docker's 54 published operations and the 6 extended ones its own tools use.
    assert len(ops) == 60
    assert any(op["name"] == "get_current_user" and op["area"] == "users" for op in ops)
    tags = next(op for op in ops if op["name"] == "list_repository_tags")
    assert "docker_list_tags" in tags["aliases"]
    assert tags["access"] == "read"
    assert tags["args_schema"]["type"] == "object"
    item = tags["result_schema"]["properties"]["results"]["items"]
    assert "name" in item["properties"]
    assert anon.docs("docker_list_tags").startswith("# list_repository_tags")
    assert "Each result (an item of `results`) has:" in anon.docs("docker_list_tags")
    with pytest.raises(HubError):
        anon.docs("no_such_topic")


def test_private_repository_needs_credentials(anon, alice):
    assert alice.call("get_repository", namespace="acme", repository="private")["is_private"] is True
    with pytest.raises(HubError) as info:
        anon.call("get_repository", namespace="acme", repository="private")
    assert info.value.kind == "unauthorized"


def test_write_then_read(alice, anon):
    created = alice.repositories.create_repository(namespace=ALICE, name="from-python", description="pytest", is_private=False)
    assert created["name"] == "from-python"
    listed = anon.call("list_repositories", namespace=ALICE, page_size=100)
    assert "from-python" in [r["name"] for r in listed["results"]]


def test_extended_operations(alice, anon):
    alice.repositories.create_repository(namespace=ALICE, name="py-sync", is_private=False)
    overview = "# py-sync\n\nFrom the README."
    updated = alice.repositories.update_repository(namespace=ALICE, repository="py-sync", full_description=overview)
    assert updated["full_description"] == overview
    assert anon.call("get_repository", namespace=ALICE, repository="py-sync")["full_description"] == overview
    found = anon.search.search_repositories(query="py-sync")
    assert [r["name"] for r in found["results"]] == [f"{ALICE}/py-sync"]
    assert alice.users.get_current_user()["username"] == ALICE
    orgs = alice.call("list_current_user_orgs")
    assert [o["orgname"] for o in orgs["results"]] == ["acme"]
    alice.repositories.delete_repository(namespace=ALICE, repository="py-sync")
    with pytest.raises(HubError) as info:
        anon.call("get_repository", namespace=ALICE, repository="py-sync")
    assert info.value.kind == "not-found"


def test_json_text_fields_take_python_objects(mock):
    # The WIT carries some nested bodies as JSON text; the typed wrapper accepts a dict there.
    owner = Hub(base_url=mock.base_url, username=ALICE, token="mock-password-alice")
    policy = {"enabled": True, "allow_official_images": True, "allow_verified_publishers": False}
    stored = owner.org_settings.update_org_settings(name="acme", restricted_images=policy)
    assert stored["restricted_images"] == policy
    assert owner.org_settings.get_org_settings(name="acme")["restricted_images"] == policy
    # The same as JSON text.
    again = owner.org_settings.update_org_settings(name="acme", restricted_images=json.dumps(policy))
    assert again["restricted_images"] == policy


def test_plan_tag_cleanup_plans_and_changes_nothing(anon):
    plan = anon.plan_tag_cleanup("library", "alpine", keep_last=2)
    assert plan["totals"] == {"tags": len(ALPINE_TAGS), "delete": 2, "keep": 3}
    rules = {t["name"]: (t["action"], t["rule"]) for t in plan["tags"]}
    assert rules["latest"] == ("keep", "latest")
    assert sorted(rules) == sorted(ALPINE_TAGS)
    assert all(t["digest"] and t["last_pushed"] for t in plan["tags"])
    # The tags are all still there.
    assert anon.call("list_repository_tags", namespace="library", repository="alpine")["count"] == len(ALPINE_TAGS)
    with pytest.raises(HubError) as e:
        anon.plan_tag_cleanup("library", "alpine")
    assert e.value.kind == "invalid-argument"


def test_apply_tag_cleanup_deletes_once_and_only_within_max_delete(alice):
    plan = alice.plan_tag_cleanup("acme", "private", match=r"^v0\.")
    assert plan["totals"] == {"tags": 2, "delete": 1, "keep": 1}
    with pytest.raises(HubError) as e:
        alice.apply_tag_cleanup(plan, max_delete=0)
    assert e.value.kind == "invalid-argument"
    report = alice.apply_tag_cleanup(plan)
    assert report["deleted"] == ["v0.9.0"] and report["planned"] == 1
    again = alice.apply_tag_cleanup(plan)
    assert again["deleted"] == [] and again["already_gone"] == ["v0.9.0"]
    left = alice.call("list_repository_tags", namespace="acme", repository="private")
    assert [t["name"] for t in left["results"]] == ["v1.0.0"]
