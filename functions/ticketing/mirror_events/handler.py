"""Keeps ticketing's mirror of events (creator, collaborators, status, date, title) from ``event.*`` events.

Deliveries are at least once and in any order: newer sequences win, duplicates and stale events are acknowledged
and change nothing (``runtime.Mirror``); an event without a ``sequence`` is refused (dead-lettered). The mirror
gates checkout: only PUBLISHED events that have not started sell tickets.

``event.deleted`` also deletes the event's ticket types, each with ``ticket-type.deleted`` (one commit per type,
keyed on this delivery and the type); a redelivery or a duplicated ``event.deleted`` finds nothing left to delete.
"""
from runtime import ACCEPTED, entry_points, function, on_event

from functions.ticketing import mirror, model

TYPES = ("event.created", "event.updated", "event.published", "event.cancelled", "event.completed", "event.deleted")


@function("ticketing-mirror-events", on_event(*TYPES), emits=["ticket-type.deleted"], indexes=model.INDEXES)
def main(event, ctx):
    mirror.EVENTS.apply(ctx, event)  # False: stale or a duplicate, which changes nothing
    if event.get_type() == "event.deleted":
        delete_ticket_types(ctx, event.get_data()["eventId"])
    return ACCEPTED


def delete_ticket_types(ctx, event_id: str) -> None:
    """Tombstones every ticket type of a deleted event, sold or not (the events group deletes only drafts and
    cancelled or completed events: nothing is on sale any more; orders and tickets stay as they are)."""
    types = ctx.db[model.TICKET_TYPES]
    for doc in list(types.find({"eventId": event_id, "deleted": {"$ne": True}}).sort([("_id", 1)])):
        update, deleted = model.ticket_type_deletion(doc, ctx.now)
        ctx.scoped(doc["_id"]).commit(model.TICKET_TYPES, {"_id": doc["_id"], "deleted": {"$ne": True}}, update,
                                      reply=ACCEPTED, emit=[deleted])


handle, new = entry_points(main)
