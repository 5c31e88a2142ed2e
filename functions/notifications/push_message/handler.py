"""``chat.message.created`` → a ``message`` push to the receiver's and the sender's sockets. Nothing is stored
(the conversation is the chat group's); a lost push is only a missed live update."""
from runtime import ACCEPTED, entry_points, function, on_event

from functions.notifications import model
from functions.notifications.push import REQUIREMENTS, push


@function("notifications-push-message", on_event("chat.message.created"), requirements=REQUIREMENTS,
          body=model.needs("receiverId", "senderId", "conversationId", "messageId"))
def main(event, ctx):
    data = ctx.input
    payload = model.message_payload({"senderName": "", "message": "", "senderAvatar": "", "createdAt": "", **data})
    push(ctx, [(user_id, "message", payload) for user_id in model.unique((data["receiverId"], data["senderId"]))])
    return ACCEPTED


handle, new = entry_points(main)
