"""Scheduled: publishes what interactions functions committed but could not publish at once (broker down, crash)."""
from runtime import entry_points, every, function, relay

main = function("interactions-outbox-relay", every("* * * * *"), state_changing=False)(relay)
handle, new = entry_points(main)
