"""The outbox relay: publishes what commits left in documents' embedded ``_outbox`` and marks it sent.

Runs in two places: right after a commit (the fast path, for that one document) and as each group's scheduled
relay function (``<group>-outbox-relay``), which sweeps every collection of the group for ``_outbox_pending``
documents. Both publish with confirms, then ``$pull`` exactly the confirmed entries, so an entry is removed only
after the broker has it; a crash in between re-publishes it with the same CloudEvent id (consumers dedupe on
``source`` + ``id``). The relay leaves alone entries queued less than ``RELAY_GRACE`` ago: the invocation that
queued them is publishing them right now, and racing it would only put each event on the wire twice.
"""
from __future__ import annotations

import random
import time
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from .contract import Response
from .dates import aware
from .envelope import new_event, to_amqp
from .errors import Unavailable
from .signing import KeyRing

OUTBOX, PENDING = "_outbox", "_outbox_pending"  # fields the store writes into a committed document
BACKOFF_BASE_SECONDS = 0.2
BACKOFF_CAP_SECONDS = 5.0
RELAY_GRACE = timedelta(seconds=5)


def backoff_seconds(attempt: int, base: float = BACKOFF_BASE_SECONDS, cap: float = BACKOFF_CAP_SECONDS) -> float:
    """Exponential backoff with full jitter (attempt 0, 1, 2, ...)."""
    return random.uniform(0, min(cap, base * (2 ** attempt)))


def entry_to_event(entry: dict[str, Any], keys: KeyRing):
    """The CloudEvent of an outbox entry, signed with the current key (``runtime.signing``)."""
    extensions = dict(entry.get("extensions") or {})
    attributes = {"id": entry["id"], "source": entry["source"], "type": entry["type"], "subject": entry.get("subject"),
                  "time": aware(entry["time"]), "sequence": extensions.get("sequence")}
    extensions.update(keys.sign(attributes, entry["data"]))
    return new_event(entry["type"], entry["source"], entry["data"], event_id=entry["id"], time=attributes["time"],
                     subject=entry.get("subject"), extensions=extensions)


def publish_document(collection, doc_id: Any, publisher, keys: KeyRing, log=None, *,
                     queued_before: datetime | None = None, only: Collection[str] | None = None) -> int:
    """Publish one document's pending entries in order, stopping at the first failure or at the first entry
    queued after ``queued_before`` (so the order is kept); returns how many were confirmed. A commit passes its own
    entries' ids as ``only``: on a busy document every commit would otherwise publish its neighbours' entries too,
    putting each event on the wire as many times as commits raced."""
    doc = collection.find_one({"_id": doc_id, PENDING: True}, {OUTBOX: 1})
    if not doc or not doc.get(OUTBOX):
        return 0
    due = []
    for entry in doc[OUTBOX]:
        if queued_before is not None and aware(entry.get("queued_at") or entry["time"]) > queued_before:
            break
        if only is None or entry["id"] in only:
            due.append(entry)
    return publish_entries(collection, doc_id, due, publisher, keys, log)


def publish_entries(collection, doc_id: Any, entries: list[dict[str, Any]], publisher, keys: KeyRing,
                    log=None) -> int:
    """Publish ``entries`` of the document in order (a commit passes the ones it has just written: no read),
    stopping at the first failure; then remove the confirmed ones and clear the flag if nothing is left, in one
    update (a concurrent commit's append is seen by it). Returns how many were confirmed."""
    sent: list[str] = []
    try:
        for entry in entries:
            publisher.publish(to_amqp(entry_to_event(entry, keys)))
            sent.append(entry["id"])
    except Unavailable as exc:
        if log is not None:
            log.warning("outbox publish deferred to the relay", fields={"error": str(exc), "doc": str(doc_id)})
    if sent:
        remaining = {"$filter": {"input": f"${OUTBOX}", "cond": {"$eq": [{"$in": ["$$this.id", sent]}, False]}}}
        collection.update_one({"_id": doc_id}, [{"$set": {OUTBOX: remaining}},
                                                {"$set": {PENDING: {"$gt": [{"$size": f"${OUTBOX}"}, 0]}}}])
    return len(sent)


def sweep(db, publisher, keys: KeyRing, log=None, *, queued_before: datetime | None = None,
          max_documents: int = 500, attempts: int = 4) -> int:
    """Publish every pending entry (queued before ``queued_before``) of every collection in ``db``; retries a
    failing broker with backoff. Returns the number of events confirmed; raises ``Unavailable`` if entries remain
    after the last attempt."""
    total = 0
    for attempt in range(attempts):
        failed = False
        for name in sorted(db.list_collection_names()):
            coll = db[name]
            for doc in coll.find({PENDING: True}, {"_id": 1, OUTBOX: 1}).limit(max_documents):
                due = [e for e in doc.get(OUTBOX) or []
                       if queued_before is None or aware(e.get("queued_at") or e["time"]) <= queued_before]
                published = publish_document(coll, doc["_id"], publisher, keys, log, queued_before=queued_before)
                total += published
                failed = failed or published < len(due)
        if not failed:
            return total
        if attempt + 1 < attempts:
            time.sleep(backoff_seconds(attempt))
    raise Unavailable("outbox relay: events are still unpublished after every attempt; the next tick retries")


def relay(event, ctx) -> Response:
    """``main`` of each group's scheduled ``<group>-outbox-relay`` function: sweep the group's database."""
    published = sweep(ctx.db, ctx.store.publisher, ctx.store.keys(), ctx.log,
                      queued_before=ctx.runtime.clock() - RELAY_GRACE)
    return Response(200, {"published": published})
