"""POST notifications.<HOST>/read-all: mark every one of the caller's notifications read.

One ``update_many`` rather than a commit per notification: the flag only ever goes from unread to read and emits
nothing, so a retry or a concurrent call converges on the same state (docs/notifications.md).
"""
from runtime import Response, entry_points, function, http

from functions.notifications import model

DONE = {"success": True, "message": "All notifications marked as read"}


@function("notifications-read-all", http("POST", "/read-all"), auth="required", indexes=model.INDEXES)
def main(event, ctx):
    ctx.db[model.NOTIFICATIONS].update_many({"userId": ctx.principal.user_id, "read": False},
                                            {"$set": {"read": True, "updatedAt": ctx.now}})
    return Response(200, DONE)


handle, new = entry_points(main)
