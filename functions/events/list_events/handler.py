"""GET events.<HOST>/: every PUBLISHED event by date (then id), paged with ``limit``/``offset`` (``items`` key)."""
from runtime import Response, entry_points, function, http

from functions.events import model, search


@function("events-list-events", http("GET", "/"), indexes=model.INDEXES)
def main(event, ctx):
    query = search.parse_query(ctx.http)
    page = search.SearchQuery(limit=query.limit, offset=query.offset, statuses=["PUBLISHED"])
    return Response(200, search.page(ctx.db[model.EVENTS], page, None, ctx.now))


handle, new = entry_points(main)
