"""Who may act on an event, checked before the idempotency claim so a refused request writes nothing.

Only the creator edits, deletes or changes the poster; collaborators see drafts but change nothing. A draft
answers 404 to anyone else (its existence is private); a visible event of someone else answers 403. The
checks read the event but never decide on its status: status rules run after the claim, against the document
the commit is conditional on, so a retried request still replays its first reply after the status moved on.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runtime import Conflict, Emit, Forbidden, NotFound, Response

from . import model

ATTEMPTS = 5  # optimistic updates retried on a concurrent change of the same event


@dataclass(frozen=True)
class Target:
    """The event a command acts on, as first read, plus the command's validated input."""

    event_id: str
    input: Any = None


def not_found(event_id: str) -> NotFound:
    return NotFound(f"Event with id {event_id} not found")


def owned_event(ctx, event_id: str) -> dict[str, Any]:
    """The event if the caller created it: 404 when missing or invisible to the caller, 403 otherwise."""
    caller = ctx.principal.user_id
    doc = ctx.db[model.EVENTS].find_one({"_id": event_id})
    if doc is None or (doc["status"] == model.DELETED and doc.get("creatorId") != caller):
        raise not_found(event_id)
    if doc["status"] != model.DELETED and not model.can_see(doc, caller):
        raise not_found(event_id)
    if doc["creatorId"] != caller:
        raise Forbidden("User is not authorized to update this event")
    return doc


def current(ctx, event_id: str) -> tuple[dict[str, Any] | None, Response | None]:
    """The event now, and the reply to replay if this invocation's key already committed on it."""
    doc = ctx.db[model.EVENTS].find_one({"_id": event_id})
    return doc, ctx.prior_reply(doc)


Plan = Callable[[dict[str, Any]], tuple[dict[str, Any], list[Emit], Response]]


def change(ctx, event_id: str, plan: Plan) -> Response:
    """Commit ``plan(event) -> (update, emit, reply)`` on the event's current version; a concurrent change of the
    same event re-reads and re-plans (``ATTEMPTS`` times). A replay answers the first commit's reply."""
    for _ in range(ATTEMPTS):
        doc, replay = current(ctx, event_id)
        if replay is not None:
            return replay
        if doc is None or doc["status"] == model.DELETED:
            raise not_found(event_id)
        update, emit, reply = plan(doc)
        done = ctx.commit(model.EVENTS, {"_id": event_id, "_version": doc["_version"]}, update, reply=reply,
                          emit=emit)
        if done is not None:
            return done
    raise Conflict("The event kept changing; try again.", code="concurrent_update")
