"""The dockhand component on wasmtime-py.

One compiled component per process; a fresh Store and instance for every call (after a Python
exception inside a host function an instance is unusable, and a fresh one costs well under a
millisecond). The `dockhand:hub/credentials` import is defined here in Python.

wasmtime-py has no hook on outgoing HTTP, so this host cannot swap a placeholder for the real
bearer on the way out the way the Rust host does: it exchanges the personal access token for a
short-lived bearer itself (urllib, `POST /v2/auth/token`) and hands the component that bearer. The
token itself never reaches the component.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from wasmtime import Engine, Store, WasiConfig
from wasmtime.component import Component, FuncType, Linker, OptionType, Record, String, Variant

if TYPE_CHECKING:
    # For type checkers only: `Hub.call` and the typed functions with the catalog's result types
    # (dockhand/results.py, generated). At run time Hub derives from `object` alone.
    from .results import HubTypes as _HubTypes
else:
    _HubTypes = object

DEFAULT_BASE_URL = "https://hub.docker.com"
WIT_PACKAGE = "dockhand:hub"
WIT_VERSION = "0.4.0"

# Keyword arguments of `Hub.call` and the typed functions that are call options, not operation
# arguments. (`account` is an operation argument of the audit-log operations, hence `as_account`.)
_OPTION_NAMES = (
    "all_pages",
    "max_pages",
    "page_concurrency",
    "as_account",
    "base_url",
    "max_retries",
    "max_retry_wait_seconds",
)

CredentialCallback = Callable[[str, str], Optional[str]]


class HubError(Exception):
    """A typed `hub-error` from the component (or from this host's own checks).

    `kind` is the case (`not-found`, `denied`, `invalid-argument`, `unauthorized`, ...), and
    `payload` its value: a string, or a dict such as `{"name": ..., "reason": ...}`.
    """

    def __init__(self, kind: str, payload: Any = None):
        self.kind = kind
        self.payload = payload
        if payload is None:
            text = kind
        elif isinstance(payload, str):
            text = f"{kind}: {payload}"
        else:
            text = f"{kind}: {json.dumps(payload, sort_keys=True)}"
        super().__init__(text)


@dataclass
class Response:
    """A successful call. `body` is JSON text; `json()` parses it."""

    status: int
    content_type: Optional[str]
    body: str
    rate_limit: Optional[Dict[str, Optional[int]]]
    pages: int

    def json(self) -> Any:
        return None if self.body == "" else json.loads(self.body)


# ---------------------------------------------------------------------------------------------
# Loading the component

_engine: Optional[Engine] = None
_components: Dict[Tuple[str, int, int], Component] = {}
_load_lock = threading.Lock()


def _repo_dir() -> Optional[Path]:
    """The repository around bindings/python/dockhand, when the module runs from there."""
    here = Path(__file__).resolve()
    if len(here.parents) > 3 and here.parents[1].name == "python" and here.parents[2].name == "bindings":
        return here.parents[3]
    return None


def find_component() -> Path:
    """The component: $DOCKHAND_WASM, else the cargo build output under $CARGO_TARGET_DIR or the
    repository's target/."""
    candidates: List[Path] = []
    if os.environ.get("DOCKHAND_WASM"):
        candidates.append(Path(os.environ["DOCKHAND_WASM"]))
    rel = Path("wasm32-wasip2", "release", "dockhand_plugin.wasm")
    if os.environ.get("CARGO_TARGET_DIR"):
        candidates.append(Path(os.environ["CARGO_TARGET_DIR"]) / rel)
    repo = _repo_dir()
    if repo is not None:
        candidates.append(repo / "target" / rel)
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(
        "the dockhand component was not found (looked at "
        + ", ".join(str(p) for p in candidates)
        + "); build it with `cargo build -p dockhand-plugin --target wasm32-wasip2 --release` "
        "or set DOCKHAND_WASM"
    )


def _load(path: Path) -> Tuple[Engine, Component]:
    global _engine
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    with _load_lock:
        if _engine is None:
            _engine = Engine()
        component = _components.get(key)
        if component is None:
            component = Component.from_file(_engine, str(path))
            _components[key] = component
        return _engine, component


# ---------------------------------------------------------------------------------------------
# Values between Python and the component

def _kebab(name: str) -> str:
    return name.replace("_", "-")


def _snake(name: str) -> str:
    return name.replace("-", "_")


def _record(**fields: Any) -> Record:
    """A component record; field names are the WIT (kebab-case) names."""
    record = Record()
    for name, value in fields.items():
        setattr(record, _kebab(name), value)
    return record


def _plain(value: Any) -> Any:
    """Records to dicts with snake_case keys, recursively; everything else as it is."""
    if isinstance(value, Record):
        return {_snake(k): _plain(v) for k, v in vars(value).items()}
    if isinstance(value, Variant):
        return {"tag": value.tag, "payload": _plain(value.payload)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _error(variant: Variant) -> HubError:
    return HubError(variant.tag, _plain(variant.payload))


def _response(record: Record) -> Response:
    fields = _plain(record)
    return Response(
        status=fields["status"],
        content_type=fields["content_type"],
        body=fields["body"],
        rate_limit=fields["rate_limit"],
        pages=fields["pages"],
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _origin(url: str) -> str:
    """`scheme://host:port` with the default port made explicit and the host in lowercase."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if scheme == "https" else 80)
    return f"{scheme}://{parts.hostname.lower()}:{port}"


def _hub_root(base_url: str) -> str:
    root = base_url.rstrip("/")
    if root.endswith("/v2"):
        root = root[: -len("/v2")]
    return root


# ---------------------------------------------------------------------------------------------
# Token exchange

def exchange_token(base_url: str, username: str, token: str, timeout: float = 30.0) -> str:
    """Exchanges a username (or organization) and a personal access token, organization access
    token or password for a short-lived bearer with `POST /v2/auth/token`."""
    url = _hub_root(base_url) + "/v2/auth/token"
    data = json.dumps({"identifier": username, "secret": token}).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            body = json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as e:
        try:
            detail = json.loads(e.read() or b"null") or {}
        except ValueError:
            detail = {}
        message = (detail.get("message") or detail.get("detail")) if isinstance(detail, dict) else None
        message = message or f"HTTP {e.code}"
        if e.code == 401:
            raise HubError("unauthorized", f"token exchange: {message}") from None
        if e.code == 403:
            raise HubError("forbidden", f"token exchange: {message}") from None
        raise HubError("upstream", {"status": e.code, "message": message}) from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise HubError("transport", {"kind": "other", "message": f"token exchange failed: {reason}"}) from None
    except ValueError:
        raise HubError("decode", "token exchange: the answer is not JSON") from None
    bearer = body.get("access_token") or body.get("token") if isinstance(body, dict) else None
    if not isinstance(bearer, str) or not bearer:
        raise HubError("decode", "token exchange: no access_token in the answer")
    return bearer


def _jwt_expiry(bearer: str) -> Optional[float]:
    """The `exp` claim of a JWT, if it is one."""
    try:
        payload = bearer.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        exp = json.loads(base64.urlsafe_b64decode(payload)).get("exp")
        return float(exp) if exp is not None else None
    except (IndexError, ValueError, AttributeError):
        return None


# ---------------------------------------------------------------------------------------------
# The Hub

class _Account:
    """One account's credentials: a secret to mint bearers from, or a ready bearer."""

    def __init__(
        self,
        hub: "Hub",
        username: Optional[str] = None,
        token: Optional[str] = None,
        bearer: Optional[str] = None,
        scim_token: Optional[str] = None,
    ):
        self._hub = hub
        self._username = username
        self._token = token
        self._bearer = bearer
        self._scim_token = scim_token
        self._stale = set()  # kinds the Hub answered 401 for

    @property
    def can_mint(self) -> bool:
        return bool(self._username and self._token)

    def mint(self) -> None:
        self._bearer = exchange_token(self._hub.base_url, self._username, self._token)
        self._stale.discard("hub")

    def get(self, kind: str) -> Optional[str]:
        if kind == "scim":
            if "scim" in self._stale:
                raise HubError("unauthorized", "the Hub rejected the SCIM token (401)")
            return self._scim_token
        if self.can_mint:
            expiry = _jwt_expiry(self._bearer) if self._bearer else None
            # Mint on first use, after a 401, and shortly before the bearer expires.
            if self._bearer is None or "hub" in self._stale or (expiry and expiry - time.time() < 60):
                self.mint()
        elif "hub" in self._stale:
            raise HubError("unauthorized", "the Hub rejected the bearer (401); supply a new one")
        return self._bearer

    def invalidate(self, kind: str) -> None:
        self._stale.add(kind)


class _Area:
    """The typed functions of one API area: `hub.repositories.get_repository(namespace=..., ...)`."""

    def __init__(self, hub: "Hub", area: str):
        self._hub = hub
        self._area = area

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)

        def typed(*, raw: bool = False, **kwargs: Any) -> Any:
            response = self._hub._typed(self._area, _kebab(name), kwargs)
            return response if raw else response.json()

        typed.__name__ = name
        typed.__qualname__ = f"{_snake(self._area)}.{name}"
        return typed

    def __dir__(self) -> Iterable[str]:
        return [_snake(n) for n in self._hub._function_names(self._area)]


class Hub(_HubTypes):
    """The Docker Hub through the dockhand component.

    >>> hub = Hub(base_url="https://hub.docker.com", username="alice", token="dckr_pat_...")
    >>> hub.call("list_repository_tags", namespace="library", repository="alpine", page_size=5)

    Credentials, in order: `credentials` (a callable `(account, kind) -> bearer or None`);
    `username` + `token` (exchanged for a short-lived bearer, minted again before it expires and
    once after a 401); `bearer`; and when none of those is given, DOCKHAND_USERNAME +
    DOCKHAND_TOKEN or DOCKHAND_BEARER from `env` (default `os.environ`). `scim_token` (or
    DOCKHAND_SCIM_TOKEN) answers the SCIM operations. No credential: anonymous.

    Requests may go only to the base URL's origin (and `allowed_origins`); a call whose
    `base_url` points elsewhere is refused with `HubError("denied")` before the component runs.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        username: Optional[str] = None,
        token: Optional[str] = None,
        *,
        bearer: Optional[str] = None,
        scim_token: Optional[str] = None,
        credentials: Optional[CredentialCallback] = None,
        accounts: Optional[Mapping[str, Mapping[str, str]]] = None,
        allowed_origins: Iterable[str] = (),
        component: Union[str, os.PathLike, None] = None,
        env: Optional[Mapping[str, str]] = None,
    ):
        self.base_url = _hub_root(base_url)
        self._allowed = {_origin(self.base_url), *(_origin(o) for o in allowed_origins)}
        #: Calls refused by the origin check: dicts with `origin` and `operation`.
        self.denied: List[Dict[str, str]] = []
        self._engine, self._component = _load(Path(component) if component else find_component())
        self._linker: Optional[Linker] = None
        self._callback = credentials

        if (username is None) != (token is None):
            raise TypeError("username and token go together")
        env = os.environ if env is None else env
        explicit = any(v is not None for v in (username, bearer, credentials, accounts))
        if not explicit:
            username = env.get("DOCKHAND_USERNAME") or None
            token = env.get("DOCKHAND_TOKEN") or None
            if not (username and token):
                username = token = None
            bearer = env.get("DOCKHAND_BEARER") or None
        if scim_token is None and not explicit:
            scim_token = env.get("DOCKHAND_SCIM_TOKEN") or None

        self._accounts: Dict[str, _Account] = {}
        for name, spec in (accounts or {}).items():
            self._accounts[name] = _Account(
                self,
                username=spec.get("username"),
                token=spec.get("token"),
                bearer=spec.get("bearer"),
                scim_token=spec.get("scim_token"),
            )
        if "default" not in self._accounts:
            self._accounts["default"] = _Account(
                self, username=username, token=token, bearer=bearer, scim_token=scim_token
            )
        # Exchange up front, so a wrong token fails here rather than inside a call.
        for account in self._accounts.values():
            if account.can_mint:
                account.mint()

    # -- public API ------------------------------------------------------------------------------

    if not TYPE_CHECKING:  # type checkers see `results.Call`: the result typed by operation name

        def call(self, operation: str, args: Optional[Mapping[str, Any]] = None, /, **kwargs: Any) -> Any:
            """Runs any operation by any of its names and returns the parsed JSON result (a dict,
            a list, or None for an empty answer; `dockhand.results` has its type).

            Operation arguments come as keyword arguments and/or the `args` mapping (for names that
            are not Python identifiers or that clash with the options). Options: `all_pages`,
            `max_pages`, `page_concurrency` (further pages in flight at once, default 4),
            `as_account` (which account's credentials), `base_url` (must stay on an
            allowed origin), `max_retries` and `max_retry_wait_seconds` (the component's retries
            after a 429 or, for idempotent operations, a 5xx gateway error or a transport failure)."""
            return self.call_raw(operation, args, **kwargs).json()

    def call_raw(self, operation: str, args: Optional[Mapping[str, Any]] = None, /, **kwargs: Any) -> Response:
        """Like `call`, but returns the whole `Response` (status, content type, body text,
        rate limit, pages)."""
        options, rest = self._split(kwargs, operation)
        merged = {**(args or {}), **rest}
        args_json = json.dumps(merged, default=_json_default)
        return self._invoke("catalog", "call", lambda fty: (operation, args_json, options))

    def plan_tag_cleanup(
        self,
        namespace: str,
        repository: str,
        *,
        keep_last: Optional[int] = None,
        older_than: Optional[int] = None,
        match: Optional[str] = None,
        keep_match: Optional[str] = None,
        **kwargs: Any,
    ) -> Dict[str, Any]:
        """Plans a tag cleanup, changing nothing: every tag of the repository is listed and
        marked delete or keep with its rule and reason (the component's `plan-tag-cleanup`).
        `older_than` is a cutoff in unix seconds; `match` and `keep_match` are regular
        expressions that match anywhere in the name (`^pr-`). Takes the same options as `call`.
        Returns the plan:
        `namespace`, `repository`, `policy`, `tags` and `totals`."""
        options, rest = self._split(dict(kwargs), "plan_tag_cleanup")
        if rest:
            raise TypeError(f"plan_tag_cleanup got unknown arguments: {', '.join(sorted(rest))}")
        policy = _record(
            keep_last=keep_last, older_than=older_than, matching=match, keep_matching=keep_match
        )
        return self._invoke(
            "catalog", "plan-tag-cleanup", lambda fty: (namespace, repository, policy, options)
        ).json()

    def apply_tag_cleanup(
        self, plan: Mapping[str, Any], *, max_delete: int = 100, **kwargs: Any
    ) -> Dict[str, Any]:
        """Applies a plan from `plan_tag_cleanup` (the component's `apply-tag-cleanup`): deletes
        each tag it marks delete, skipping one pushed again since the plan; one already gone
        counts as done, so applying it again resumes it. A plan deleting more than `max_delete`
        tags is refused before anything is deleted. Takes the same options as `call`. Returns
        the report: `planned`, `deleted`, `already_gone`, `skipped`, `failed`, `not_attempted`."""
        options, rest = self._split(dict(kwargs), "apply_tag_cleanup")
        if rest:
            raise TypeError(f"apply_tag_cleanup got unknown arguments: {', '.join(sorted(rest))}")
        plan_json = plan if isinstance(plan, str) else json.dumps(plan, default=_json_default)
        return self._invoke(
            "catalog", "apply-tag-cleanup", lambda fty: (plan_json, max_delete, options)
        ).json()

    def operations(self) -> List[Dict[str, Any]]:
        """Every operation: name, aliases, area, method, path, access, flags, summary, and the
        JSON Schemas of its arguments and of its result (parsed)."""
        ops = self._invoke("catalog", "operations", lambda fty: ())
        for op in ops:
            op["args_schema"] = json.loads(op["args_schema"])
            op["result_schema"] = json.loads(op["result_schema"])
        return ops

    def docs(self, topic: Optional[str] = None) -> str:
        """Markdown reference: the whole API, or one operation or area."""
        return self._invoke("catalog", "docs", lambda fty: (topic,))

    def refresh(self) -> None:
        """Mints fresh bearers now for the accounts made from a username and token."""
        for account in self._accounts.values():
            if account.can_mint:
                account.mint()

    def __getattr__(self, name: str) -> _Area:
        # The typed areas: hub.repositories, hub.access_tokens, hub.org_settings, ...
        if name.startswith("_") or name in ("catalog", "types"):
            raise AttributeError(name)
        if _kebab(name) not in self._area_names():
            raise AttributeError(f"no API area named {name!r}")
        return _Area(self, _kebab(name))

    # -- internals ---------------------------------------------------------------------------

    def _split(self, kwargs: Dict[str, Any], operation: str) -> Tuple[Record, Dict[str, Any]]:
        """Separates the call options from the operation's arguments, and refuses a base URL off
        the allowed origins before anything runs."""
        options = {k: kwargs.pop(k) for k in _OPTION_NAMES if k in kwargs}
        base_url = _hub_root(options.get("base_url") or self.base_url)
        self._check_origin(base_url, operation)
        record = _record(
            account=options.get("as_account"),
            base_url=base_url,
            all_pages=bool(options.get("all_pages", False)),
            max_pages=options.get("max_pages"),
            page_concurrency=options.get("page_concurrency"),
            max_retries=options.get("max_retries"),
            max_retry_wait_seconds=options.get("max_retry_wait_seconds"),
        )
        return record, kwargs

    def _check_origin(self, base_url: str, operation: str) -> None:
        try:
            origin = _origin(base_url)
        except ValueError:
            origin = base_url
        if origin not in self._allowed:
            self.denied.append({"origin": origin, "operation": operation})
            raise HubError("denied", f"{origin} is not an allowed origin for this Hub")

    def _area_names(self) -> List[str]:
        prefix = f"{WIT_PACKAGE}/"
        names = []
        for export in self._component.type.exports(self._engine):
            if export.startswith(prefix):
                names.append(export[len(prefix):].split("@")[0])
        return names

    def _function_names(self, area: str) -> List[str]:
        exports = self._component.type.exports(self._engine)
        instance = exports.get(f"{WIT_PACKAGE}/{area}@{WIT_VERSION}")
        if instance is None:
            return []
        items = instance.ty.exports(self._engine)
        return [name for name, item in items.items() if isinstance(item.ty, FuncType)]

    def _get_linker(self) -> Linker:
        if self._linker is None:
            linker = Linker(self._engine)
            linker.add_wasip2()
            linker.add_wasi_http()
            with linker.root() as root:
                with root.add_instance(f"{WIT_PACKAGE}/credentials@{WIT_VERSION}") as credentials:
                    credentials.add_func("get", self._credentials_get)
                    credentials.add_func("invalidate", self._credentials_invalidate)
            self._linker = linker
        return self._linker

    def _credentials_get(self, _store: Any, account: str, kind: str) -> Optional[Record]:
        # result<option<credential>, string>: wasmtime-py lowers this result untagged, so an
        # `err` cannot be expressed from Python; a failure is raised instead, which ends the call
        # (and its instance) and comes out of `Hub.call` as the same exception.
        if self._callback is not None:
            token = self._callback(account, kind)
        else:
            entry = self._accounts.get(account)
            if entry is None:
                raise HubError("unauthorized", f"no account named {account!r} is configured")
            token = entry.get(kind)
        if token is None or token == "":
            return None
        if not isinstance(token, str):
            raise TypeError("a credential must be a str or None")
        return _record(token=token)

    def _credentials_invalidate(self, _store: Any, account: str, kind: str) -> None:
        entry = self._accounts.get(account)
        if entry is not None and self._callback is None:
            entry.invalidate(kind)

    def _invoke(self, area: str, function: str, make_args: Callable[[Any], tuple]) -> Any:
        """Instantiates the component in a fresh store and calls one export."""
        store = Store(self._engine)
        store.set_wasi(WasiConfig())  # no environment, arguments, files or inherited stdio
        # Without this the first outgoing HTTP request aborts the whole process.
        store.set_wasi_http()
        instance = self._get_linker().instantiate(store, self._component)
        interface = instance.get_export_index(store, f"{WIT_PACKAGE}/{area}@{WIT_VERSION}")
        if interface is None:
            raise AttributeError(f"the component exports no interface {area!r}")
        index = instance.get_export_index(store, function, interface)
        if index is None:
            raise AttributeError(f"{area} has no function {function!r}")
        func = instance.get_func(store, index)
        args = make_args(func.type(store))
        result = func(store, *args)
        if isinstance(result, Variant):  # err(hub-error)
            raise _error(result)
        if area == "catalog" and function == "operations":
            return _plain(result)
        if isinstance(result, Record):  # ok(response)
            return _response(result)
        return result

    def _typed(self, area: str, function: str, kwargs: Dict[str, Any]) -> Response:
        options, rest = self._split(dict(kwargs), _snake(function))

        def make_args(fty: Any) -> tuple:
            if len(fty.params) == 1:
                # An operation without arguments: the function takes only the options.
                if rest:
                    raise TypeError(f"{_snake(function)}() got unknown arguments: {', '.join(sorted(rest))}")
                return (options,)
            (_, args_type), _ = fty.params
            fields = {}
            for field, valtype in args_type.fields:
                key = _snake(field)
                if key in rest:
                    value = rest.pop(key)
                    if isinstance(valtype, OptionType):
                        inner = valtype.payload
                    else:
                        inner = valtype
                    if isinstance(inner, String) and isinstance(value, (dict, list)):
                        value = json.dumps(value)  # fields the WIT carries as JSON text
                    fields[field] = value
                elif isinstance(valtype, OptionType):
                    fields[field] = None
                else:
                    raise TypeError(f"{_snake(function)}() is missing the argument {key!r}")
            if rest:
                raise TypeError(f"{_snake(function)}() got unknown arguments: {', '.join(sorted(rest))}")
            record = Record()
            for field, value in fields.items():
                setattr(record, field, value)
            return (record, options)

        return self._invoke(area, function, make_args)
