"""The notifications group's domain: stored notifications, the follow mirror, tombstones and the REST views.

A notification is insert-only apart from its ``read`` flag. Its id derives from what caused it (``derived_id``):
a redelivered or crash-resumed event inserts nothing twice, and the insert that actually created a notification
is the one that pushes it (``store``). Types and metadata are the reference's (spec §3.1); texts stay in the SPA.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from runtime import InvalidInput, Mirror, index, iso

NOTIFICATIONS = "notifications"
FOLLOWS = "follows"  # the mirror of interactions' follows, one document per (follower, followed) pair
FANOUTS = "fanouts"  # progress of each event.published fan-out (the last follower done)
GONE = "gone"  # tombstones of deleted users and events: late events about them store nothing
TYPES = ("like", "review", "follow", "new_event")  # stored; "message" is pushed only
MAX_LIMIT, MAX_OFFSET = 100, 10_000
TRUE, FALSE = ("true", "1"), ("false", "0")

INDEXES = (
    index(NOTIFICATIONS, "userId", ("createdAt", -1), ("_id", -1), name="user_newest"),
    index(NOTIFICATIONS, "userId", "read", name="user_read"),
    index(NOTIFICATIONS, "actorId", name="actor"),
    index(NOTIFICATIONS, "metadata.eventId", name="event", sparse=True),
    index(FOLLOWS, "followedId", "deleted", "followerId", name="followers_in_order"),
    index(FOLLOWS, "followerId", name="following"),
)

FOLLOW_MIRROR = Mirror(FOLLOWS, lambda event_type, data: {"followerId": data["followerId"],
                                                          "followedId": data["followedId"]})


def follow_id(follower_id: str, followed_id: str) -> str:
    """The mirror's key for a pair (ids never contain a space: they are UUIDs or our own derived ids)."""
    return f"{follower_id} {followed_id}"


def derived_id(cause: str, recipient: str) -> str:
    """A notification's id from what caused it and whom it is for: equal for every redelivery of the cause."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"eventonight/notifications/{cause}/{recipient}"))


def cause_of(event) -> str:
    """A CloudEvent's identity (its ``source`` and ``id``: the CloudEvents duplicate rule)."""
    return f"{event.get_source()}#{event.get_id()}"


def notification(cause: str, recipient: str, kind: str, metadata: Mapping[str, Any], actor: str,
                 now: datetime) -> dict[str, Any]:
    return {"_id": derived_id(cause, recipient), "userId": recipient, "type": kind, "metadata": dict(metadata),
            "actorId": actor, "read": False, "createdAt": now, "updatedAt": now}


def store(db, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert ``docs`` (unordered), ignoring the ones that already exist; answer the ones this call inserted."""
    from pymongo.errors import BulkWriteError

    if not docs:
        return []
    try:
        db[NOTIFICATIONS].insert_many(docs, ordered=False)
        return docs
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != 11000 for e in errors):
            raise
        existing = {e["index"] for e in errors}
        return [doc for i, doc in enumerate(docs) if i not in existing]


def gone(db, *keys: str) -> bool:
    """Whether any of ``keys`` (``user:<id>``, ``event:<id>``) names something deleted."""
    return db[GONE].count_documents({"_id": {"$in": list(keys)}}, limit=1) > 0


# ---- views ----------------------------------------------------------------------------------------------------

def view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The reference's ``Notification`` JSON."""
    return {"id": doc["_id"], "userId": doc["userId"], "type": doc["type"], "metadata": doc["metadata"],
            "read": doc["read"], "createdAt": iso(doc["createdAt"]), "updatedAt": iso(doc["updatedAt"])}


def push_payload(doc: Mapping[str, Any]) -> dict[str, Any]:
    """What a stored notification's push carries (spec §3.4): no userId, no updatedAt."""
    return {"id": doc["_id"], "type": doc["type"], "metadata": doc["metadata"], "read": False,
            "createdAt": iso(doc["createdAt"])}


def message_payload(data: Mapping[str, Any]) -> dict[str, Any]:
    """The push of a chat message: ``{type: "message", metadata}`` (never stored, so no id and no read flag)."""
    keys = ("conversationId", "senderId", "senderName", "message", "messageId", "senderAvatar", "createdAt")
    return {"type": "message", "metadata": {k: data[k] for k in keys}}


# ---- query parameters -----------------------------------------------------------------------------------------

def _invalid(name: str, message: str) -> InvalidInput:
    return InvalidInput(f"{name} {message}.", details=[{"field": name, "message": message}])


def int_param(request, name: str, default: int, minimum: int, maximum: int) -> int:
    """An integer in [minimum, maximum]; anything else is a 400 naming the parameter (the reference said 500)."""
    raw = request.query_one(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _invalid(name, "must be an integer") from None
    if not minimum <= value <= maximum:
        raise _invalid(name, f"must be between {minimum} and {maximum}")
    return value


def bool_param(request, name: str, default: bool = False) -> bool:
    """``true``/``false``/``1``/``0`` (any case); anything else is a 400 (the reference took "false" as true)."""
    raw = request.query_one(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in TRUE:
        return True
    if raw.lower() in FALSE:
        return False
    raise _invalid(name, "must be true or false")


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def needs(*keys: str):
    """A ``body=`` for an event function: the event's data, with ``keys`` present as non-empty strings (else a
    400: a malformed event is dead-lettered, not retried)."""
    from runtime import BadRequest

    def read(event, ctx) -> dict[str, Any]:
        data = event.get_data()
        if not isinstance(data, dict):
            raise BadRequest(f"{event.get_type()} needs a JSON object as data", code="invalid_event")
        missing = [k for k in keys if not isinstance(data.get(k), str) or not data[k]]
        if missing:
            raise BadRequest(f"{event.get_type()} needs {', '.join(missing)}", code="invalid_event")
        return data

    return read
