"""Scheduled every minute: PUBLISHED events whose date has come become COMPLETED (``event.completed``).

The reference completed events lazily on reads, so an event nobody read stayed on sale. Here the tick's own
time is the clock (tests drive it). Each completion is its own commit under the key ``completed/<eventId>``,
whichever tick does it, so overlapping or repeated ticks emit one ``event.completed`` per event. The same tick
purges the tombstones of deleted events once their outbox is empty and their day of replays is over.
"""

from runtime import Response, entry_points, every, function, stored_date

from functions.events import model

BATCH = 200  # per tick; the next tick takes the rest


@function("events-complete-events", every("* * * * *"), emits=["event.completed"], timeout_seconds=30,
          indexes=model.INDEXES)
def main(event, ctx):
    now = stored_date(ctx.now)
    events = ctx.db[model.EVENTS]
    due = {"status": "PUBLISHED", "date": {"$lte": now}}
    completed = 0
    for doc in events.find(due, {"_version": 1}).sort([("date", 1), ("_id", 1)]).limit(BATCH):
        once = ctx.keyed(f"completed/{doc['_id']}")  # overlapping ticks complete it once
        done = once.commit(model.EVENTS, {"_id": doc["_id"], "_version": doc["_version"], **due},
                           {"$set": {"status": "COMPLETED", "completedAt": ctx.now}, "$inc": {"_version": 1}},
                           reply=Response(200), emit=[model.id_event("event.completed", {
                               "_id": doc["_id"], "_version": doc["_version"] + 1})])
        completed += done is not None  # None: edited meanwhile; the next tick sees it again
    purged = ctx.purge(model.EVENTS, {"status": model.DELETED, "deletedAt": {"$lt": ctx.now - model.TOMBSTONE_KEPT}})
    return Response(200, {"completed": completed, "purged": purged})


handle, new = entry_points(main)
