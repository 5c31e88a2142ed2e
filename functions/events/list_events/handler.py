"""GET events.<HOST>/: every PUBLISHED event by date (then id), paged with ``limit``/``offset`` (``items`` key)."""
from runtime.contract import Response, function, http

from functions.events import model, search


@function("events-list-events", http("GET", "/"))
def main(event, ctx):
    query = search.parse_query(ctx.http)
    page = search.SearchQuery(limit=query.limit, offset=query.offset, statuses=["PUBLISHED"])
    model.ensure_indexes(ctx.db)
    return Response(200, search.page(ctx.db[model.EVENTS], page, None, ctx.now))


handle, new = main.handle, main.new
