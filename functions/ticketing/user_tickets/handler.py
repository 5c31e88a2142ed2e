"""GET ticketing.<HOST>/users/{userId}/tickets: the caller's issued tickets, newest first (``eventId`` filter)."""
from runtime import Response, entry_points, function, http, query_int, query_offset

from functions.ticketing import model

MAX_LIMIT = 100


@function("ticketing-user-tickets", http("GET", "/users/{userId}/tickets"), auth="required", indexes=model.INDEXES)
def main(event, ctx):
    user_id = model.same_user(ctx, ctx.http.path_params["userId"])
    limit = query_int(ctx.http, "limit", 20, minimum=1, maximum=MAX_LIMIT)
    offset = query_offset(ctx.http)
    query = {"userId": user_id}
    if ctx.http.query_one("eventId"):
        query["eventId"] = ctx.http.query_one("eventId")
    tickets = ctx.db[model.TICKETS]
    total = tickets.count_documents(query)
    docs = tickets.find(query).sort([("purchaseDate", -1), ("_id", 1)]).skip(offset).limit(limit)
    items = [model.ticket_view(d) for d in docs]
    return Response(200, {"items": items, "totalItems": total, "limit": limit, "offset": offset,
                          "hasMore": offset + len(items) < total})


handle, new = entry_points(main)
