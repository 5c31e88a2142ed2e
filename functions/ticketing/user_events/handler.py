"""GET ticketing.<HOST>/users/{userId}/events: the events the caller holds tickets for (ids, as the SPA reads).

``status`` (PUBLISHED, COMPLETED or CANCELLED; comma-separated allowed) filters on the mirror; ``order`` asc|desc
sorts by event date (then id, so pages are stable); events missing from the mirror are left out.
"""
from runtime import Response, entry_points, function, http, query_int, query_offset

from functions.ticketing import model

MAX_LIMIT = 100
STATUSES = ("PUBLISHED", "COMPLETED", "CANCELLED")


@function("ticketing-user-events", http("GET", "/users/{userId}/events"), auth="required", indexes=model.INDEXES)
def main(event, ctx):
    user_id = model.same_user(ctx, ctx.http.path_params["userId"])
    limit = query_int(ctx.http, "limit", 20, minimum=1, maximum=MAX_LIMIT)
    offset = query_offset(ctx.http)
    statuses = [s.strip().upper() for s in (ctx.http.query_one("status") or "").split(",") if s.strip()]
    bad = [s for s in statuses if s not in STATUSES]
    if bad:
        raise model.invalid("status", f"one of {', '.join(STATUSES)}", f"Unknown status {bad[0]}.")
    order = (ctx.http.query_one("order") or "asc").lower()
    if order not in ("asc", "desc"):
        raise model.invalid("order", "asc or desc", "order must be asc or desc.")
    event_ids = ctx.db[model.TICKETS].distinct("eventId", {"userId": user_id})
    query = {"_id": {"$in": event_ids}, "deleted": {"$ne": True}}
    if statuses:
        query["status"] = {"$in": statuses}
    else:
        query["status"] = {"$in": list(STATUSES)}
    events = list(ctx.db[model.EVENTS].find(query, {"date": 1}))
    events.sort(key=lambda e: (e.get("date") or "", e["_id"]), reverse=order == "desc")
    items = [e["_id"] for e in events[offset:offset + limit]]
    return Response(200, {"items": items, "totalItems": len(events), "limit": limit, "offset": offset,
                          "hasMore": offset + len(items) < len(events)})


handle, new = entry_points(main)
