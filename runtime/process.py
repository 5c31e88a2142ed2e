"""What one function process keeps across invocations: config, clock, stores, ledgers, token verifier, clients.

A warm instance serves many invocations; everything here is created on first use and reused (connection pools,
the JWKS cache, indexes ensured once). Nothing here does I/O at construction: a query that never touches the
database (health) must not need it.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone

from . import logs
from .broker import publisher_for
from .config import Config
from .contract import FunctionSpec
from .idempotency import Ledger
from .readthrough import GroupClient
from .signing import KeyRing
from .store import GroupStore


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Runtime:
    """Per-process state shared by invocations."""

    def __init__(self, config: Config | None = None, clock: Callable[[], datetime] = utc_now):
        self.config = config or Config()
        self.clock = clock
        self._stores: dict[str, GroupStore] = {}
        self._ledgers: dict[str, Ledger] = {}
        self._clients: dict[str, GroupClient] = {}
        self._indexed: set[tuple[str, str]] = set()
        self._keys: KeyRing | None = None
        self._lock = threading.Lock()
        logs.configure(self.config.get("LOG_LEVEL", "INFO"))

    def store(self, spec: FunctionSpec) -> GroupStore:
        """The group's store. Every store publishes its commits' events at once (the outbox's fast path),
        whichever function of the group came first; the publisher connects on its first publish."""
        database = self.config.database(spec.group)
        with self._lock:
            if database not in self._stores:
                self._stores[database] = GroupStore(self.config.mongo_uri, database,
                                                    publisher_for(self.config.amqp_url, self.config.exchange),
                                                    self.signing_keys)
            return self._stores[database]

    def ensure_indexes(self, spec: FunctionSpec, store: GroupStore) -> None:
        """The function's declared indexes, created once per process and database (each is a round trip)."""
        missing = [i for i in spec.indexes if (store.database, f"{i.collection}.{i.name}") not in self._indexed]
        for index in missing:
            store.db[index.collection].create_index(list(index.keys), **index.options())
            with self._lock:
                self._indexed.add((store.database, f"{index.collection}.{index.name}"))

    def ledger(self, store: GroupStore) -> Ledger:
        """The group's idempotency ledger, its indexes declared once per process."""
        with self._lock:
            if store.database not in self._ledgers:
                ledger = Ledger(store.db)
                ledger.ensure_indexes()
                self._ledgers[store.database] = ledger
            return self._ledgers[store.database]

    def signing_keys(self) -> KeyRing:
        """The event signing keys (the ``event-signing-keys`` secret), read once per process."""
        if self._keys is None:
            self._keys = KeyRing.from_config(self.config)
        return self._keys

    def verifier(self):
        from .auth import verifier_for

        return verifier_for(self.config)

    def group_client(self, group: str) -> GroupClient:
        with self._lock:
            if group not in self._clients:
                self._clients[group] = GroupClient.from_config(self.config, group)
            return self._clients[group]


_default: Runtime | None = None


def default_runtime() -> Runtime:
    """The process's runtime, configured from the environment on first use (what the adapters serve with)."""
    global _default
    if _default is None:
        _default = Runtime()
    return _default


def reset_default_runtime() -> None:
    """Forget the process's runtime, so the next invocation reads its configuration afresh (a new container)."""
    global _default
    _default = None
