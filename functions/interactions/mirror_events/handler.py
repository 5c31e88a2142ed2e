"""Keeps the events mirror (creator, collaborators, status, name) from ``event.*`` and cascades a deletion.

Newer sequences win, a deletion leaves a tombstone (``runtime.Mirror``). The mirror decides what can be liked
(not drafts) and reviewed (COMPLETED events). ``event.deleted`` removes the event's likes, reviews and
participations (``cascade.py``), one commit each; a redelivery finishes what is left and repeats nothing.
"""
from runtime import ACCEPTED, entry_points, function, on_event

from functions.interactions import cascade, mirror, model

TYPES = ("event.created", "event.updated", "event.published", "event.cancelled", "event.completed", "event.deleted")


@function("interactions-mirror-events", on_event(*TYPES), timeout_seconds=30, emits=["interactions.like.deleted"],
          indexes=model.INDEXES)
def main(event, ctx):
    mirror.EVENTS.apply(ctx, event)  # False: stale or a duplicate, which changes nothing
    if event.get_type() == "event.deleted":
        cascade.require_done(cascade.remove_event(ctx, event.get_data()["eventId"]), "event's")
    return ACCEPTED


handle, new = entry_points(main)
