"""GET events.<HOST>/tags/{category}: one category's tags; an unknown category is ``[]`` (as the reference)."""
from runtime import Response, entry_points, function, http

from functions.events import model


@function("events-list-category-tags", http("GET", "/tags/{category}"), indexes=model.INDEXES)
def main(event, ctx):
    return Response(200, list(model.TAGS.get(ctx.http.path_params["category"], ())),
                    {"Cache-Control": "public, max-age=3600"})


handle, new = entry_points(main)
