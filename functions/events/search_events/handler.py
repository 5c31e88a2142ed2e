"""GET events.<HOST>/search: filters, sorts, ``near``, ``price`` and the home page's ``other`` modes.

The semantics are in ``search.py`` and docs/events.md. A valid token identifies the caller (for drafts); an
invalid one is treated as none.
"""
from runtime.contract import Response, function, http

from functions.events import model, search


@function("events-search-events", http("GET", "/search"), auth="optional")
def main(event, ctx):
    query = search.parse_query(ctx.http)
    model.ensure_indexes(ctx.db)  # $near needs the 2dsphere index
    viewer = ctx.principal.user_id if ctx.principal else None
    return Response(200, search.page(ctx.db[model.EVENTS], query, viewer, ctx.now))


handle, new = main.handle, main.new
