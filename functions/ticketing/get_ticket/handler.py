"""GET ticketing.<HOST>/tickets/{ticketId}: one of the caller's tickets."""
from runtime import Response, entry_points, function, http

from functions.ticketing import model


@function("ticketing-get-ticket", http("GET", "/tickets/{ticketId}"), auth="required", indexes=model.INDEXES)
def main(event, ctx):
    ticket = model.callers_ticket(ctx, ctx.http.path_params["ticketId"])
    return Response(200, model.ticket_view(ticket))


handle, new = entry_points(main)
