"""GET notifications.<HOST>/unread-count: ``{count}`` of the caller's unread notifications."""
from runtime import Response, entry_points, function, http

from functions.notifications import model


@function("notifications-unread-count", http("GET", "/unread-count"), auth="required", indexes=model.INDEXES)
def main(event, ctx):
    count = ctx.db[model.NOTIFICATIONS].count_documents({"userId": ctx.principal.user_id, "read": False})
    return Response(200, {"count": count})


handle, new = entry_points(main)
