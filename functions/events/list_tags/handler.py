"""GET events.<HOST>/tags: the tag catalogue, ``[{category, tags}]`` in the reference's order."""
from runtime import Response, entry_points, function, http

from functions.events import model


@function("events-list-tags", http("GET", "/tags"), indexes=model.INDEXES)
def main(event, ctx):
    return Response(200, [{"category": category, "tags": list(tags)} for category, tags in model.TAGS.items()],
                    {"Cache-Control": "public, max-age=3600"})


handle, new = entry_points(main)
