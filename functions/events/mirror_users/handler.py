"""Keeps the events group's mirror of users (role, name, avatar) from ``user.*`` events.

Deliveries are at least once and in any order. Each event carries the user's version as its ``sequence``; the
mirror applies an event only if it is newer than what it holds, and a deletion leaves a tombstone so a late
``user.created`` cannot resurrect the user. Duplicates and stale events are acknowledged and change nothing.
"""
from runtime.contract import ACCEPTED, function, on_event
from runtime.errors import BadRequest

from functions.events import model


@function("events-mirror-users", on_event("user.created", "user.updated", "user.deleted"))
def main(event, ctx):
    data = event.get_data() or {}
    try:
        sequence = int(event.get_extension("sequence"))
        user_id = data["id"]
    except (TypeError, ValueError, KeyError):
        raise BadRequest("user events need data.id and an integer sequence extension", code="invalid_event")
    if event.get_type() == "user.deleted":
        state = {"deleted": True, "_seq": sequence}
        unset = {"role": "", "name": "", "avatar": ""}
    else:
        state = {"role": data["role"], "name": data["name"], "avatar": data["avatar"], "deleted": False,
                 "_seq": sequence}
        unset = {}
    update = {"$set": state, **({"$unset": unset} if unset else {})}
    newer = {"_id": user_id, "$or": [{"_seq": {"$lt": sequence}}, {"_seq": {"$exists": False}}]}
    ctx.commit(model.USERS, newer, update, upsert=True, reply=ACCEPTED)  # None: stale or duplicate, ignore
    return ACCEPTED


handle, new = main.handle, main.new
