"""The group's MongoDB database and the one way a function changes state: ``commit``.

A commit is ONE atomic single-document update (mongo.md: no stand-in does multi-document transactions faithfully,
and hot documents conflict under them on a real replica set) that carries, together:

- the state change (the caller's filter + update, optionally an upsert),
- the events it emits, appended to the document's embedded outbox ``_outbox`` (flag ``_outbox_pending``),
- the invocation's receipt ``{key, reply}`` in ``_receipts`` (the last few kept), guarded by
  ``_receipts.key != key`` so a second commit for the same key, by a retry or by a stale worker, is a no-op that
  returns the first commit's reply.

After the commit the invocation publishes the document's pending entries at once (the fast path); whatever it
could not publish, the scheduled relay (``runtime.outbox``) publishes later. A crash anywhere loses nothing.
"""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import events as catalogue

from .contract import Response
from .errors import InternalError
from .outbox import OUTBOX, PENDING, publish_document, publish_entries
from .signing import KeyRing

RECEIPTS_KEPT = 16
RECEIPTS = "_receipts"

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


# Defaults for what MONGO_URI does not set itself: a store that stops answering (paused, partitioned) fails the call
# with a 503 well inside a function's 10 s timeout, instead of holding it until the platform kills it.
CLIENT_DEFAULTS = {"serverSelectionTimeoutMS": 3000, "connectTimeoutMS": 3000, "socketTimeoutMS": 8000}


def mongo_client(uri: str):
    """One pooled, tz-aware client per URI and process (functions are warm-started; pools are reused). Timeouts
    given in the URI (``?socketTimeoutMS=...``) win over CLIENT_DEFAULTS."""
    with _clients_lock:
        if uri not in _clients:
            from pymongo import MongoClient
            from pymongo.uri_parser import parse_uri

            given = {k.lower() for k in parse_uri(uri, validate=False)["options"]}
            defaults = {k: v for k, v in CLIENT_DEFAULTS.items() if k.lower() not in given}
            _clients[uri] = MongoClient(uri, tz_aware=True, appname="eventonight-functions", **defaults)
        return _clients[uri]


@dataclass(frozen=True)
class Emit:
    """An event to emit with a commit; ``data`` must match the catalogue schema of ``type``."""

    type: str
    data: dict[str, Any]
    subject: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)


class GroupStore:
    """The group's database plus commit; the collections' own indexes are declared by the group's code."""

    def __init__(self, uri: str, database: str, publisher=None, keys: Callable[[], KeyRing] | None = None):
        self.uri = uri
        self.database = database
        self.publisher = publisher  # an object with publish(AmqpMessage), or None (then only the relay publishes)
        self.keys = keys or (lambda: None)  # the signing keys, read when first needed
        self._prepared: set[str] = set()

    @property
    def db(self):
        return mongo_client(self.uri)[self.database]

    def _prepare(self, collection: str) -> None:
        if collection not in self._prepared:
            coll = self.db[collection]
            coll.create_index(f"{RECEIPTS}.key", name="receipts_key")
            coll.create_index(PENDING, name="outbox_pending", sparse=True)
            self._prepared.add(collection)

    def commit(self, ctx, collection: str, filter: dict[str, Any], update: dict[str, Any], *,
               reply: Response, emit: list[Emit] | tuple[Emit, ...] = (), upsert: bool = False) -> Response | None:
        """Apply ``update`` to the one document matching ``filter``, with ``emit`` and this invocation's receipt.

        Returns ``reply`` when this commit applied, the first reply when an earlier attempt with the same key
        already committed, and ``None`` when ``filter`` matched nothing (the caller turns that into 404/409).
        """
        from pymongo import ReturnDocument
        from pymongo.errors import DuplicateKeyError

        self._prepare(collection)
        attempt = ctx.attempt
        if attempt is not None:
            attempt.before_write(ctx.runtime.clock())
        queued_at = ctx.runtime.clock()
        entries = [self._outbox_entry(ctx, index, e, queued_at) for index, e in enumerate(emit)]
        update = {op: dict(fields) for op, fields in update.items()}
        receipt = {"key": ctx.key, "reply": reply.to_record(), "at": ctx.now}
        if attempt is not None and ctx.key == attempt.key:  # may stand as the invocation's answer (ledger)
            receipt["fn"] = ctx.spec.name
            attempt.ledger.note_home(ctx.spec.name, collection)
        update.setdefault("$push", {})[RECEIPTS] = {"$each": [receipt], "$slice": -RECEIPTS_KEPT}
        if entries:
            update["$push"][OUTBOX] = {"$each": entries}
            update.setdefault("$set", {})[PENDING] = True
        guard = {f"{RECEIPTS}.key": {"$ne": ctx.key}}
        # Top-level conditions are ANDed: merged, the filter keeps its _id lookup visible to every planner.
        guarded = {**filter, **guard} if f"{RECEIPTS}.key" not in filter else {"$and": [filter, guard]}
        coll = self.db[collection]
        try:
            # The document as it was: its receipts tell which one this push evicts; its _id where to publish.
            before = coll.find_one_and_update(guarded, update, {RECEIPTS: 1}, upsert=upsert,
                                              return_document=ReturnDocument.BEFORE)
            applied = before is not None or upsert
        except DuplicateKeyError:  # the upsert met an existing document: maybe our own earlier commit
            before, applied = None, False
        if not applied:
            if attempt is not None:
                attempt.committed(ctx.key, None)
            prior = coll.find_one({f"{RECEIPTS}.key": ctx.key}, {"_id": 1, RECEIPTS: 1})
            if prior is None:
                return None
            first = next(r for r in prior[RECEIPTS] if r["key"] == ctx.key)
            if entries:  # finish what a crashed attempt left (a re-run emits the same ids)
                self.publish_pending(collection, prior["_id"], ctx.log, only=[e["id"] for e in entries])
            return Response.from_record(first["reply"])
        receipts = (before or {}).get(RECEIPTS, [])
        evicted = receipts[:max(0, len(receipts) + 1 - RECEIPTS_KEPT)]
        if evicted:  # the answers these receipts hold must outlive them
            ctx.runtime.ledger(self).settle_evicted(evicted, ctx.runtime.clock())
        if attempt is not None:
            attempt.committed(ctx.key, receipt["reply"])
        if entries and self.publisher is not None:  # the fast path: this commit's own entries, from memory
            doc_id = before["_id"] if before is not None else self._upserted_id(coll, filter, ctx.key)
            if doc_id is not None:
                publish_entries(coll, doc_id, entries, self.publisher, self.keys(), ctx.log)
        return reply

    @staticmethod
    def _upserted_id(coll, filter: dict[str, Any], key: str) -> Any:
        """The _id of the document an upsert just created: the filter's, else found by the receipt."""
        if "_id" in filter and not isinstance(filter["_id"], dict):
            return filter["_id"]
        found = coll.find_one({f"{RECEIPTS}.key": key}, {"_id": 1})
        return found["_id"] if found else None

    def _outbox_entry(self, ctx, index: int, emit: Emit, queued_at) -> dict[str, Any]:
        if emit.type not in ctx.spec.emits:
            raise InternalError(f"{ctx.spec.name} emits {emit.type} but does not declare it")
        try:
            catalogue.validate(emit.type, emit.data)
        except (catalogue.InvalidEventData, catalogue.UnknownEventType) as exc:
            raise InternalError(f"event does not match the catalogue: {exc}") from exc
        # Deterministic per (function, key, position): a re-run after a crash emits the same event ids.
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ctx.spec.name}/{ctx.key}/{index}"))
        entry = {"id": event_id, "type": emit.type, "source": f"/functions/{ctx.spec.name}", "time": ctx.now,
                 "data": emit.data, "queued_at": queued_at}
        if emit.subject:
            entry["subject"] = emit.subject
        if emit.extensions:
            entry["extensions"] = emit.extensions
        return entry

    def publish_pending(self, collection: str, doc_id: Any, log=None, only: Collection[str] | None = None) -> int:
        """Publish the document's outbox entries (those in ``only``, if given) in order; returns how many were
        confirmed."""
        if self.publisher is None:
            return 0
        return publish_document(self.db[collection], doc_id, self.publisher, self.keys(), log, only=only)

    @staticmethod
    def prior_reply(doc: Mapping[str, Any] | None, key: str) -> Response | None:
        """The reply a commit under ``key`` left on ``doc``, if one did."""
        for receipt in (doc or {}).get(RECEIPTS, []):
            if receipt["key"] == key:
                return Response.from_record(receipt["reply"])
        return None

    def purge(self, ctx, collection: str, filter: dict[str, Any]) -> int:
        """Delete the documents matching ``filter`` whose outbox holds nothing unpublished."""
        if ctx.attempt is not None:
            ctx.attempt.before_write(ctx.runtime.clock())
        return self.db[collection].delete_many({"$and": [filter, {PENDING: {"$ne": True}}]}).deleted_count
