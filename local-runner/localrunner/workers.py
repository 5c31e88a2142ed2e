"""Competing replicas: N worker processes, each serving every function (or some groups), as a platform scaled out.

Each worker (``python -m localrunner worker``) is what one replica of every function would be: the functions
behind their platform entry points, its own consumers on the same RabbitMQ queues as the other workers (so they
compete for deliveries, and a worker's death redelivers what it had not acked), its own store and broker
connections, configured only by the environment. The gateway forwards each HTTP request to the next live worker
serving that group, naming the function in a header as the OpenFaaS router does; schedule ticks go to one worker,
as the cron-connector or a PingSource sends them to one instance. A worker that dies is started again, as a
Deployment replaces a pod.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime
from urllib.parse import parse_qs

import httpx

from runtime import envelope
from runtime.contract import EventTrigger
from runtime.registry import REPO_ROOT

from .bus import PARALLELISM, RabbitBus
from .children import ChildProcess
from .gateway import read_body

log = logging.getLogger("localrunner.workers")
FUNCTION_HEADER = "x-localrunner-function"  # which function a forwarded request is for
CONTROL = "/_localrunner"  # a worker's own endpoints: ready, answered, tick/<function>
READY_SECONDS = 60.0
RESTART_DELAY_SECONDS = 0.5


def _json(status: int, body) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


def worker_app(specs, platform, answered: Counter, lock: threading.Lock, ready: threading.Event):
    """The ASGI app of one worker: forwarded function requests, ticks and the control endpoints."""
    by_name = {spec.name: spec for spec in specs}

    async def call(spec, method, path, query, headers, body):
        if hasattr(platform, "call_http_async"):
            return await platform.call_http_async(spec, method, path, query, headers, body)
        return await asyncio.to_thread(platform.call_http, spec, method, path, query, headers, body)

    async def answer(scope, receive, send):
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        path, query = scope["path"], scope.get("query_string", b"").decode("latin-1")
        body = await read_body(receive)
        if path == f"{CONTROL}/ready":
            status, out, payload = _json(200 if ready.is_set() else 503, {"ready": ready.is_set()})
        elif path == f"{CONTROL}/answered":
            with lock:
                status, out, payload = _json(200, dict(answered))
        elif path.startswith(f"{CONTROL}/tick/") and path.removeprefix(f"{CONTROL}/tick/") in by_name:
            spec = by_name[path.removeprefix(f"{CONTROL}/tick/")]
            when = parse_qs(query).get("when")
            when = datetime.fromisoformat(when[0]) if when else None
            event = envelope.new_event("dev.knative.sources.ping", f"/apis/v1/namespaces/eventonight/pingsources/"
                                       f"{spec.name}", None, time=when)
            status, out, payload = await asyncio.to_thread(platform.tick, spec, event)
        elif headers.get(FUNCTION_HEADER) in by_name:
            forwarded = {k: v for k, v in headers.items() if k != FUNCTION_HEADER}
            status, out, payload = await call(by_name[headers[FUNCTION_HEADER]], scope["method"], path, query,
                                              forwarded, body)
        else:
            status, out, payload = _json(404, {"error": "not_found", "message": "no such function on this worker"})
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in out.items()]})
        await send({"type": "http.response.body", "body": payload})

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": f"{message['type']}.complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        elif scope["type"] == "http":
            await answer(scope, receive, send)

    return app


def serve_worker(*, platform_name: str, namespace: str, host: str, port_file: str, amqp_url: str,
                 backoff_ms: tuple[int, ...], consumers: int, groups: tuple[str, ...] = (),
                 retry_past_leases: bool = True) -> None:
    """One worker process, until SIGTERM: consumers first (they declare nothing new: the gateway's process did),
    then the HTTP side on a port the kernel picks (written to ``port_file``: a port chosen by the parent could be
    taken meanwhile); ready once both run."""
    import socket

    import uvicorn

    from runtime.process import reset_default_runtime
    from runtime.registry import discover

    from .platforms import platform as make_platform

    reset_default_runtime()
    specs = [s for s in discover() if not groups or s.group in groups]
    platform = make_platform(platform_name)
    answered: Counter[str] = Counter()
    lock, ready = threading.Lock(), threading.Event()

    def deliver(spec, message) -> int:
        status, _, _ = platform.deliver(spec, message)
        with lock:
            answered[spec.name] += 1
        return status

    bus = RabbitBus(amqp_url, namespace, backoff_ms=backoff_ms, parallelism=consumers,
                    retry_past_leases=retry_past_leases)
    listener = socket.socket()
    listener.bind((host, 0))
    server = uvicorn.Server(uvicorn.Config(worker_app(specs, platform, answered, lock, ready), log_level="warning",
                                           lifespan="on"))
    signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
    bus.start([s for s in specs if isinstance(s.trigger, EventTrigger)], deliver)
    threading.Thread(target=lambda: _set_when_started(server, ready), daemon=True).start()
    with open(port_file + ".tmp", "w", encoding="utf-8") as f:
        f.write(str(listener.getsockname()[1]))
    os.replace(port_file + ".tmp", port_file)
    try:
        server.run(sockets=[listener])
    finally:
        bus.stop()


def _set_when_started(server, ready: threading.Event) -> None:
    while not server.started and not server.should_exit:
        time.sleep(0.02)
    ready.set()


class Worker(ChildProcess):
    """One worker process seen from the gateway's process: started, restarted after it dies, killed on demand."""

    kind = "worker"
    ready_seconds = READY_SECONDS
    stop_seconds = 15.0

    def __init__(self, name: str, host: str, port_file: str, command: list[str], env: dict[str, str],
                 groups: tuple[str, ...]):
        self.name, self.host, self.groups = name, host, groups
        self._command, self._env, self._port_file = command, env, port_file
        self._url: str | None = None
        self.process: subprocess.Popen | None = None
        self.restarts = 0

    def start(self) -> Worker:
        self._url = None
        if os.path.exists(self._port_file):
            os.remove(self._port_file)
        self.process = subprocess.Popen(self._command, cwd=REPO_ROOT, env=self._env, stdin=subprocess.DEVNULL)
        return self

    @property
    def url(self) -> str:
        """Where this incarnation listens (``""`` until it has said so)."""
        if self._url is None and os.path.exists(self._port_file):
            with open(self._port_file, encoding="utf-8") as f:
                self._url = f"http://{self.host}:{f.read().strip()}"
        return self._url or ""

    @property
    def ready_url(self) -> str:
        return f"{self.url}{CONTROL}/ready" if self.url else ""

    def serves(self, group: str) -> bool:
        return not self.groups or group in self.groups


class WorkerPool:
    """The gateway's side: ``call_http_async`` forwards to a worker, ``tick`` sends a schedule's tick to one,
    ``answered`` sums what every worker (alive or gone) has answered; a supervisor restarts dead workers."""

    def __init__(self, settings, env: dict[str, str]):
        s = settings
        env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, (REPO_ROOT, os.path.join(REPO_ROOT, "local-runner"),
                                                                  env.get("PYTHONPATH"))))}
        groups = tuple(s.worker_groups)
        # A function's deliveries in flight stay at the Trigger's parallelism whatever the replica count (Knative's
        # dispatcher and the connector deliver up to that many at once to the Service, not to each pod); it also
        # keeps the broker's connection count flat as workers are added.
        consumers = -(-PARALLELISM // s.workers)
        self._dir = tempfile.mkdtemp(prefix=f"localrunner-{s.namespace}-")
        self.workers = []
        for index in range(s.workers):
            name = f"{s.namespace}-w{index + 1}"
            port_file = os.path.join(self._dir, f"{name}.port")
            command = [sys.executable, "-m", "localrunner", "worker", "--platform", s.platform,
                       "--namespace", s.namespace, "--host", s.host, "--port-file", port_file,
                       "--backoff-ms", ",".join(map(str, s.backoff_ms)), "--consumers", str(consumers)]
            if groups:
                command += ["--groups", ",".join(groups)]
            if not s.retry_past_leases:
                command += ["--exact-backoff"]
            self.workers.append(Worker(name, s.host, port_file, command, {**env, "AMQP_URL": s.amqp_url}, groups))
        self._turn = itertools.count()
        self._stop = threading.Event()
        self._gone: Counter[str] = Counter()  # what workers answered before they died (last seen)
        self._seen: dict[str, Counter[str]] = {}
        self._supervisor = threading.Thread(target=self._supervise, daemon=True, name="worker-supervisor")
        self._client = None

    def start(self) -> WorkerPool:
        try:
            for worker in self.workers:
                worker.start()
            for worker in self.workers:
                worker.wait_ready()
        except BaseException:
            for worker in self.workers:
                worker.stop()
            raise
        self._supervisor.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._supervisor.is_alive():
            self._supervisor.join(timeout=5)
        for worker in self.workers:
            worker.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _supervise(self) -> None:
        while not self._stop.wait(RESTART_DELAY_SECONDS):
            for worker in self.workers:
                if not worker.alive and not self._stop.is_set():
                    self._gone.update(self._seen.pop(worker.name, Counter()))
                    worker.restarts += 1
                    log.warning("worker %s exited (%s); starting it again", worker.name, worker.process.returncode)
                    worker.start()

    def _pick(self, group: str) -> list[Worker]:
        """Live workers serving ``group``, starting with the next in turn."""
        serving = [w for w in self.workers if w.serves(group)]
        start = next(self._turn)
        ordered = [serving[(start + i) % len(serving)] for i in range(len(serving))]
        return [w for w in ordered if w.alive and w.url] or ordered

    async def call_http_async(self, spec, method, path, query_string, headers, body):
        """To the next live worker; a worker that refuses the connection (dead, restarting) passes the request
        to the next, since it never received it; one that fails mid-request is a 502, as behind a load balancer."""
        import aiohttp

        if self._client is None or self._client.closed:
            self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120), auto_decompress=False)
        forwarded = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length", "connection")}
        forwarded.update({"Host": headers.get("host", ""), FUNCTION_HEADER: spec.name})
        target = path + (f"?{query_string}" if query_string else "")
        for worker in self._pick(spec.group):
            if not worker.url:
                continue  # starting again: it has not said where it listens yet
            try:
                async with self._client.request(method, worker.url + target, headers=forwarded, data=body,
                                                allow_redirects=False) as answer:
                    payload = await answer.read()
                    out = {k: v for k, v in answer.headers.items()
                           if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server")}
                    return answer.status, out, payload
            except aiohttp.ClientConnectorError:
                continue  # not delivered: the next worker takes it
            except (aiohttp.ClientError, asyncio.TimeoutError):
                break
        return _json(502, {"error": "bad_gateway", "message": "the function's replica failed"})

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    def tick(self, spec, when=None):
        query = {"when": when.isoformat()} if when is not None else None
        for worker in self._pick(spec.group):
            if not worker.url:
                continue
            try:
                reply = httpx.post(f"{worker.url}{CONTROL}/tick/{spec.name}", params=query, timeout=120)
                return reply.status_code, dict(reply.headers), reply.content
            except httpx.ConnectError:
                continue
        return _json(502, {"error": "bad_gateway", "message": "no live worker"})

    def answered(self, function: str) -> int:
        total = self._gone[function]
        for worker in self.workers:
            try:
                counts = Counter(httpx.get(f"{worker.url}{CONTROL}/answered", timeout=5).json())
                self._seen[worker.name] = counts
            except httpx.HTTPError:
                counts = self._seen.get(worker.name, Counter())
            total += counts[function]
        return total


class Split:
    """The gateway's view when only some groups run on workers: those go to the pool, the rest in-process."""

    def __init__(self, pool: WorkerPool, local):
        self.pool, self.local = pool, local

    async def call_http_async(self, spec, method, path, query_string, headers, body):
        if self.pool.workers[0].serves(spec.group):
            return await self.pool.call_http_async(spec, method, path, query_string, headers, body)
        if hasattr(self.local, "call_http_async"):
            return await self.local.call_http_async(spec, method, path, query_string, headers, body)
        return await asyncio.to_thread(self.local.call_http, spec, method, path, query_string, headers, body)

    async def close(self) -> None:
        await self.pool.close()
