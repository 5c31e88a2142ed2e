"""GET ticketing.<HOST>/tickets/{ticketId}: one of the caller's tickets."""
from runtime.contract import Response, function, http
from runtime.errors import Forbidden, NotFound

from functions.ticketing import model


@function("ticketing-get-ticket", http("GET", "/tickets/{ticketId}"), auth="required")
def main(event, ctx):
    ticket = ctx.db[model.TICKETS].find_one({"_id": ctx.http.path_params["ticketId"]})
    if ticket is None:
        raise NotFound("Ticket not found")
    if ticket["userId"] != ctx.principal.user_id:
        raise Forbidden("Not authorized to view this ticket")
    return Response(200, model.ticket_view(ticket))


handle, new = main.handle, main.new
