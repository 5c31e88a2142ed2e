"""``ctx``: everything ``main(event, ctx)`` may touch, built by the pipeline for one invocation.

Functions never read the environment, the clock or process globals, and never the runtime's bookkeeping fields
in documents: what they need is a method here.
"""
from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .contract import FunctionSpec, HttpRequest, Response

if TYPE_CHECKING:  # pragma: no cover
    from .auth import Principal
    from .config import Config
    from .idempotency import Attempt
    from .process import Runtime
    from .store import Emit, GroupStore


@dataclass(frozen=True)
class Context:
    """One invocation's view of the platform."""

    spec: FunctionSpec
    config: Config
    now: datetime  # read once per invocation
    log: Any  # a logging.LoggerAdapter carrying function, trace id and key
    key: str  # the invocation's idempotency key ("" for queries)
    store: GroupStore
    runtime: Runtime
    principal: Principal | None = None
    http: HttpRequest | None = None
    input: Any = None  # the validated request body, or the validated event data
    attempt: Attempt | None = None  # the ledger's lease on this invocation (state-changing ones), shared by scopes

    @property
    def db(self):
        """The group's MongoDB database (``<DATABASE_PREFIX><group>``)."""
        return self.store.db

    def commit(self, collection: str, filter: dict[str, Any], update: dict[str, Any], *, reply: Response,
               emit: list[Emit] | tuple[Emit, ...] = (), upsert: bool = False) -> Response | None:
        """Apply ``update`` to the one document matching ``filter`` together with the events ``emit`` and this
        invocation's receipt, atomically (``runtime.store``). Returns ``reply``; the first reply when this key
        already committed there; ``None`` when ``filter`` matched nothing (the caller answers 404 or 409)."""
        return self.store.commit(self, collection, filter, update, reply=reply, emit=emit, upsert=upsert)

    def prior_reply(self, doc: Mapping[str, Any] | None) -> Response | None:
        """The reply this invocation's key already committed on ``doc``, if it did (a retry replays it)."""
        return self.store.prior_reply(doc, self.key)

    def scoped(self, part: str) -> Context:
        """This invocation under the key ``<key>/<part>``: one sub-step of a fan-out (a cascade over many
        documents) commits once per part, however often the whole invocation is retried."""
        return dataclasses.replace(self, key=f"{self.key}/{part}")

    def keyed(self, key: str) -> Context:
        """This invocation under ``key`` itself: an effect that must happen once whichever invocation gets to it
        (overlapping schedule ticks completing one event, two logins repairing one account)."""
        return dataclasses.replace(self, key=key)

    def derived_id(self, prefix: str = "") -> str:
        """The id of what this invocation creates, derived from its key *and its caller*, so a retry converges on
        one document and nobody else's request with the same key can ever address it."""
        caller = self.principal.user_id if self.principal else "-"
        value = str(uuid.uuid5(uuid.NAMESPACE_URL, f"eventonight/{self.spec.name}/{caller}/{self.key}"))
        return f"{prefix}_{value}" if prefix else value

    def purge(self, collection: str, filter: dict[str, Any]) -> int:
        """Delete the documents matching ``filter`` whose outbox is published (nothing they emitted is lost)."""
        return self.store.purge(self, collection, filter)

    def verify_token(self, token: str) -> Principal:
        """The caller behind a bearer token, checked as the pipeline checks every request's."""
        return self.runtime.verifier().verify(token)

    def ask(self, group: str, path: str, *ids: str, as_caller: bool = False) -> Any:
        """Read through to another group's query function: ``GET http://<group>.<HOST><path>`` with ``{}`` in
        ``path`` filled by the URL-escaped ``ids``. ``None`` when it answers 404 (or 403: not visible to us).
        ``as_caller`` forwards the caller's token (never over plain HTTP to a non-loopback host)."""
        return self.runtime.group_client(group).get(path, *ids, caller=self.http if as_caller else None)
