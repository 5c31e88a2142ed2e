"""Pairs that come and go: a like, a follow, a review. One document per pair, switched on and off.

Each switch is one commit conditional on the version it read (``_version``), which it bumps; the event it emits
carries the new version (``stamp``), so a consumer can tell a like from its later removal whatever order they
arrive in. Switching a pair to the state it already has changes nothing and emits nothing (the caller answers
409 or 404). A commit that meets a concurrent change of the same pair re-reads and decides again.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runtime import Conflict, Emit, Response

ATTEMPTS = 5  # re-reads when the same pair changes concurrently


@dataclass(frozen=True)
class Pair:
    """The document of one pair: where it lives, its id, and the fields naming its two sides."""

    collection: str
    id: str
    sides: dict[str, str] = field(default_factory=dict)
    since: str = "since"  # the field holding when the pair was last switched on

    def read(self, ctx) -> dict[str, Any] | None:
        return ctx.db[self.collection].find_one({"_id": self.id})


Emits = Callable[[dict[str, Any] | None, int], list[Emit]]  # (the document as read, the new version) -> events


def switch_once(ctx, pair: Pair, doc: dict[str, Any] | None, active: bool, *, reply: Response, emits: Emits,
                fields: dict[str, Any] | None = None) -> Response | None:
    """Switch ``pair`` from ``doc`` as read (None: never written) to ``active``, with ``fields``; None when the
    document changed since it was read (or, for a new pair, was created meanwhile)."""
    version = (doc or {}).get("_version", 0) + 1
    state = {**pair.sides, **(fields or {}), "active": active, "_version": version}
    state[pair.since if active else "removedAt"] = ctx.now
    read_version = {"_version": doc["_version"]} if doc else {"_version": {"$exists": False}}
    return ctx.commit(pair.collection, {"_id": pair.id, **read_version}, {"$set": state}, upsert=doc is None,
                      reply=reply, emit=emits(doc, version))


def switch(ctx, pair: Pair, active: bool, *, reply: Response, emits: Emits,
           fields: dict[str, Any] | None = None) -> Response | None:
    """Switch ``pair`` to ``active``: the reply (or the first reply when this key already did it), or None when it
    already was ``active`` (nothing written, nothing emitted)."""
    for _ in range(ATTEMPTS):
        doc = pair.read(ctx)
        replay = ctx.prior_reply(doc)
        if replay is not None:
            return replay
        if bool((doc or {}).get("active")) == active:
            return None
        done = switch_once(ctx, pair, doc, active, reply=reply, emits=emits, fields=fields)
        if done is not None:
            return done
    raise Conflict("It kept changing concurrently; try again.", code="concurrent_update")
