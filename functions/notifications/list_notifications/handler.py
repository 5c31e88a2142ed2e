"""GET notifications.<HOST>/: the caller's notifications, newest first, in the reference's nested shape.

``{notifications: {notifications: [...], total, limit, offset, hasMore}}`` (the SPA reads the nested form).
``limit`` 1..100 (default 20), ``offset`` 0..10000, ``unreadOnly`` true/false/1/0: anything else is a 400. Unlike
the reference, reading does not mark anything read (a GET changes nothing; the SPA calls ``POST /read-all``).
"""
from runtime import Response, entry_points, function, http

from functions.notifications import model


@function("notifications-list-notifications", http("GET", "/"), auth="required", indexes=model.INDEXES)
def main(event, ctx):
    limit = model.int_param(ctx.http, "limit", 20, 1, model.MAX_LIMIT)
    offset = model.int_param(ctx.http, "offset", 0, 0, model.MAX_OFFSET)
    query = {"userId": ctx.principal.user_id}
    if model.bool_param(ctx.http, "unreadOnly"):
        query["read"] = False
    notifications = ctx.db[model.NOTIFICATIONS]
    total = notifications.count_documents(query)
    docs = notifications.find(query).sort([("createdAt", -1), ("_id", -1)]).skip(offset).limit(limit)
    items = [model.view(doc) for doc in docs]
    return Response(200, {"notifications": {"notifications": items, "total": total, "limit": limit,
                                            "offset": offset, "hasMore": offset + len(items) < total}})


handle, new = entry_points(main)
