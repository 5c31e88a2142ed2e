"""Keeps the users mirror (name, username, avatar, role) from ``user.*`` and cascades a user's deletion.

Newer sequences win, a deletion leaves a tombstone (``runtime.Mirror``). ``user.deleted`` then removes the user's
likes, follows both ways, reviews and participations (``cascade.py``), one commit each; a redelivery or a
duplicated ``user.deleted`` finishes what is left and repeats nothing. A document that changed under the cascade
answers 409 ``cascade_retry``, so the broker redelivers.
"""
from runtime import ACCEPTED, entry_points, function, on_event

from functions.interactions import cascade, mirror, model


@function("interactions-mirror-users", on_event("user.created", "user.updated", "user.deleted"), timeout_seconds=30,
          emits=["interactions.like.deleted", "interactions.follow.deleted"], indexes=model.INDEXES)
def main(event, ctx):
    mirror.USERS.apply(ctx, event)  # False: stale or a duplicate, which changes nothing
    if event.get_type() == "user.deleted":
        cascade.require_done(cascade.remove_user(ctx, event.get_data()["id"]), "user's")
    return ACCEPTED


handle, new = entry_points(main)
