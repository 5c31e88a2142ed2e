"""The function contract (design §3): a declaration, a platform-neutral ``main(event, ctx)``, and its outcome.

A function module declares itself once::

    @function("users-register", http("POST", "/register"), emits=["user.created"])
    def main(event: CloudEvent, ctx: Context) -> Response: ...

    handle, new = entry_points(main)        # OpenFaaS python3-http and Knative func-python entry points

The declaration (``FunctionSpec``) is the single source of truth the deployment generator, the local runner and
the event catalogue checks read: trigger (HTTP route, event types or schedule), emitted types, secrets, timeout,
and the indexes its queries need (ensured once per process before the first invocation).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

from .config import LEASE_MARGIN_SECONDS

if TYPE_CHECKING:  # pragma: no cover
    from cloudevents.core.base import BaseCloudEvent

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,62}$")  # DNS-1035: what both platforms accept as a name
DEFAULT_MAX_BODY_BYTES = 256 * 1024  # a request body larger than its function declares is a 413, never parsed
UPLOAD_MAX_BODY_BYTES = 6 * 1024 * 1024  # functions that take an image (5 MiB) and its form around it
GROUPS = ("users", "events", "ticketing", "interactions", "chat", "notifications", "media")


# ---- triggers -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HttpTrigger:
    """Served at ``http://<group>.<HOST><path>`` for ``method``; ``{name}`` segments become path params, and a
    last ``{name:path}`` takes the rest of the path, slashes included."""

    method: str
    path: str

    def pattern(self) -> re.Pattern[str]:
        regex = re.escape(self.path.rstrip("/") or "/")
        regex = re.sub(r"\\\{(\w+):path\\\}", r"(?P<\1>.+)", regex)
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
        return re.compile("^" + regex + "/?$")


@dataclass(frozen=True)
class EventTrigger:
    """Invoked for each CloudEvent whose ``type`` is one of ``types`` (routing key on exchange ``eventonight``)."""

    types: tuple[str, ...]


@dataclass(frozen=True)
class ScheduleTrigger:
    """Invoked on a cron schedule (OpenFaaS cron-connector, Knative PingSource)."""

    cron: str


Trigger = Union[HttpTrigger, EventTrigger, ScheduleTrigger]


def http(method: str, path: str) -> HttpTrigger:
    return HttpTrigger(method.upper(), path)


def on_event(*types: str) -> EventTrigger:
    return EventTrigger(tuple(types))


def every(cron: str) -> ScheduleTrigger:
    return ScheduleTrigger(cron)


# ---- outcome --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Response:
    """What a function answers; the adapters encode it for their platform. ``body`` is JSON-serialisable or bytes."""

    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        """The form stored in the idempotency ledger for replays (bytes bodies are not replayable)."""
        return {"status": self.status, "body": self.body, "headers": dict(self.headers)}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Response:
        return cls(record["status"], record.get("body"), record.get("headers") or {})


ACCEPTED = Response(202)


# ---- invocation context ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HttpRequest:
    """The HTTP request behind a command or webhook, kept whole: Stripe signatures need the raw body."""

    method: str
    path: str
    headers: Mapping[str, str]  # lower-cased names
    query: Mapping[str, list[str]]
    body: bytes
    path_params: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def query_one(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default


# ---- declaration ----------------------------------------------------------------------------------------------

Main = Callable[["BaseCloudEvent", Any], Union[Response, None]]  # main(event, ctx: runtime.context.Context)


@dataclass(frozen=True)
class Index:
    """An index a function's queries rely on: ``keys`` as pymongo takes them (a field, or ``[(field, 1), ...]``)."""

    collection: str
    keys: str | tuple[tuple[str, Any], ...]
    name: str
    unique: bool = False
    sparse: bool = False
    expire_after_seconds: int | None = None

    def options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"name": self.name}
        if self.unique:
            options["unique"] = True
        if self.sparse:
            options["sparse"] = True
        if self.expire_after_seconds is not None:
            options["expireAfterSeconds"] = self.expire_after_seconds
        return options


def index(collection: str, *keys: str | tuple[str, Any], name: str, **options: Any) -> Index:
    """``index("events", ("status", 1), ("date", 1), name="status_date")``; a lone field name is ascending."""
    spec = tuple((k, 1) if isinstance(k, str) else tuple(k) for k in keys)
    return Index(collection, spec, name, **options)


@dataclass(frozen=True)
class FunctionSpec:
    """Everything the platforms, the runner and the checks need to know about one function."""

    name: str
    trigger: Trigger
    main: Main
    emits: tuple[str, ...] = ()
    auth: str = "public"  # "public" | "optional" (identity if a valid token is sent) | "required"
    roles: tuple[str, ...] = ()  # realm roles of which the caller needs one
    state_changing: bool = True  # records an idempotency key; False for queries and token exchanges
    # its one write is one ctx.commit under its key whose reply is its answer: that receipt completes the ledger
    # record (two store commands, not three); a second write through ctx fails (runtime/idempotency.py)
    single_commit: bool = False
    timeout_seconds: int = 10
    secrets: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()  # extra PyPI distributions beyond the runtime's (pinned in pyproject)
    redact: tuple[str, ...] = ()  # body fields kept out of the payload hash and logs (passwords)
    finish: Callable[..., Response] | None = None  # runs after a fresh or replayed result (ephemeral parts)
    body: Any = None  # request model (pydantic) or callable(event, ctx) -> input; checked before any write
    # the JSON body's pydantic model, for the OpenAPI document (deploy/openapi.py) when ``body`` is a reader that
    # parses one; a model given as ``body`` is its own request model
    request: Any = None
    # callable(event, ctx) -> the invocation's idempotency key, run after ``body`` validated the request (a webhook
    # keys on its provider's event id: Stripe retries carry no Idempotency-Key); None keeps the default key
    idempotency_key: Callable[..., str] | None = None
    indexes: tuple[Index, ...] = ()  # what its queries need; ensured once per process and database
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # refused (413) before anything reads the body

    @property
    def group(self) -> str:
        return self.name.split("-", 1)[0]

    @property
    def lease_seconds(self) -> int:
        """How long a claimed idempotency key stays with its attempt: the platform cuts the call off before. A crashed
        attempt's key is taken over only after this, so a trigger's retries must last longer (``retry_schedule``)."""
        return self.timeout_seconds + LEASE_MARGIN_SECONDS

    def __post_init__(self) -> None:
        problems = []
        if not NAME_PATTERN.match(self.name):
            problems.append(f"name {self.name!r} is not a DNS-1035 label")
        if self.group not in GROUPS:
            problems.append(f"name {self.name!r} must start with a group: one of {', '.join(GROUPS)}")
        if self.auth not in ("public", "optional", "required"):
            problems.append(f"auth {self.auth!r} is not public, optional or required")
        if self.roles and self.auth != "required":
            problems.append("roles need auth='required'")
        if problems:
            raise ValueError(f"function {self.name}: " + "; ".join(problems))

    def __call__(self, event, ctx):  # a declared function is still callable as itself
        return self.main(event, ctx)


def function(name: str, trigger: Trigger, *, emits: list[str] | tuple[str, ...] = (), auth: str | None = None,
             roles: list[str] | tuple[str, ...] = (), state_changing: bool | None = None, timeout_seconds: int = 10,
             secrets: list[str] | tuple[str, ...] = (), requirements: list[str] | tuple[str, ...] = (),
             redact: list[str] | tuple[str, ...] = (), finish: Callable[..., Response] | None = None,
             body: Any = None, request: Any = None, idempotency_key: Callable[..., str] | None = None,
             indexes: Any = (), max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, single_commit: bool = False):
    """Declare ``main`` as the function ``name`` (``<group>-<action>``). See the module docstring."""
    if state_changing is None:
        state_changing = not (isinstance(trigger, HttpTrigger) and trigger.method == "GET")
    if auth is None:
        auth = "required" if roles else "public"
    if request is None and isinstance(body, type) and hasattr(body, "model_json_schema"):
        request = body  # a pydantic model

    def declare(main: Main) -> FunctionSpec:
        return FunctionSpec(name=name, trigger=trigger, main=main, emits=tuple(emits), auth=auth, roles=tuple(roles),
                            state_changing=state_changing, timeout_seconds=timeout_seconds, secrets=tuple(secrets),
                            requirements=tuple(requirements), redact=tuple(redact), finish=finish, body=body,
                            request=request, idempotency_key=idempotency_key, indexes=tuple(indexes),
                            max_body_bytes=max_body_bytes, single_commit=single_commit)

    return declare
