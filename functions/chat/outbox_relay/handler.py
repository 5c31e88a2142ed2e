"""Scheduled: publishes the ``chat.message.created`` events sends committed but could not publish at once."""
from runtime import entry_points, every, function, relay

main = function("chat-outbox-relay", every("* * * * *"), state_changing=False)(relay)
handle, new = entry_points(main)
