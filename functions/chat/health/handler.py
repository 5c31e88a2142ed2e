"""GET chat.<HOST>/health: liveness of the group's HTTP surface."""
from runtime import entry_points, function, health, http

main = function("chat-health", http("GET", "/health"))(health)
handle, new = entry_points(main)
