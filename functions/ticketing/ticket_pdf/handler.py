"""GET ticketing.<HOST>/tickets/{ticketId}/pdf: one of the caller's tickets as a PDF page with its QR code."""
from runtime.contract import function, http
from runtime.errors import Forbidden, NotFound

from functions.ticketing import model, pdf


@function("ticketing-ticket-pdf", http("GET", "/tickets/{ticketId}/pdf"), auth="required", requirements=pdf.REQUIREMENTS)
def main(event, ctx):
    ticket = ctx.db[model.TICKETS].find_one({"_id": ctx.http.path_params["ticketId"]})
    if ticket is None:
        raise NotFound("Ticket not found")
    if ticket["userId"] != ctx.principal.user_id:
        raise Forbidden("Not authorized to view this ticket")
    return pdf.response([ticket], ctx.db, ctx.config.public_host, f"ticket-{ticket['_id']}.pdf")


handle, new = main.handle, main.new
