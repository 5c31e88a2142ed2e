"""The Socket.IO service (``realtime/``) on one machine: N replicas, each its own ``python -m realtime`` process
(uvicorn) on a port of its own, and the gateway proxying ``notifications.<host>/socket.io/`` to them
(``localrunner.socketproxy``). Killing a replica's process is a real replica death: its sockets drop, and its
presence expires in the other replicas' eyes (``functions.notifications.presence``).
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys

from runtime.registry import REPO_ROOT

from .children import ChildProcess
from .socketproxy import SocketProxy

log = logging.getLogger("localrunner.realtime")
READY_SECONDS = 30.0


class Replica(ChildProcess):
    kind = "realtime replica"
    ready_seconds = READY_SECONDS

    def __init__(self, name: str, host: str, port: int, env: dict[str, str]):
        self.name, self.host, self.port = name, host, port
        self.url = f"http://{host}:{port}"
        self._env = {**env, "REALTIME_REPLICA": name,
                     "PYTHONPATH": os.pathsep.join(filter(None, (REPO_ROOT, env.get("PYTHONPATH"))))}
        self.process: subprocess.Popen | None = None

    def start(self) -> Replica:
        self.process = subprocess.Popen([sys.executable, "-m", "realtime", "--host", self.host, "--port",
                                         str(self.port)], cwd=REPO_ROOT, env=self._env, stdin=subprocess.DEVNULL)
        return self

    @property
    def ready_url(self) -> str:
        return f"{self.url}/health"


class RealtimeService:
    """``replicas`` processes of the Socket.IO service and the gateway's proxy in front of them."""

    def __init__(self, namespace: str, host: str, ports: list[int], env: dict[str, str], amqp_url: str | None):
        self.namespace, self.amqp_url = namespace, amqp_url
        self.replicas = [Replica(f"{namespace}-r{i + 1}", host, port, env) for i, port in enumerate(ports)]
        self.proxy = SocketProxy(self.replicas)

    def start(self) -> RealtimeService:
        if len(self.replicas) > 1 and not self.amqp_url:
            log.warning("several Socket.IO replicas without RabbitMQ: pushes reach only one replica's sockets")
        for replica in self.replicas:
            replica.start()
        for replica in self.replicas:
            replica.wait_ready()
        return self

    def stop(self, *, remove: bool = False) -> None:
        for replica in self.replicas:
            replica.stop()
        if remove and self.amqp_url:
            self._delete_exchange()

    def _delete_exchange(self) -> None:
        """The namespace's Socket.IO fanout exchange (the replicas' queues expire by themselves)."""
        import pika

        try:
            connection = pika.BlockingConnection(pika.URLParameters(self.amqp_url))
            try:
                connection.channel().exchange_delete(f"{self.namespace}.socketio")
            finally:
                connection.close()
        except Exception as exc:  # noqa: BLE001 - cleanup must not hide the run's own outcome
            log.warning("could not delete the Socket.IO exchange: %s", exc.__class__.__name__)
