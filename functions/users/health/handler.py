"""GET users.<HOST>/health: liveness of the group's HTTP surface."""
from runtime.contract import function, http
from runtime.health import health

main = function("users-health", http("GET", "/health"))(health)
handle, new = main.handle, main.new
