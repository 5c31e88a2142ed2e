"""GET ticketing.<HOST>/health: liveness of the group's HTTP surface."""
from runtime.contract import Response, function, http


@function("ticketing-health", http("GET", "/health"))
def main(event, ctx):
    return Response(200, {"status": "ok"})


handle, new = main.handle, main.new
