"""GET ticketing.<HOST>/tickets/{ticketId}: one of the caller's tickets."""
from runtime.contract import Response, function, http

from functions.ticketing import model


@function("ticketing-get-ticket", http("GET", "/tickets/{ticketId}"), auth="required")
def main(event, ctx):
    ticket = model.callers_ticket(ctx, ctx.http.path_params["ticketId"])
    return Response(200, model.ticket_view(ticket))


handle, new = main.handle, main.new
