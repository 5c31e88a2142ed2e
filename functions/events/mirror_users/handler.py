"""Keeps the events group's mirror of users (role, name, avatar) from ``user.*`` events, and cascades deletions.

Deliveries are at least once and in any order. Each event carries the user's version as its ``sequence``; the
mirror applies an event only if it is newer than what it holds, and a deletion leaves a tombstone so a late
``user.created`` cannot resurrect the user. Duplicates and stale events are acknowledged and change nothing.

A deleted user's events follow (docs/events.md): their PUBLISHED events are cancelled (``event.cancelled``, so
tickets are refunded), their drafts deleted (``event.deleted``), their COMPLETED and CANCELLED events kept as
history; they are removed from the collaborators of other events (``event.updated``). Each of those is one
commit under a key derived from the delivery and the event, so a redelivery, or a duplicated ``user.deleted``,
finishes what is left and repeats nothing.
"""
from runtime import ACCEPTED, Conflict, Mirror, entry_points, function, on_event

from functions.events import model

USERS = Mirror(model.USERS, lambda event_type, data: {"role": data["role"], "name": data["name"],
                                                      "avatar": data["avatar"]},
               forget=("role", "name", "avatar"))


@function("events-mirror-users", on_event("user.created", "user.updated", "user.deleted"), timeout_seconds=30,
          emits=["event.cancelled", "event.deleted", "event.updated"], indexes=model.INDEXES)
def main(event, ctx):
    USERS.apply(ctx, event)  # False: stale or a duplicate, which changes nothing
    if event.get_type() == "user.deleted":
        cascade_deletion(ctx, event.get_data()["id"])
    return ACCEPTED


def cascade_deletion(ctx, user_id: str) -> None:
    events, missed = ctx.db[model.EVENTS], 0
    for doc in events.find({"creatorId": user_id, "status": {"$in": ["PUBLISHED", "DRAFT"]}}):
        version = doc["_version"] + 1
        if doc["status"] == "PUBLISHED":
            update = {"$set": {"status": "CANCELLED"}, "$inc": {"_version": 1}}
            emit = model.id_event("event.cancelled", {**doc, "_version": version})
        else:
            update = model.tombstone_update(ctx.now)
            emit = model.id_event("event.deleted", {**doc, "_version": version})
        missed += _commit_one(ctx, doc, update, emit)
    for doc in events.find({"collaboratorIds": user_id, "status": {"$ne": model.DELETED}}):
        after = {**doc, "collaboratorIds": [c for c in doc["collaboratorIds"] if c != user_id],
                 "_version": doc["_version"] + 1}
        missed += _commit_one(ctx, doc, {"$pull": {"collaboratorIds": user_id}, "$inc": {"_version": 1}},
                              model.updated_event(after))
    if missed:  # an event changed under us: the redelivery finishes the cascade
        raise Conflict(f"{missed} of the user's events changed during the cascade; retrying.", code="cascade_retry")


def _commit_one(ctx, doc, update, emit) -> int:
    done = ctx.scoped(doc["_id"]).commit(model.EVENTS, {"_id": doc["_id"], "_version": doc["_version"]}, update,
                                         reply=ACCEPTED, emit=[emit])
    return int(done is None)


handle, new = entry_points(main)
