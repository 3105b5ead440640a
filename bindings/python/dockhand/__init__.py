"""dockhand: the Docker Hub API through the dockhand WebAssembly component, on wasmtime-py.

    from dockhand import Hub, HubError

    hub = Hub(base_url="https://hub.docker.com", username="alice", token="dckr_pat_...")
    tags = hub.call("list_repository_tags", namespace="library", repository="alpine", all_pages=True)
    repo = hub.repositories.get_repository(namespace="library", repository="alpine")
"""

from ._hub import (
    DEFAULT_BASE_URL,
    Hub,
    HubError,
    Response,
    exchange_token,
    find_component,
)

__all__ = ["DEFAULT_BASE_URL", "Hub", "HubError", "Response", "exchange_token", "find_component"]
__version__ = "0.1.0"
