"""GET events.<HOST>/health: liveness of the group's HTTP surface."""
from runtime import entry_points, function, health, http

main = function("events-health", http("GET", "/health"))(health)
handle, new = entry_points(main)
