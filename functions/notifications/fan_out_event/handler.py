"""``event.published`` → a ``new_event`` notification for every follower of the organization, pushed to those online.

Bounded and resumable (functions/notifications/fanout.py): batches of 500 in follower order, ids derived from the
event and the follower, a progress marker. It keeps no idempotency-ledger record (``state_changing=False``): it is
idempotent by construction, and a ledger lease held by a crashed walk would make the platform's redeliveries wait
it out (and dead-letter) instead of resuming at once. Collaborators' followers are not notified (the reference's
rule).
"""
from runtime import ACCEPTED, entry_points, function, on_event

from functions.notifications import model
from functions.notifications.fanout import fan_out
from functions.notifications.push import REQUIREMENTS


@function("notifications-fan-out-event", on_event("event.published"), state_changing=False, timeout_seconds=120,
          requirements=REQUIREMENTS, body=model.needs("eventId", "creatorId"), indexes=model.INDEXES)
def main(event, ctx):
    data = ctx.input
    if model.gone(ctx.db, f"event:{data['eventId']}", f"user:{data['creatorId']}"):
        return ACCEPTED
    done = fan_out(ctx, {"name": "", "creatorName": "", **data})
    ctx.log.info("fan-out walked", fields=done)
    return ACCEPTED


handle, new = entry_points(main)
