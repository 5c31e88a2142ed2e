"""The whole platform on one machine: identity provider, gateway, broker triggers, schedules, outbox relays.

``LocalPlatform`` is what ``python -m localrunner up`` runs and what the integration tests start. Functions run
in-process behind their real platform entry points (``handle`` or ``new``), configured only through the
environment, exactly as in a container.
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from runtime import envelope
from runtime.broker import register_transport
from runtime.config import DEFAULT_EXCHANGE
from runtime.contract import EventTrigger, ScheduleTrigger
from runtime.process import reset_default_runtime
from runtime.registry import discover
from runtime.signing import KeyRing

from . import datadir
from . import idp as idp_module
from .bus import DEFAULT_BACKOFF_MS, MemoryBus, RabbitBus
from .gateway import create_app
from .platforms import platform as make_platform
from .realtime import RealtimeService
from .workers import Split, WorkerPool

log = logging.getLogger("localrunner")
MEMORY_URL = "memory://local"
USERS_SERVICE_SECRET = "users-service-secret"  # the dev IdP's confidential client (idp.DEFAULT_CLIENTS)
S3_DEV_KEY = "minioadmin"  # scripts/s3-standin's development access and secret key
SIGNING_KEYS_FILE = "event-signing-keys"  # under <data_dir>/platform, in the secret's own format


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_signing_secret() -> str:
    return f"local-{secrets.token_hex(4)}:{secrets.token_urlsafe(32)}"


def signing_secret_in(directory: Path) -> str:
    """The event-signing key kept in ``directory`` (made on first use). Events are signed as they are published,
    so an outbox entry left unpublished is signed by whichever run publishes it; but an event already on a durable
    RabbitMQ queue when the platform stops carries the old run's signature, and only the same key verifies it."""
    path = directory / SIGNING_KEYS_FILE
    if not path.exists():
        datadir.write_atomically(path, new_signing_secret().encode())
    secret = path.read_text().strip()
    try:
        KeyRing.parse(secret)  # a damaged file says so here, not as every event refused
    except ValueError as exc:
        raise ValueError(f"{path} is damaged ({exc}): move it away or start afresh (scripts/run --fresh)") from None
    return secret


def cron_period_seconds(cron: str) -> float:
    """Minute-level cron only: ``*`` → 60 s, ``*/n`` → n minutes; finer schedules are not used here."""
    minute = cron.split()[0]
    match = re.fullmatch(r"\*/(\d+)", minute)
    return 60.0 * (int(match.group(1)) if match else 1)


@dataclass
class Settings:
    platform: str = "knative"  # or "openfaas": which entry points and delivery semantics to emulate
    namespace: str = DEFAULT_EXCHANGE  # the exchange, the queues' prefix and the databases' prefix (<ns>_<group>)
    mongo_uri: str | None = None  # required: a MongoDB or the stand-in
    amqp_url: str | None = None  # None → the in-memory bus
    s3_endpoint_url: str | None = None  # S3 / MinIO / the SeaweedFS stand-in (scripts/s3-standin)
    host: str = "127.0.0.1"
    port: int = 8080
    idp_port: int = 8180
    public_host: str | None = None  # the SPA's <HOST>; default localhost:<port>
    backoff_ms: tuple[int, ...] = DEFAULT_BACKOFF_MS
    # retries of a function with a ledger outlast its lease (localrunner.bus.retry_schedule), as the generated
    # Triggers' do; False: exactly backoff_ms (dead-letter tests that must not wait out a lease)
    retry_past_leases: bool = True
    tick_seconds: float | None = None  # override every schedule's period (tests, demos)
    schedules: bool = True
    relay_seconds: float = 2.0  # how often the outbox relays sweep (their cron says every minute)
    stripe: bool = True  # serve the Stripe stand-in (localrunner.stripe_standin) and point ticketing at it
    stripe_port: int = 0  # 0: any free port
    extra_env: dict[str, str] = field(default_factory=dict)
    socket_replicas: int = 0  # replicas of the Socket.IO service (realtime/), each a process behind the gateway
    workers: int = 0  # 0: functions run in the gateway's process; N: N competing worker processes (needs RabbitMQ)
    worker_groups: tuple[str, ...] = ()  # the groups the workers serve (empty: all); the rest stay in-process
    data_dir: Path | None = None  # None: the IdP, Stripe and signing keys live in memory; else kept there (datadir)


class LocalPlatform:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.specs = discover()
        # A fresh signing key per platform: events from anywhere else (another run, a test's forgery) do not verify.
        # With a data directory the key is the one kept there (start()): see signing_secret_in.
        self.signing_secret = new_signing_secret()
        self._data_lock = None  # held on <data_dir>/platform while running
        self.platform = make_platform(settings.platform)
        self.bus = None
        self.idp = None
        self.stripe = None  # the Stripe stand-in, when settings.stripe
        self.realtime = None  # the Socket.IO service, when settings.socket_replicas
        self.pool = None  # the worker processes, when settings.workers (localrunner.workers)
        self._server = None
        self._listener: socket.socket | None = None
        self.port = settings.port  # the gateway's, once started (settings.port 0: the one the kernel picked)
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._answered: Counter[str] = Counter()
        self._environ_before: dict[str, str | None] = {}  # what start() changed in os.environ, restored by stop()

    # -- lifecycle -----------------------------------------------------------------------------------------------
    def start(self) -> LocalPlatform:
        try:
            return self._start()
        except BaseException:
            self.stop()  # a failed start leaves nothing running, and its data directory free
            raise

    def _start(self) -> LocalPlatform:
        s = self.settings
        # The gateway's port is held from the first moment (port 0: the kernel picks): a port only chosen free
        # earlier can be taken meanwhile, e.g. as the local end of the broker connections made below.
        self._listener = socket.create_server((s.host, s.port))
        self.port = self._listener.getsockname()[1]
        if s.data_dir is not None:
            self._data_lock = datadir.hold_lock(s.data_dir / "platform", "local platform")
            self.signing_secret = signing_secret_in(s.data_dir / "platform")
        self.idp = idp_module.serve(host=s.host, port=s.idp_port,
                                    state_dir=s.data_dir / "idp" if s.data_dir is not None else None)
        amqp_url = s.amqp_url or MEMORY_URL
        env = {"MONGO_URI": s.mongo_uri, "AMQP_URL": amqp_url, "OIDC_ISSUER": self.idp.issuer,
               "DATABASE_PREFIX": f"{s.namespace}_", "EVENT_EXCHANGE": s.namespace,
               "SECRET_EVENT_SIGNING_KEYS": self.signing_secret,
               "PUBLIC_HOST": s.public_host or f"localhost:{self.port}",
               "SECRET_KEYCLOAK_CLIENT_SECRET": USERS_SERVICE_SECRET, "S3_ENDPOINT_URL": s.s3_endpoint_url or "",
               "SECRET_S3_ACCESS_KEY": S3_DEV_KEY, "SECRET_S3_SECRET_KEY": S3_DEV_KEY,
               "USERS_URL": self.url, "USERS_HOST": "users.localhost",  # the events group's read-through
               **self._start_stripe(), **s.extra_env}
        self._environ_before = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        reset_default_runtime()  # functions read their configuration afresh, as a new container would
        consumers = [spec for spec in self.specs if isinstance(spec.trigger, EventTrigger)]
        if s.amqp_url:
            self.bus = RabbitBus(s.amqp_url, s.namespace, backoff_ms=s.backoff_ms,
                                 retry_past_leases=s.retry_past_leases)
        else:
            if s.workers:
                raise ValueError("workers compete for RabbitMQ queues: set AMQP_URL (the in-memory bus is one process)")
            self.bus = MemoryBus(backoff_ms=s.backoff_ms, retry_past_leases=s.retry_past_leases)
            register_transport("memory", lambda url, exchange: self.bus)
        if s.workers:
            self.bus.declare_all(consumers)  # before any worker consumes or any function publishes
            self.pool = WorkerPool(s, dict(os.environ)).start()
            consumers = [spec for spec in consumers if not self.pool.workers[0].serves(spec.group)]
        self.bus.start(consumers, self.deliver)
        if s.socket_replicas:
            self.realtime = RealtimeService(s.namespace, s.host, self._free_ports(s.socket_replicas),
                                            dict(os.environ), s.amqp_url).start()
        self._serve_gateway()
        if s.schedules:
            for spec in self.specs:
                if isinstance(spec.trigger, ScheduleTrigger):
                    period = s.relay_seconds if spec.name.endswith("-outbox-relay") else (
                        s.tick_seconds or cron_period_seconds(spec.trigger.cron))
                    self._every(period, self.tick, spec)
        return self

    def stop(self, *, remove: bool = False) -> None:
        """Stop every part; ``remove`` also deletes this namespace's databases, queues and exchange."""
        self._stop.set()
        if self._server is not None:
            self._server.should_exit = True
        for thread in self._threads:
            thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()
        if self.pool is not None:
            self.pool.stop()
        if self.realtime is not None:
            self.realtime.stop(remove=remove)
        if self.bus is not None:
            self.bus.stop()
        if self.idp is not None:
            self.idp.stop()
        if self.stripe is not None:
            self.stripe.stop()
        if remove:
            self._remove_data()
        if self._data_lock is not None:
            self._data_lock.close()
            self._data_lock = None
        self._restore_environ()

    def _restore_environ(self) -> None:
        """Put back what ``start`` set: a platform's settings (one with no Stripe retries, say) must not outlive it
        in the process and change what the next one does."""
        for name, value in self._environ_before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._environ_before = {}
        reset_default_runtime()

    def _remove_data(self) -> None:
        from runtime.store import mongo_client

        if isinstance(self.bus, RabbitBus):
            self.bus.delete_all([spec for spec in self.specs if isinstance(spec.trigger, EventTrigger)])
        client = mongo_client(self.settings.mongo_uri)
        for group in sorted({spec.group for spec in self.specs}):
            client.drop_database(self.database(group))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- parts ---------------------------------------------------------------------------------------------------
    def _start_stripe(self) -> dict[str, str]:
        """Start the Stripe stand-in (webhooks to ticketing through the gateway) and answer ticketing's settings:
        the API base and secrets, and where the events group answers read-throughs (the gateway, by Host)."""
        s = self.settings
        env = {"EVENTS_URL": self.url, "EVENTS_HOST": "events.localhost"}
        if not s.stripe:
            return env
        from .stripe_standin import DEV_SECRET_KEY, DEV_WEBHOOK_SECRET, StripeStandIn

        self.stripe = StripeStandIn(host=s.host, port=s.stripe_port, webhook_url=f"{self.url}/webhooks/stripe",
                                    webhook_headers={"Host": "ticketing.localhost"},
                                    state_dir=s.data_dir / "stripe" if s.data_dir is not None else None).start()
        return {**env, "STRIPE_API_BASE": self.stripe.url, "SECRET_STRIPE_SECRET_KEY": DEV_SECRET_KEY,
                "SECRET_STRIPE_WEBHOOK_SECRET": DEV_WEBHOOK_SECRET}

    def _free_ports(self, count: int) -> list[int]:
        """Distinct free ports, none of them the gateway's or the IdP's (chosen but maybe not bound yet)."""
        taken, ports = {self.port, self.settings.idp_port}, []
        while len(ports) < count:
            port = free_port()
            if port not in taken:
                taken.add(port)
                ports.append(port)
        return ports

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    @property
    def signing_keys(self) -> KeyRing:
        """The keys this platform's producers sign events with (what another group's producer would use)."""
        return KeyRing.parse(self.signing_secret)

    @property
    def exchange(self) -> str:
        return self.settings.namespace

    def database(self, group: str) -> str:
        """The name of ``group``'s database on this platform."""
        return f"{self.settings.namespace}_{group}"

    def _serve_gateway(self) -> None:
        import uvicorn

        proxy = self.realtime.proxy if self.realtime is not None else None
        functions = Split(self.pool, self.platform) if self.pool is not None else self.platform
        config = uvicorn.Config(create_app(self.specs, functions, proxy), log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._listener]}, daemon=True,
                                  name="gateway")
        thread.start()
        self._threads.append(thread)
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.02)

    def _every(self, period: float, action, spec) -> None:
        def loop():
            while not self._stop.wait(period):
                try:
                    action(spec)
                except Exception:  # noqa: BLE001 - a failed tick is retried at the next one
                    log.exception("scheduled %s failed", spec.name)

        thread = threading.Thread(target=loop, daemon=True, name=f"schedule-{spec.name}")
        thread.start()
        self._threads.append(thread)

    def deliver(self, spec, message) -> int:
        """One broker delivery through the platform's trigger; the function's HTTP status decides ack/retry."""
        status, _, _ = self.platform.deliver(spec, message)
        with self._lock:
            self._answered[spec.name] += 1
        return status

    def answered(self, function: str) -> int:
        """How many broker deliveries ``function`` has answered so far (any status): what an operator's metrics
        show, and how a test knows that every copy of a duplicated event has landed."""
        with self._lock:
            here = self._answered[function]
        return here + (self.pool.answered(function) if self.pool is not None else 0)

    def spec(self, name: str):
        return next(s for s in self.specs if s.name == name)

    def tick(self, spec, when=None):
        """One schedule tick, as a PingSource (knative) or the cron-connector (openfaas) sends it."""
        if isinstance(spec, str):
            spec = self.spec(spec)
        if self.pool is not None and self.pool.workers[0].serves(spec.group):
            return self.pool.tick(spec, when)
        event = envelope.new_event("dev.knative.sources.ping", f"/apis/v1/namespaces/eventonight/pingsources/"
                                   f"{spec.name}", None, time=when)
        return self.platform.tick(spec, event)
