"""``user.deleted`` → what no longer makes sense goes: the user's own notifications, the ones they caused (their
likes, reviews, follows, events' announcements), and their follow pairs. A tombstone keeps late events about them
from storing anything again (the reference kept everything forever)."""
from runtime import ACCEPTED, entry_points, function, on_event

from functions.notifications import model


@function("notifications-forget-user", on_event("user.deleted"), body=model.needs("id"), indexes=model.INDEXES)
def main(event, ctx):
    user_id = ctx.input["id"]
    ctx.commit(model.GONE, {"_id": f"user:{user_id}"}, {"$set": {"at": ctx.now}}, upsert=True, reply=ACCEPTED)
    ctx.purge(model.NOTIFICATIONS, {"$or": [{"userId": user_id}, {"actorId": user_id}]})
    ctx.purge(model.FOLLOWS, {"$or": [{"followerId": user_id}, {"followedId": user_id}]})
    return ACCEPTED


handle, new = entry_points(main)
