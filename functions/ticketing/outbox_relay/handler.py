"""Scheduled: publishes what ticketing functions committed but could not publish at once (broker down, crash)."""
from runtime.contract import every, function
from runtime.outbox import relay

main = function("ticketing-outbox-relay", every("* * * * *"), state_changing=False)(relay)
handle, new = main.handle, main.new
