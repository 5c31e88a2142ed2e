"""The ticketing group's view of events: a mirror kept from ``event.*`` events, read through to the events group.

The SPA creates an event and at once its ticket types, usually before ``event.created`` has reached us. So when the
mirror has no such event, we ask the events group (``GET events.<HOST>/{eventId}`` with the caller's token, which
also keeps drafts private) and seed the mirror with what it answers; the domain events then catch it up. The seed
carries sequence 0, so every real event is newer than it.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runtime import Mirror

from functions.ticketing import model

TERMINAL = ("CANCELLED", "COMPLETED")
STATUS_OF = {"event.published": "PUBLISHED", "event.cancelled": "CANCELLED", "event.completed": "COMPLETED"}


def event_state(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """What the mirror keeps of an ``event.*`` (the events group's field names are not ours: name → title)."""
    state = {"status": data.get("status") or STATUS_OF.get(event_type)}
    if event_type in ("event.created", "event.updated", "event.published"):
        state.update(creatorId=data.get("creatorId"), collaboratorIds=data.get("collaboratorIds"),
                     title=data.get("name"), date=data.get("date"))
    return state


EVENTS = Mirror(model.EVENTS, event_state, id_field="eventId")


def find_event(ctx, event_id: str, *, read_through: bool = True) -> dict[str, Any] | None:
    """The mirror's copy of the event (a tombstone included); read through when it does not know who organizes
    it yet (no ``event.created`` so far) unless ``read_through`` is off."""
    doc = ctx.db[model.EVENTS].find_one({"_id": event_id})
    if not read_through or (doc is not None and (doc.get("creatorId") or doc.get("deleted"))):
        return doc
    fetched = ctx.ask("events", "/{}", event_id, as_caller=True)
    if fetched is None:
        return doc
    organizers = {"creatorId": fetched.get("creatorId"), "collaboratorIds": fetched.get("collaboratorIds") or []}
    if doc is not None:  # an event.updated arrived before event.created: fill in who organizes it
        ctx.db[model.EVENTS].update_one({"_id": event_id, "creatorId": {"$exists": False}}, {"$set": organizers})
        return ctx.db[model.EVENTS].find_one({"_id": event_id})
    return EVENTS.seed(ctx, event_id, {**organizers, "status": fetched.get("status"), "date": fetched.get("date"),
                                       "title": fetched.get("title"), "source": "read-through"})
