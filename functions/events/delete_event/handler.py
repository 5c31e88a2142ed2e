"""DELETE events.<HOST>/{eventId}: the creator removes an event.

A PUBLISHED event is cancelled instead (``event.cancelled``: tickets were on sale); a DRAFT, CANCELLED or
COMPLETED one is deleted (``event.deleted``): it leaves every read at once and its tombstone, which carries the
outbox and the receipt a retry replays, is purged a day later by ``events-complete-events``.
"""
from runtime.contract import Response, function, http
from runtime.errors import Conflict

from functions.events import access, model

DELETED = {"message": "Event deleted successfully"}


def read_target(event, ctx) -> access.Target:
    event_id = ctx.http.path_params["eventId"]
    access.owned_event(ctx, event_id)
    return access.Target(event_id)


@function("events-delete-event", http("DELETE", "/{eventId}"), auth="required", body=read_target,
          emits=["event.cancelled", "event.deleted"])
def main(event, ctx):
    event_id = ctx.input.event_id
    for _ in range(access.ATTEMPTS):
        doc, replay = access.current(ctx, event_id)
        if replay is not None:
            return replay
        if doc is None or doc["status"] == model.DELETED:
            raise access.not_found(event_id)
        if doc["status"] == "PUBLISHED":
            update = {"$set": {"status": "CANCELLED"}, "$inc": {"_version": 1}}
            emit = [model.id_event("event.cancelled", {**doc, "_version": doc["_version"] + 1})]
        else:
            update = model.tombstone_update(ctx.now)
            emit = [model.id_event("event.deleted", {**doc, "_version": doc["_version"] + 1})]
        done = ctx.commit(model.EVENTS, {"_id": event_id, "_version": doc["_version"]}, update,
                          reply=Response(200, DELETED), emit=emit)
        if done is not None:
            return done
    raise Conflict("The event kept changing; try again.", code="concurrent_update")


handle, new = main.handle, main.new
