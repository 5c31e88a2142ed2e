"""GET ticketing.<HOST>/health: liveness of the group's HTTP surface."""
from runtime import Response, entry_points, function, http


@function("ticketing-health", http("GET", "/health"))
def main(event, ctx):
    return Response(200, {"status": "ok"})


handle, new = entry_points(main)
