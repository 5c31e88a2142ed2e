"""Keeps ticketing's mirror of users' languages (PDF labels, Stripe's checkout message) from ``user.*`` events.

Newer sequences win; a deletion leaves a tombstone so a late ``user.created`` cannot bring the user back. Unknown
languages fall back to English where they are used.
"""
from runtime import ACCEPTED, Mirror, entry_points, function, on_event

from functions.ticketing import model

LANGUAGES = Mirror(model.USERS, lambda event_type, data: {"language": data.get("language") or "en"},
                   forget=("language",))


@function("ticketing-mirror-users", on_event("user.created", "user.updated", "user.deleted"), indexes=model.INDEXES)
def main(event, ctx):
    LANGUAGES.apply(ctx, event)  # False: stale or a duplicate, which changes nothing
    return ACCEPTED


handle, new = entry_points(main)
