"""GET chat.<HOST>/conversations/{organizationId}/{userId}: the caller's conversation with the other user, as the
SPA opens a chat from a profile: ``{id, organization, member, createdAt, updatedAt}``. The caller must be one of
the two (403); either order of the ids finds it; 404 when they have none yet."""
from runtime import Response, entry_points, function, http

from functions.chat import access, directory, model


@function("chat-find-conversation", http("GET", "/conversations/{organizationId}/{userId}"), auth="required",
          indexes=model.INDEXES)
def main(event, ctx):
    _, conversation = access.pair_conversation(ctx)
    access.read_query(ctx)
    people = directory.chat_users(ctx, conversation["participants"])
    return Response(200, model.pair_view(conversation, people))


handle, new = entry_points(main)
