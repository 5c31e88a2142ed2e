"""Keeps the chat group's mirror of users (role, name, avatar) from ``user.*`` events.

Newer sequences win; a deletion leaves a tombstone (name and avatar dropped) so a late ``user.created`` cannot
bring the user back. Conversations and messages stay: the deleted user shows as "Unknown User" and can no longer
send; the other side keeps the history.
"""
from runtime import ACCEPTED, entry_points, function, on_event

from functions.chat import directory, model


@function("chat-mirror-users", on_event("user.created", "user.updated", "user.deleted"), indexes=model.INDEXES)
def main(event, ctx):
    directory.USERS.apply(ctx, event)  # False: stale or a duplicate, which changes nothing
    return ACCEPTED


handle, new = entry_points(main)
