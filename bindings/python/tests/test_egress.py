"""Where calls may go. wasmtime-py cannot hook outgoing HTTP, so the wrapper refuses a base URL
off the allowed origins before the component runs; the component itself follows page links only
on the same origin."""

import socket

import pytest

from dockhand import Hub, HubError

ALPINE = {"namespace": "library", "repository": "alpine"}


def test_another_authority_is_denied_and_nothing_is_sent(mock, recorder):
    hub = Hub(base_url=mock.base_url, env={})
    with pytest.raises(HubError) as info:
        hub.call("get_repository", **ALPINE, base_url=recorder.base_url)
    assert info.value.kind == "denied"
    assert hub.denied == [{"origin": f"http://127.0.0.1:{recorder.port}", "operation": "get_repository"}]
    with pytest.raises(HubError):
        hub.repositories.list_repository_tags(**ALPINE, base_url=recorder.base_url, all_pages=True)
    assert recorder.connections() == 0
    # The recorder does see a real connection.
    socket.create_connection(("127.0.0.1", recorder.port)).close()
    assert recorder.connections() == 1


def test_only_the_exact_scheme_host_and_port(mock):
    hub = Hub(base_url=mock.base_url, env={})
    for other in (f"http://localhost:{mock.port}", f"https://127.0.0.1:{mock.port}", "https://hub.docker.com"):
        with pytest.raises(HubError) as info:
            hub.call("get_repository", **ALPINE, base_url=other)
        assert info.value.kind == "denied"
    # The same origin spelled differently is fine.
    assert hub.call("get_repository", **ALPINE, base_url=mock.base_url + "/v2")["name"] == "alpine"
    # allowed_origins extends the list.
    wider = Hub(base_url=mock.base_url, env={}, allowed_origins=[f"http://localhost:{mock.port}"])
    assert wider.call("get_repository", **ALPINE, base_url=f"http://localhost:{mock.port}")["name"] == "alpine"
