"""GET chat.<HOST>/users/{userId}/conversations: the caller's conversations, newest activity first (then id),
each with both sides' current names, the last message and the caller's unread count."""
from runtime import Response, entry_points, function, http

from functions.chat import access, directory, model


@function("chat-list-conversations", http("GET", "/users/{userId}/conversations"), auth="required",
          indexes=model.INDEXES)
def main(event, ctx):
    me = access.caller(ctx)
    query = access.read_query(ctx, default_limit=access.DEFAULT_LIMIT)
    conversations = ctx.db[model.CONVERSATIONS]
    mine = {"participants": me}
    docs = list(conversations.find(mine, model.CONVERSATION_FIELDS).sort([("updatedAt", -1), ("_id", -1)])
                .skip(query.offset).limit(query.limit))
    people = directory.chat_users(ctx, [p for doc in docs for p in doc["participants"]])
    items = [model.conversation_view(doc, me, people) for doc in docs]
    return Response(200, model.page(items, conversations.count_documents(mine), query.limit, query.offset))


handle, new = entry_points(main)
