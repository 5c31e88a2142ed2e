"""GET notifications.<HOST>/users/{userId}/is-online: whether the user has a socket on any live replica.

Any authenticated caller may ask (the chat header shows its peer's presence). Read from the presence the Socket.IO
service's replicas share (functions/notifications/presence.py), not from one process's memory.
"""
from runtime import Response, entry_points, function, http

from functions.notifications import presence


@function("notifications-is-online", http("GET", "/users/{userId}/is-online"), auth="required")
def main(event, ctx):
    user_id = ctx.http.path_params["userId"]
    return Response(200, {"userId": user_id, "isOnline": presence.is_online(ctx.db, user_id, ctx.now)})


handle, new = entry_points(main)
