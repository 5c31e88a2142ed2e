"""PUT ticketing.<HOST>/tickets/{ticketId}/verify: at the door, the event's creator or a collaborator scans a ticket.

ACTIVE → USED exactly once (a conditional update): 200 ``true`` the first time, 200 ``false`` for a ticket already
used; any other status (cancelled, refunded) is a 409.
"""
from runtime import Conflict, Forbidden, NotFound, Response, entry_points, function, http

from functions.ticketing import mirror, model


@function("ticketing-verify-ticket", http("PUT", "/tickets/{ticketId}/verify"), auth="required", indexes=model.INDEXES)
def main(event, ctx):
    ticket_id = ctx.http.path_params["ticketId"]
    tickets = ctx.db[model.TICKETS]
    ticket = tickets.find_one({"_id": ticket_id})
    if ticket is None:
        raise NotFound("Ticket not found")
    event_doc = mirror.find_event(ctx, ticket["eventId"])
    if event_doc is None:
        raise NotFound("Event not found")
    if not model.is_organizer(event_doc, ctx.principal.user_id):
        raise Forbidden("Not authorized to verify this ticket")
    result = ctx.commit(model.TICKETS, {"_id": ticket_id, "status": "ACTIVE"},
                        {"$set": {"status": "USED", "usedAt": ctx.now, "usedBy": ctx.principal.user_id}},
                        reply=Response(200, True))
    if result is not None:
        return result
    status = (tickets.find_one({"_id": ticket_id}, {"status": 1}) or {}).get("status")
    if status == "USED":
        return Response(200, False)
    raise Conflict(f"Cannot use ticket with status {status}", code="ticket_not_active")


handle, new = entry_points(main)
