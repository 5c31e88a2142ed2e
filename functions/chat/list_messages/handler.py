"""GET chat.<HOST>/users/{userId}/conversations/{conversationId}/messages: a page of the conversation's messages,
newest first, to a participant only; reading marks the other's messages read for the caller (functions/chat/
reading.py)."""
from runtime import entry_points, function, http

from functions.chat import access, model, reading


@function("chat-list-messages", http("GET", "/users/{userId}/conversations/{conversationId}/messages"),
          auth="required", indexes=model.INDEXES)
def main(event, ctx):
    me = access.caller(ctx)
    conversation = access.conversation_of(ctx, ctx.http.path_params["conversationId"], me)
    return reading.messages_page(ctx, conversation, me)


handle, new = entry_points(main)
