"""Keeps ticketing's mirror of users' languages (PDF labels, Stripe's checkout message) from ``user.*`` events.

Newer sequences win; a deletion leaves a tombstone so a late ``user.created`` cannot bring the user back. Unknown
languages fall back to English where they are used.
"""
from runtime.contract import ACCEPTED, function, on_event
from runtime.errors import BadRequest

from functions.ticketing import model


@function("ticketing-mirror-users", on_event("user.created", "user.updated", "user.deleted"))
def main(event, ctx):
    data = event.get_data() or {}
    try:
        sequence = int(event.get_extension("sequence"))
        user_id = data["id"]
    except (TypeError, ValueError, KeyError):
        raise BadRequest("user events need data.id and an integer sequence extension", code="invalid_event") from None
    if event.get_type() == "user.deleted":
        update = {"$set": {"deleted": True, "_seq": sequence}, "$unset": {"language": ""}}
    else:
        update = {"$set": {"language": data.get("language") or "en", "deleted": False, "_seq": sequence}}
    newer = {"_id": user_id, "$or": [{"_seq": {"$lt": sequence}}, {"_seq": {"$exists": False}}]}
    ctx.commit(model.USERS, newer, update, upsert=True, reply=ACCEPTED)  # None: stale or duplicate
    return ACCEPTED


handle, new = main.handle, main.new
