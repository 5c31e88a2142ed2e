"""A group's copy of another group's aggregates, kept from their events: the one mirror every group uses.

Deliveries are at least once and in any order. Each event carries its aggregate's version as ``sequence``
(``runtime.ordering``); the copy applies an event only if it is newer than what it holds, and a deletion leaves a
tombstone (``deleted: true``, with the version) so a late ``created`` or ``updated`` cannot bring the aggregate
back. Duplicates and stale events are acknowledged and change nothing. Each apply is one commit (with its
receipt), so a redelivery of the very same event is a no-op even before the ordering guard looks at it.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .contract import ACCEPTED
from .ordering import APPLIED, newer, sequence_of

State = Callable[[str, Mapping[str, Any]], Mapping[str, Any]]  # (event type, data) -> fields the copy keeps


@dataclass(frozen=True)
class Mirror:
    """``collection`` holds copies keyed by ``data[id_field]``; ``state`` picks what a copy keeps from an event
    (``None`` values are left out); ``forget`` are the fields a tombstone drops."""

    collection: str
    state: State
    id_field: str = "id"
    forget: tuple[str, ...] = ()

    def apply(self, ctx, event) -> bool:
        """Apply a ``*.deleted`` event as a tombstone and any other as a copy; False if stale or a duplicate."""
        data = event.get_data() or {}
        doc_id, sequence = data[self.id_field], sequence_of(event)
        if event.get_type().endswith(".deleted"):
            return self.delete(ctx, doc_id, sequence)
        return self.copy(ctx, doc_id, sequence, self.state(event.get_type(), data))

    def copy(self, ctx, doc_id: str, sequence: int, fields: Mapping[str, Any]) -> bool:
        kept = {k: v for k, v in fields.items() if v is not None}
        update = {"$set": {**kept, "deleted": False, APPLIED: sequence}}
        return ctx.commit(self.collection, newer(doc_id, sequence), update, upsert=True, reply=ACCEPTED) is not None

    def delete(self, ctx, doc_id: str, sequence: int) -> bool:
        update: dict[str, Any] = {"$set": {"deleted": True, APPLIED: sequence}}
        if self.forget:
            update["$unset"] = {name: "" for name in self.forget}
        return ctx.commit(self.collection, newer(doc_id, sequence), update, upsert=True, reply=ACCEPTED) is not None

    def seed(self, ctx, doc_id: str, fields: Mapping[str, Any]) -> dict[str, Any] | None:
        """Fill an absent copy from a read-through (version 0, so every real event is newer); the copy as it
        stands afterwards, whoever won the race to create it."""
        from pymongo.errors import DuplicateKeyError

        kept = {k: v for k, v in fields.items() if v is not None}
        try:
            ctx.db[self.collection].update_one({"_id": doc_id}, {"$setOnInsert": {**kept, APPLIED: 0}}, upsert=True)
        except DuplicateKeyError:  # an event landed meanwhile: it wins
            pass
        return ctx.db[self.collection].find_one({"_id": doc_id})

    def get(self, ctx, doc_id: str, projection: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """The live copy, or None when there is none or it is a tombstone."""
        if projection is not None:
            projection = {**projection, "deleted": 1}
        doc = ctx.db[self.collection].find_one({"_id": doc_id}, projection)
        return None if doc is None or doc.get("deleted") else doc

    def is_deleted(self, ctx, doc_id: str) -> bool:
        return ctx.db[self.collection].count_documents({"_id": doc_id, "deleted": True}, limit=1) == 1
