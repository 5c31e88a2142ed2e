"""GET chat.<HOST>/users/{userId}/unread/count: the caller's unread messages over all their conversations (the
SPA's chat badge): Σ sent(other) - read(me), each term never negative."""
from runtime import Response, entry_points, function, http

from functions.chat import access, model


@function("chat-unread-count", http("GET", "/users/{userId}/unread/count"), auth="required", indexes=model.INDEXES)
def main(event, ctx):
    me = access.caller(ctx)
    access.read_query(ctx)
    conversations = ctx.db[model.CONVERSATIONS].find({"participants": me}, {"participants": 1, "sent": 1, "read": 1})
    return Response(200, {"unreadCount": sum(model.unread(doc, me) for doc in conversations)})


handle, new = entry_points(main)
