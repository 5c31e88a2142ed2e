"""GET chat.<HOST>/conversations/{organizationId}/{userId}/messages: the messages of the caller's conversation
with the other user, as ``.../conversations/{conversationId}/messages`` answers them (and marking read for the
caller, who must be one of the two: 403 otherwise; 404 when they have no conversation)."""
from runtime import entry_points, function, http

from functions.chat import access, model, reading


@function("chat-pair-messages", http("GET", "/conversations/{organizationId}/{userId}/messages"), auth="required",
          indexes=model.INDEXES)
def main(event, ctx):
    me, conversation = access.pair_conversation(ctx)
    return reading.messages_page(ctx, conversation, me)


handle, new = entry_points(main)
