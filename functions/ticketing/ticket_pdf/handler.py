"""GET ticketing.<HOST>/tickets/{ticketId}/pdf: one of the caller's tickets as a PDF page with its QR code."""
from runtime import entry_points, function, http

from functions.ticketing import model, pdf


@function("ticketing-ticket-pdf", http("GET", "/tickets/{ticketId}/pdf"), auth="required", requirements=pdf.REQUIREMENTS,
          indexes=model.INDEXES)
def main(event, ctx):
    ticket = model.callers_ticket(ctx, ctx.http.path_params["ticketId"])
    return pdf.response([ticket], ctx.db, ctx.config.public_host, f"ticket-{ticket['_id']}.pdf")


handle, new = entry_points(main)
