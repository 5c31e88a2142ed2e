"""POST chat.<HOST>/users/{userId}/conversations/{conversationId}/messages: the caller writes in a conversation
they take part in (404 otherwise, as for an unknown one). A deleted account can no longer send (403)."""
from runtime import entry_points, function, http, parse

from functions.chat import access, directory, messaging, model


def read_send(event, ctx) -> messaging.Outgoing:
    me = access.caller(ctx)
    access.read_query(ctx)
    fields = parse(model.NewMessage, event.get_data())
    conversation = access.conversation_of(ctx, ctx.http.path_params["conversationId"], me)
    sender = directory.require_sender(ctx)
    return messaging.Outgoing(conversation_id=conversation["_id"],
                              recipient_id=model.other_participant(conversation, me), content=fields.content,
                              sender=sender)


@function("chat-send-message", http("POST", "/users/{userId}/conversations/{conversationId}/messages"),
          auth="required", emits=["chat.message.created"], body=read_send, request=model.NewMessage,
          indexes=model.INDEXES)
def main(event, ctx):
    return messaging.send(ctx, ctx.input)


handle, new = entry_points(main)
