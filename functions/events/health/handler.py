"""GET events.<HOST>/health: liveness of the group's HTTP surface."""
from runtime.contract import Response, function, http


@function("events-health", http("GET", "/health"))
def main(event, ctx):
    return Response(200, {"status": "OK"})


handle, new = main.handle, main.new
