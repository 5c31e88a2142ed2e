"""GET events.<HOST>/search: filters, sorts, ``near``, ``price`` and the home page's ``other`` modes.

The semantics are in ``search.py`` and docs/events.md. A valid token identifies the caller (for drafts); an
invalid one is treated as none.
"""
from runtime import Response, entry_points, function, http

from functions.events import model, search


@function("events-search-events", http("GET", "/search"), auth="optional", indexes=model.INDEXES)
def main(event, ctx):
    query = search.parse_query(ctx.http)
    viewer = ctx.principal.user_id if ctx.principal else None
    return Response(200, search.page(ctx.db[model.EVENTS], query, viewer, ctx.now))


handle, new = entry_points(main)
