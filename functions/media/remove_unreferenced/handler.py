"""Removes the objects nothing points at any more, from the domain events, idempotently:

- ``user.updated``: every object under ``users/{id}/`` but the avatar the user now has (a replaced avatar of another
  type, a reset to the default);
- ``user.deleted``: every object under ``users/{id}/``;
- ``event.deleted``: every object under ``events/{id}/`` (the poster).

Only objects written before the event are removed (with a margin for the second-precision ``LastModified`` and the
clocks of two machines): an upload racing the event keeps its object. The users mirror (``model.AVATARS``) applies
only the newest ``user.*`` of a user, so a late, older ``user.updated`` removes nothing. Deleting what is already
gone is fine, so a redelivery repeats harmlessly.
"""
from datetime import timedelta

from runtime import ACCEPTED, entry_points, function, on_event, storage_from_config

from functions.media import model
from functions.media.upload_file.handler import SECRETS

WRITTEN_BEFORE_MARGIN = timedelta(seconds=2)


@function("media-remove-unreferenced", on_event("user.updated", "user.deleted", "event.deleted"),
          secrets=SECRETS, timeout_seconds=30)
def main(event, ctx):
    data, kind = ctx.input, event.get_type()
    storage = storage_from_config(ctx.config)
    if kind == "event.deleted":
        prefix, keep = f"events/{data['eventId']}/", None
    else:
        if not model.AVATARS.apply(ctx, event):  # stale or a duplicate: a newer state already decided
            return ACCEPTED
        prefix = f"users/{data['id']}/"
        keep = storage.key_of(data["avatar"]) if kind == "user.updated" else None
    cutoff = event.get_time() - WRITTEN_BEFORE_MARGIN
    for key, written in storage.listing(prefix):
        if key != keep and written < cutoff:
            storage.delete(key)
            ctx.log.info("removed an unreferenced media object", fields={"key": key})
    return ACCEPTED


handle, new = entry_points(main)
