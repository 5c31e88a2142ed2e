"""The Socket.IO service of the notifications group (python-socketio ``AsyncServer``, ASGI), served at
``notifications.<HOST>/socket.io/``: handshake auth, room ``user:<id>``, the reference's server → client events,
pushes from functions over RabbitMQ and presence shared by every replica (docs/notifications.md).

It is a long-lived service, not a function: ``python -m realtime`` (see ``realtime.__main__``).
"""
