"""``interactions.review.created`` → a ``review`` notification for the event's creator (collaborators are not
notified, as in the reference), pushed if they are online; idempotent by the CloudEvent's identity."""
from runtime import ACCEPTED, entry_points, function, on_event

from functions.notifications import model
from functions.notifications.push import REQUIREMENTS, push_stored

KEYS = ("eventId", "userId", "userName", "userAvatar")


@function("notifications-notify-review", on_event("interactions.review.created"), requirements=REQUIREMENTS,
          body=model.needs("creatorId", "eventId", "userId"), indexes=model.INDEXES)
def main(event, ctx):
    data = ctx.input
    creator, reviewer = data["creatorId"], data["userId"]
    if model.gone(ctx.db, f"event:{data['eventId']}", f"user:{creator}", f"user:{reviewer}"):
        return ACCEPTED
    doc = model.notification(model.cause_of(event), creator, "review", {k: data.get(k, "") for k in KEYS},
                             reviewer, ctx.now)
    push_stored(ctx, model.store(ctx.db, [doc]))
    return ACCEPTED


handle, new = entry_points(main)
