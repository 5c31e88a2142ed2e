"""GET interactions.<HOST>/users/{userId}/participations: the events a user takes part in, as the SPA's profile
and review dialog filter them: ``eventStatus`` (one or more of DRAFT, PUBLISHED, COMPLETED, CANCELLED,
comma-separated), ``organizationId`` (its creator or a collaborator), ``title`` (substring of the event's name,
case-insensitive), ``reviewed`` (true/false), ``order`` (asc/desc by when the user started taking part; desc by
default). Items ``{eventId, reviewed, createdAt}``. The user must exist (404); bad parameters are 400.
"""
from runtime import Response, entry_points, function, http, iso

from functions.interactions import mirror, model, paging, participations


@function("interactions-user-participations", http("GET", "/users/{userId}/participations"),
          indexes=model.INDEXES)
def main(event, ctx):
    query = paging.Query(ctx.http)
    window, statuses = query.window(), query.choices("eventStatus", model.STATUSES)
    reviewed, order = query.choice("reviewed", ("true", "false")), query.choice("order", ("asc", "desc"), "desc")
    organization_id = query.text("organizationId", model.MAX_ID_LENGTH)
    title = query.text("title", model.MAX_TITLE_LENGTH)
    query.check()
    user_id = mirror.require_user(ctx, ctx.http.path_params["userId"])["_id"]
    events = participations.event_filter(statuses, organization_id, title)
    mine = participations.user_query(ctx, user_id, events, None if reviewed is None else reviewed == "true")
    direction = 1 if order == "asc" else -1
    docs, total = paging.find_page(ctx.db[model.PARTICIPATIONS], mine, [("createdAt", direction), ("_id", direction)],
                                   window, {"eventId": 1, "createdAt": 1})
    written = set(ctx.db[model.REVIEWS].distinct("eventId", {
        "userId": user_id, "active": True, "eventId": {"$in": [d["eventId"] for d in docs]}}))
    items = [{"eventId": d["eventId"], "reviewed": d["eventId"] in written, "createdAt": iso(d["createdAt"])}
             for d in docs]
    return Response(200, paging.page(items, total, window))


handle, new = entry_points(main)
