"""``interactions.like.created`` → a ``like`` notification for the event's creator, pushed if they are online.

A like of one's own event notifies nobody. The notification's id derives from the CloudEvent, so a redelivery
stores and pushes nothing more; a like of an event or by a user deleted meanwhile stores nothing.
"""
from runtime import ACCEPTED, entry_points, function, on_event

from functions.notifications import model
from functions.notifications.push import REQUIREMENTS, push_stored

KEYS = ("eventId", "eventName", "userId", "userName", "userAvatar")


@function("notifications-notify-like", on_event("interactions.like.created"), requirements=REQUIREMENTS,
          body=model.needs("creatorId", "eventId", "userId"), indexes=model.INDEXES)
def main(event, ctx):
    data = ctx.input
    creator, liker = data["creatorId"], data["userId"]
    if creator == liker or model.gone(ctx.db, f"event:{data['eventId']}", f"user:{creator}", f"user:{liker}"):
        return ACCEPTED
    doc = model.notification(model.cause_of(event), creator, "like", {k: data.get(k, "") for k in KEYS}, liker,
                             ctx.now)
    push_stored(ctx, model.store(ctx.db, [doc]))
    return ACCEPTED


handle, new = entry_points(main)
