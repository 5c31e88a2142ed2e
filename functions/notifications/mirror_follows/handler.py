"""``interactions.follow.created`` / ``.deleted`` → the follow mirror, and a ``follow`` notification.

The mirror is keyed by the pair and ordered by the pair's version (the ``sequence`` the interactions group stamps):
newest wins, an unfollow leaves a tombstone, so duplicates and reordering change nothing (the reference errored on
both). A follow notifies the followed user only if, once applied, it is the pair's current state: a follow
overtaken by a later unfollow stores nothing. Pairs with a deleted user are not mirrored; self-follows are ignored.
"""
from runtime import ACCEPTED, entry_points, function, on_event, sequence_of

from functions.notifications import model
from functions.notifications.push import REQUIREMENTS, push_stored


@function("notifications-mirror-follows", on_event("interactions.follow.created", "interactions.follow.deleted"),
          requirements=REQUIREMENTS, body=model.needs("followerId", "followedId"), indexes=model.INDEXES)
def main(event, ctx):
    data, sequence = ctx.input, sequence_of(event)
    follower, followed = data["followerId"], data["followedId"]
    pair = model.follow_id(follower, followed)
    if follower == followed or model.gone(ctx.db, f"user:{follower}", f"user:{followed}"):
        return ACCEPTED
    if event.get_type().endswith(".deleted"):
        model.FOLLOW_MIRROR.delete(ctx, pair, sequence)
        # An unfollow that overtook its follow leaves a tombstone: it names its pair too (user deletions find it).
        ctx.db[model.FOLLOWS].update_one({"_id": pair}, {"$set": {"followerId": follower, "followedId": followed}})
        return ACCEPTED
    model.FOLLOW_MIRROR.copy(ctx, pair, sequence, {"followerId": follower, "followedId": followed})
    current = ctx.db[model.FOLLOWS].find_one({"_id": pair, "deleted": False, "_seq": sequence}, {"_id": 1})
    if current is not None:
        meta = {"followerId": follower, "followerName": data.get("followerName", ""),
                "followerAvatar": data.get("followerAvatar", "")}
        doc = model.notification(model.cause_of(event), followed, "follow", meta, follower, ctx.now)
        push_stored(ctx, model.store(ctx.db, [doc]))
    return ACCEPTED


handle, new = entry_points(main)
