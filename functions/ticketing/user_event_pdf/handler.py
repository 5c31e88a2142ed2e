"""GET ticketing.<HOST>/users/{userId}/events/{eventId}/pdf: the caller's ACTIVE tickets for one event."""
from runtime import NotFound, entry_points, function, http

from functions.ticketing import model, pdf


@function("ticketing-user-event-pdf", http("GET", "/users/{userId}/events/{eventId}/pdf"), auth="required",
          requirements=pdf.REQUIREMENTS, indexes=model.INDEXES)
def main(event, ctx):
    user_id = model.same_user(ctx, ctx.http.path_params["userId"])
    event_id = ctx.http.path_params["eventId"]
    tickets = list(ctx.db[model.TICKETS].find({"userId": user_id, "eventId": event_id, "status": "ACTIVE"})
                   .sort([("purchaseDate", 1), ("_id", 1)]))
    if not tickets:
        raise NotFound("No tickets found for this event")
    return pdf.response(tickets, ctx.db, ctx.config.public_host, f"tickets-{user_id}-{event_id}.pdf")


handle, new = entry_points(main)
