"""Keeps ticketing's mirror of users' languages (PDF labels, Stripe's checkout message) from ``user.*`` events.

Newer sequences win; a deletion leaves a tombstone so a late ``user.created`` cannot bring the user back. Unknown
languages fall back to English where they are used.
"""
from runtime import ordering
from runtime.contract import ACCEPTED, function, on_event
from runtime.errors import BadRequest

from functions.ticketing import model


@function("ticketing-mirror-users", on_event("user.created", "user.updated", "user.deleted"))
def main(event, ctx):
    data = event.get_data() or {}
    sequence = ordering.sequence_of(event)
    user_id = data.get("id")
    if not user_id:
        raise BadRequest("user events need data.id", code="invalid_event")
    if event.get_type() == "user.deleted":
        update = {"$set": {"deleted": True, "_seq": sequence}, "$unset": {"language": ""}}
    else:
        update = {"$set": {"language": data.get("language") or "en", "deleted": False, "_seq": sequence}}
    ctx.commit(model.USERS, ordering.newer(user_id, sequence), update, upsert=True, reply=ACCEPTED)  # None: stale or duplicate
    return ACCEPTED


handle, new = main.handle, main.new
