"""``main`` of every group's ``<group>-health`` function: ``GET /health`` answers ``{"status": "OK"}``."""
from .contract import Response


def health(event, ctx) -> Response:
    return Response(200, {"status": "OK"})
