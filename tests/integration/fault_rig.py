"""What the fault-injection suite (``test_faults.py``, marker ``faults``) runs on: a RabbitMQ node and a MongoDB
stand-in of its own (so stopping or pausing them disturbs nobody else), the platform with three competing worker
processes on them, and a client that behaves as the SPA's users do under failure (it retries what the platform
says to retry, with the same Idempotency-Key).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import httpx
import pika
from pymongo import MongoClient

from localrunner.app import free_port
from runtime.registry import REPO_ROOT

RETRY_STATUSES = {429, 502, 503, 504}


class PrivateBroker:
    """A RabbitMQ node with its own name, ports and directory (``rabbitmq-server``, as installed)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="eventonight-broker-")
        self.port, self.dist_port = free_port(), free_port()
        self.node = f"faults{uuid.uuid4().hex[:8]}@localhost"
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"
        self.process: subprocess.Popen | None = None

    def _env(self) -> dict[str, str]:
        d = self.dir
        return {**os.environ, "RABBITMQ_NODENAME": self.node, "RABBITMQ_DIST_PORT": str(self.dist_port),
                "RABBITMQ_CONF_ENV_FILE": f"{d}/env.conf", "RABBITMQ_CONFIG_FILE": f"{d}/rabbitmq.conf",
                "RABBITMQ_MNESIA_BASE": f"{d}/mnesia", "RABBITMQ_LOG_BASE": f"{d}/log",
                "RABBITMQ_PID_FILE": f"{d}/pid", "RABBITMQ_ENABLED_PLUGINS_FILE": f"{d}/enabled_plugins"}

    def start(self) -> PrivateBroker:
        files = {"rabbitmq.conf": f"listeners.tcp.local = 127.0.0.1:{self.port}\n",
                 "env.conf": "ERL_EPMD_ADDRESS=127.0.0.1\n", "enabled_plugins": "[].\n"}
        for name, text in files.items():
            with open(os.path.join(self.dir, name), "w", encoding="utf-8") as f:
                f.write(text)
        if os.geteuid() == 0:  # rabbitmq-server drops to the rabbitmq user: it must own its directory
            for path, _, names in os.walk(self.dir):
                for target in [path, *(os.path.join(path, n) for n in names)]:
                    shutil.chown(target, "rabbitmq", "rabbitmq")
        log = open(os.path.join(self.dir, "server.out"), "wb")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(["rabbitmq-server"], env=self._env(), stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        self.wait_up()
        return self

    def answers(self) -> bool:
        try:
            connection = pika.BlockingConnection(pika.URLParameters(self.url + "?connection_attempts=1"))
        except Exception:  # noqa: BLE001 - not up (yet)
            return False
        connection.close()
        return True

    def wait_up(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rabbitmq-server exited: see {self.dir}/server.out")
            if self.answers():
                return
            time.sleep(0.3)
        raise RuntimeError(f"the private RabbitMQ node did not answer within {timeout:.0f} s")

    def ctl(self, *args: str) -> None:
        subprocess.run(["rabbitmqctl", "-n", self.node, *args], env=self._env(), check=True, capture_output=True,
                       timeout=120)

    def stop_app(self) -> None:
        """The broker goes away (every connection drops; durable queues and their messages stay on disk)."""
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        self.wait_up()

    def stop(self) -> None:
        try:
            self.ctl("stop")
        except (subprocess.SubprocessError, OSError):
            pass
        if self.process is not None:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateStore:
    """The MongoDB stand-in in a process of its own; ``pause`` freezes it (SIGSTOP) as a hung or partitioned
    server looks to its clients: connections stay open and nothing answers."""

    def __init__(self):
        self.port = free_port()
        self.plain_uri = f"mongodb://127.0.0.1:{self.port}/?directConnection=true"
        # what the functions get: short timeouts (operators set them in MONGO_URI), so a frozen store costs each
        # attempt about two seconds instead of a function's whole timeout
        self.uri = self.plain_uri + "&socketTimeoutMS=2000&serverSelectionTimeoutMS=2000&connectTimeoutMS=2000"
        self.process: subprocess.Popen | None = None

    def start(self) -> PrivateStore:
        store_python = os.path.join(REPO_ROOT, ".venv-store", "bin", "python")
        python = store_python if os.path.exists(store_python) else sys.executable
        self.process = subprocess.Popen([python, os.path.join(REPO_ROOT, "local-runner", "mongo_standin.py"),
                                         "--host", "127.0.0.1", "--port", str(self.port)], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = MongoClient(self.plain_uri, serverSelectionTimeoutMS=30000)
        client.admin.command("ping")
        client.close()
        return self

    def pause(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process is None:
            return
        self.resume()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Duplicator:
    """Every event on the exchange delivered twice, the copy late (0.1-0.6 s), so copies overtake and trail
    other events: at-least-once delivery and reordering as a broker and the platforms' dispatchers produce."""

    MARK = "x-duplicated"

    def __init__(self, amqp_url: str, exchange: str):
        self.amqp_url, self.exchange = amqp_url, exchange
        self.queue = f"{exchange}.duplicator"
        self.copies = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="duplicator")

    def start(self) -> Duplicator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        import random

        connection = pika.BlockingConnection(pika.URLParameters(self.amqp_url))
        channel = connection.channel()
        channel.queue_declare(self.queue, exclusive=True)
        channel.queue_bind(self.queue, self.exchange, routing_key="#")
        held: list[tuple[float, str, pika.BasicProperties, bytes]] = []
        try:
            while not self._stop.is_set() or held:
                method, properties, body = channel.basic_get(self.queue, auto_ack=True)
                if method is not None and not (properties.headers or {}).get(self.MARK):
                    headers = {**(properties.headers or {}), self.MARK: 1}
                    copy = pika.BasicProperties(content_type=properties.content_type, headers=headers,
                                                message_id=properties.message_id, delivery_mode=2)
                    held.append((time.monotonic() + random.uniform(0.1, 0.6), method.routing_key, copy, body))
                now = time.monotonic()
                for item in [h for h in held if h[0] <= now]:
                    channel.basic_publish(self.exchange, item[1], item[3], item[2])
                    held.remove(item)
                    self.copies += 1
                if method is None:
                    connection.sleep(0.02)
        finally:
            connection.close()


class Client:
    """A user's client: answers 502/503/504/429 and ``409 in_progress`` are retried with the same key, after a
    short pause, until ``patience`` runs out; connection failures too. Any 500 is remembered (a bug)."""

    def __init__(self, api, patience: float = 120.0):
        self.api, self.patience = api, patience
        self.server_errors: list[str] = []
        self._lock = threading.Lock()

    def call(self, method, group, path, *, token=None, key=None, json=None, **kwargs) -> httpx.Response:
        key = key or (f"load-{uuid.uuid4()}" if method != "GET" else None)
        deadline, pause = time.monotonic() + self.patience, 0.2
        while True:
            try:
                response = self.api.call(method, group, path, token=token, key=key, json=json, **kwargs)
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code == 500:
                with self._lock:
                    self.server_errors.append(f"{method} {group}{path}: {response.text[:300]}")
            retry = response is None or response.status_code in RETRY_STATUSES or (
                response.status_code == 409 and response.json().get("error") == "in_progress")
            if not retry:
                return response
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {group}{path} never succeeded: "
                                     f"{response.status_code if response is not None else 'no answer'}")
            time.sleep(pause)
            pause = min(2.0, pause * 1.5)
