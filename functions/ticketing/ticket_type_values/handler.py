"""GET ticketing.<HOST>/ticket-types/values: the ticket type names (the SPA's create-event page needs it to render)."""
from runtime import Response, entry_points, function, http

from functions.ticketing import model


@function("ticketing-ticket-type-values", http("GET", "/ticket-types/values"), indexes=model.INDEXES)
def main(event, ctx):
    return Response(200, list(model.TYPES))


handle, new = entry_points(main)
