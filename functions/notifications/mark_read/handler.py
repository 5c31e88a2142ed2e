"""POST notifications.<HOST>/{id}: mark one of the caller's notifications read.

404 for an unknown id and for someone else's notification alike (the reference marked anyone's, and answered
success for ids that do not exist); marking a read notification again succeeds and changes nothing.
"""
from runtime import NotFound, Response, entry_points, function, http

from functions.notifications import model

DONE = {"success": True, "message": "Notification marked as read"}


@function("notifications-mark-read", http("POST", "/{id}"), auth="required", indexes=model.INDEXES)
def main(event, ctx):
    notification_id = ctx.http.path_params["id"]
    mine = {"_id": notification_id, "userId": ctx.principal.user_id}
    found = ctx.db[model.NOTIFICATIONS].update_one({**mine, "read": False},
                                                   {"$set": {"read": True, "updatedAt": ctx.now}})
    if found.matched_count == 0 and ctx.db[model.NOTIFICATIONS].count_documents(mine, limit=1) == 0:
        raise NotFound(f"Notification {notification_id} not found")
    return Response(200, DONE)


handle, new = entry_points(main)
