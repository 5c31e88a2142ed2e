"""The ``new_event`` fan-out: one notification per follower of the publishing organization, bounded and resumable.

The followers are walked in a stable order (by follower id) in batches of ``BATCH`` (500). Each batch is inserted
unordered with ids derived from the event and the follower (``model.store`` ignores the ones that exist), then
pushed (only what this walk inserted), then the progress marker ``fanouts.<eventId>.after`` moves past it
(``$max``: it never goes back). A walk that dies anywhere is resumed by the redelivery from the marker: the batch
it was in is inserted again, its existing notifications are skipped, so every follower ends with exactly one
notification and nobody is skipped. Memory and each step are bounded by the batch, whatever the follower count.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.notifications import model
from functions.notifications.push import push_stored

BATCH = 500  # NOTIFICATIONS_FANOUT_BATCH overrides it (the tests' MongoDB stand-in wants shorter commands)


def metadata(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"creatorId": data["creatorId"], "eventId": data["eventId"], "eventName": data["name"],
            "creatorName": data["creatorName"]}


def followers_after(db, followed_id: str, after: str, limit: int) -> list[str]:
    query = {"followedId": followed_id, "deleted": False, "followerId": {"$gt": after}}
    docs = db[model.FOLLOWS].find(query, {"followerId": 1}).sort([("followerId", 1)]).limit(limit)
    return [doc["followerId"] for doc in docs]


def fan_out(ctx, data: Mapping[str, Any], batch: int | None = None) -> dict[str, int]:
    """Notify every follower of ``data["creatorId"]`` of the event once; answers what this walk did."""
    db, event_id, creator = ctx.db, data["eventId"], data["creatorId"]
    batch = batch or max(1, ctx.config.get_int("NOTIFICATIONS_FANOUT_BATCH", BATCH))
    cause = f"event.published/{event_id}"  # one new_event per (event, follower), whichever delivery inserts it
    progress = db[model.FANOUTS].find_one({"_id": event_id}) or {}
    if progress.get("done"):
        return {"inserted": 0, "pushed": 0, "batches": 0}
    after, meta, done = progress.get("after", ""), metadata(data), {"inserted": 0, "pushed": 0, "batches": 0}
    while followers := followers_after(db, creator, after, batch):
        docs = [model.notification(cause, follower, "new_event", meta, creator, ctx.now)
                for follower in followers if follower != creator]
        inserted = model.store(db, docs)
        done["inserted"] += len(inserted)
        done["pushed"] += push_stored(ctx, inserted)
        done["batches"] += 1
        after = followers[-1]
        db[model.FANOUTS].update_one({"_id": event_id}, {"$max": {"after": after}, "$set": {"updatedAt": ctx.now}},
                                     upsert=True)
    db[model.FANOUTS].update_one({"_id": event_id}, {"$set": {"done": True, "updatedAt": ctx.now}}, upsert=True)
    return done
