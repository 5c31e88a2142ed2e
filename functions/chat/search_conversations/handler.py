"""GET chat.<HOST>/users/{userId}/conversations/search: the caller's matching conversations, then people of the
opposite role to start one with (``id: null``); see functions/chat/search.py."""
from runtime import entry_points, function, http

from functions.chat import access, model, search


@function("chat-search-conversations", http("GET", "/users/{userId}/conversations/search"), auth="required",
          indexes=model.INDEXES)
def main(event, ctx):
    return search.search(ctx, access.caller(ctx))


handle, new = entry_points(main)
