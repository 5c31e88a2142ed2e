"""POST chat.<HOST>/users/{userId}/conversations: the caller writes a first message to ``recipientId``.

Member ↔ organization and organization ↔ organization, never member ↔ member (403). There is one conversation
per pair whichever side starts it: starting one that exists (or that the other side starts at the same moment)
posts into it. The recipient comes from the users mirror, read through to the users group when it is not there
yet; an unknown or deleted recipient is 404. Everything is checked before anything is written.
"""
from runtime import InvalidInput, entry_points, function, http, parse

from functions.chat import access, directory, messaging, model


def read_start(event, ctx) -> messaging.Outgoing:
    me = access.caller(ctx)
    access.read_query(ctx)
    fields = parse(model.NewConversation, event.get_data())
    sender = directory.require_sender(ctx)
    if fields.recipientId == me:
        raise InvalidInput("You cannot start a conversation with yourself.",
                           details=[{"field": "recipientId", "message": "is the caller"}])
    recipient = directory.require_recipient(ctx, fields.recipientId)
    organization_id, user_id = model.orientation(me, directory.caller_role(ctx), recipient["_id"],
                                                 recipient.get("role"))
    return messaging.Outgoing(conversation_id=model.conversation_id(me, recipient["_id"]),
                              recipient_id=recipient["_id"], content=fields.content, sender=sender,
                              opening=model.opening(organization_id, user_id, ctx.now))


@function("chat-start-conversation", http("POST", "/users/{userId}/conversations"), auth="required",
          emits=["chat.message.created"], body=read_start, request=model.NewConversation, indexes=model.INDEXES)
def main(event, ctx):
    return messaging.send(ctx, ctx.input)


handle, new = entry_points(main)
