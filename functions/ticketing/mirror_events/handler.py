"""Keeps ticketing's mirror of events (creator, collaborators, status, date, title) from ``event.*`` events.

Deliveries are at least once and in any order: newer sequences win, duplicates and stale events are acknowledged
and change nothing (``functions.ticketing.mirror.apply``). The mirror gates checkout: only PUBLISHED events that
have not started sell tickets.
"""
from runtime.contract import ACCEPTED, function, on_event
from runtime.errors import BadRequest

from functions.ticketing import mirror

TYPES = ("event.created", "event.updated", "event.published", "event.cancelled", "event.completed", "event.deleted")


@function("ticketing-mirror-events", on_event(*TYPES))
def main(event, ctx):
    data = event.get_data() or {}
    if not data.get("eventId"):
        raise BadRequest("event.* events need data.eventId", code="invalid_event")
    raw = event.get_extension("sequence")
    try:
        sequence = int(raw) if raw is not None else None
    except (TypeError, ValueError):
        raise BadRequest("the sequence extension must be an integer", code="invalid_event") from None
    mirror.apply(ctx, event.get_type(), data, sequence)
    return ACCEPTED


handle, new = main.handle, main.new
