"""PATCH chat.<HOST>/users/{userId}/conversations/{conversationId}/read: the caller has read the conversation as
far as it stands now (204). The marker only moves forward, so a replay or a late retry changes nothing."""
from runtime import Response, entry_points, function, http, parse

from functions.chat import access, model, reading


def read_mark(event, ctx) -> dict:
    me = access.caller(ctx)
    access.read_query(ctx)
    if event.get_data() is not None:  # the SPA sends {}
        parse(model.NoBody, event.get_data())
    return access.conversation_of(ctx, ctx.http.path_params["conversationId"], me)


@function("chat-mark-read", http("PATCH", "/users/{userId}/conversations/{conversationId}/read"), auth="required",
          body=read_mark, request=model.NoBody, indexes=model.INDEXES)
def main(event, ctx):
    reading.mark_read(ctx, ctx.input, ctx.principal.user_id)
    return Response(204)


handle, new = entry_points(main)
