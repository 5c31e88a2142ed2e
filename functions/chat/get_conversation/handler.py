"""GET chat.<HOST>/users/{userId}/conversations/{conversationId}: one of the caller's conversations (404 for an
unknown one and for other people's alike).

``.../conversations/search`` has a route of its own; where a gateway gives regular-expression routes no defined
precedence (Gateway API leaves it to the implementation), that path may land here, so it is answered as search.
"""
from runtime import Response, entry_points, function, http

from functions.chat import access, directory, model, search

SEARCH = "search"  # never a conversation id (those are conv_<uuid>)


@function("chat-get-conversation", http("GET", "/users/{userId}/conversations/{conversationId}"), auth="required",
          indexes=model.INDEXES)
def main(event, ctx):
    me = access.caller(ctx)
    if ctx.http.path_params["conversationId"] == SEARCH:
        return search.search(ctx, me)
    access.read_query(ctx)
    conversation = access.conversation_of(ctx, ctx.http.path_params["conversationId"], me)
    people = directory.chat_users(ctx, conversation["participants"])
    return Response(200, model.conversation_view(conversation, me, people))


handle, new = entry_points(main)
