"""The `dockhand:hub/credentials` import defined from Python."""

import pytest

from dockhand import Hub, HubError, exchange_token
from conftest import ALICE, ALICE_PAT

PRIVATE = {"namespace": "acme", "repository": "private"}


def test_exchange_token_gives_a_bearer_that_is_not_the_pat(mock):
    bearer = exchange_token(mock.base_url, ALICE, ALICE_PAT)
    assert bearer != ALICE_PAT
    assert bearer.count(".") == 2  # a JWT


def test_wrong_token_fails_when_the_hub_is_made(mock):
    with pytest.raises(HubError) as info:
        Hub(base_url=mock.base_url, username=ALICE, token="dckr_pat_wrong")
    assert info.value.kind == "unauthorized"
    assert "dckr_pat_wrong" not in str(info.value)


def test_base_url_with_v2(mock):
    hub = Hub(base_url=mock.base_url + "/v2/", username=ALICE, token=ALICE_PAT)
    assert hub.call("get_repository", **PRIVATE)["is_private"] is True


def test_from_the_environment(mock):
    hub = Hub(base_url=mock.base_url, env={"DOCKHAND_USERNAME": ALICE, "DOCKHAND_TOKEN": ALICE_PAT})
    assert hub.call("get_repository", **PRIVATE)["name"] == "private"
    bearer = exchange_token(mock.base_url, ALICE, ALICE_PAT)
    hub = Hub(base_url=mock.base_url, env={"DOCKHAND_BEARER": bearer})
    assert hub.call("get_repository", **PRIVATE)["name"] == "private"


def test_callback_answers_get_per_account(mock):
    bearer = exchange_token(mock.base_url, ALICE, ALICE_PAT)
    asked = []

    def credentials(account, kind):
        asked.append((account, kind))
        return bearer if account == "work" else None

    hub = Hub(base_url=mock.base_url, credentials=credentials)
    assert hub.call("get_repository", **PRIVATE, as_account="work")["name"] == "private"
    assert asked == [("work", "hub")]
    with pytest.raises(HubError) as info:
        hub.call("get_repository", **PRIVATE)
    assert info.value.kind == "unauthorized"
    assert asked[-1] == ("default", "hub")


def test_named_accounts(mock):
    hub = Hub(base_url=mock.base_url, accounts={"work": {"username": ALICE, "token": ALICE_PAT}})
    assert hub.call("get_repository", **PRIVATE, as_account="work")["name"] == "private"
    # `default` is anonymous here.
    with pytest.raises(HubError):
        hub.call("get_repository", **PRIVATE)
    # An account nobody configured.
    with pytest.raises(HubError) as info:
        hub.call("get_repository", **PRIVATE, as_account="nobody")
    assert info.value.kind == "unauthorized"


def test_a_rejected_bearer_is_re_minted_from_the_pat_once(mock):
    hub = Hub(base_url=mock.base_url, username=ALICE, token=ALICE_PAT)
    account = hub._accounts["default"]
    account._bearer = "expired-or-revoked"  # as if the Hub had stopped accepting it
    # 401 -> invalidate -> get mints a new bearer through the token exchange -> retry succeeds.
    assert hub.call("get_repository", **PRIVATE)["name"] == "private"
    assert account._bearer != "expired-or-revoked"


def test_a_rejected_static_bearer_is_unauthorized(mock):
    hub = Hub(base_url=mock.base_url, bearer="not-a-valid-jwt")
    with pytest.raises(HubError) as info:
        hub.call("get_repository", **PRIVATE)
    assert info.value.kind == "unauthorized"


def test_an_exception_in_the_callback_comes_out_of_call_and_the_hub_recovers(mock):
    state = {"sealed": True}

    def credentials(account, kind):
        if state["sealed"]:
            raise RuntimeError("vault is sealed")
        return None

    hub = Hub(base_url=mock.base_url, credentials=credentials)
    with pytest.raises(RuntimeError, match="vault is sealed"):
        hub.call("get_repository", namespace="library", repository="alpine")
    # The instance that saw the exception is gone; the next call gets a fresh one.
    state["sealed"] = False
    assert hub.call("get_repository", namespace="library", repository="alpine")["name"] == "alpine"
