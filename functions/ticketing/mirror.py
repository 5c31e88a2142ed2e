"""The ticketing group's view of events: a mirror kept from ``event.*`` events, read through to the events group.

The SPA creates an event and at once its ticket types, usually before ``event.created`` has reached us. So when the
mirror has no such event, we ask the events group (``GET events.<HOST>/{eventId}`` with the caller's token, which
also keeps drafts private) and seed the mirror with what it answers; the domain events then catch it up. The seed
carries sequence 0, so every real event is newer than it.
"""
from __future__ import annotations

from typing import Any

from runtime import ordering
from runtime.errors import Unavailable

from functions.ticketing import model

READ_THROUGH_TIMEOUT_SECONDS = 3.0
TERMINAL = ("CANCELLED", "COMPLETED")


def events_base_url(config) -> str:
    return config.get("EVENTS_URL", "") or f"http://events.{config.public_host}"


def find_event(ctx, event_id: str, *, read_through: bool = True) -> dict[str, Any] | None:
    doc = ctx.db[model.EVENTS].find_one({"_id": event_id})
    if not read_through or (doc is not None and (doc.get("creatorId") or doc.get("deleted"))):
        return doc
    fetched = fetch_event(ctx, event_id)
    if fetched is None:
        return doc
    if doc is not None:  # an event.updated arrived before event.created: fill in who organizes it
        ctx.db[model.EVENTS].update_one({"_id": event_id, "creatorId": {"$exists": False}}, {"$set": {
            "creatorId": fetched.get("creatorId"), "collaboratorIds": fetched.get("collaboratorIds") or []}})
        return ctx.db[model.EVENTS].find_one({"_id": event_id})
    seed = {"creatorId": fetched.get("creatorId"), "collaboratorIds": fetched.get("collaboratorIds") or [],
            "status": fetched.get("status"), "date": fetched.get("date"), "title": fetched.get("title"),
            "_seq": 0, "source": "read-through"}
    from pymongo.errors import DuplicateKeyError

    try:
        ctx.db[model.EVENTS].update_one({"_id": event_id}, {"$setOnInsert": seed}, upsert=True)
    except DuplicateKeyError:  # a mirror event landed meanwhile: it wins
        pass
    return ctx.db[model.EVENTS].find_one({"_id": event_id}) or {"_id": event_id, **seed}


def fetch_event(ctx, event_id: str) -> dict[str, Any] | None:
    """The event as the events group shows it to the caller; ``None`` when it does not exist (or is hidden)."""
    import httpx

    headers = {"Accept": "application/json"}
    host = ctx.config.get("EVENTS_HOST", "")
    if host:  # the local runner's gateway routes by Host header on 127.0.0.1
        headers["Host"] = host
    if ctx.http is not None and ctx.http.header("authorization"):
        headers["Authorization"] = ctx.http.header("authorization")
    try:
        response = httpx.get(f"{events_base_url(ctx.config).rstrip('/')}/{event_id}", headers=headers,
                             timeout=READ_THROUGH_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        raise Unavailable("The events service could not be reached; try again.") from exc
    if response.status_code in (403, 404):
        return None
    if response.status_code != 200:
        ctx.log.warning("events read-through failed", fields={"status": response.status_code})
        raise Unavailable("The events service could not answer; try again.")
    return response.json()


def apply(ctx, event_type: str, data: dict[str, Any], sequence: int | None) -> bool:
    """Apply one ``event.*`` to the mirror if it is newer than what the mirror holds; returns whether it applied.

    With a ``sequence`` (the event aggregate's version) the newest wins and duplicates or stale events change
    nothing; a deletion leaves a tombstone so a late ``event.created`` cannot resurrect it. Without one, a
    terminal status (cancelled, completed) is never left but for a deletion, and a deletion is final.
    """
    from runtime.contract import ACCEPTED

    event_id = data["eventId"]
    state: dict[str, Any] = {}
    if event_type in ("event.created", "event.updated"):
        state["status"] = data["status"]
        for source, target in (("creatorId", "creatorId"), ("collaboratorIds", "collaboratorIds"),
                               ("name", "title"), ("date", "date")):
            if data.get(source) is not None:
                state[target] = data[source]
    elif event_type == "event.published":
        state.update(status="PUBLISHED", title=data.get("name"), creatorId=data.get("creatorId"))
        if data.get("date"):
            state["date"] = data["date"]
    elif event_type == "event.cancelled":
        state["status"] = "CANCELLED"
    elif event_type == "event.completed":
        state["status"] = "COMPLETED"
    elif event_type == "event.deleted":
        state.update(deleted=True)
    state = {k: v for k, v in state.items() if v is not None}
    if sequence is not None:
        state["_seq"] = sequence
        guard = ordering.newer(event_id, sequence)
    else:
        guard = {"_id": event_id, "deleted": {"$ne": True}}
        if event_type != "event.deleted":  # a cancelled or completed event may still be deleted
            guard["status"] = {"$nin": list(TERMINAL)}
    return ctx.commit(model.EVENTS, guard, {"$set": state}, upsert=True, reply=ACCEPTED) is not None
