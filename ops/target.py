"""Which deployment the commands act on: where its HTTP functions answer, its namespace, its store and broker.

The same names the functions use (``runtime.config``): the exchange ``EVENT_EXCHANGE`` (queues are
``<exchange>.<function>``) and the database prefix ``DATABASE_PREFIX`` (``<prefix><group>``); the local runner
sets both from its namespace (``eventonight`` unless a test or a second deployment keeps apart).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from runtime.config import DEFAULT_EXCHANGE

DEFAULT_GATEWAY = "http://127.0.0.1:8080"  # the local runner's gateway (scripts/run)
MEMORY_SCHEME = "memory://"  # the local runner's in-memory bus: its queues live inside the runner's process


class TargetError(ValueError):
    """When the deployment is not described well enough for the command asked (named in the message)."""


@dataclass(frozen=True)
class Target:
    gateway: str  # a URL every group is reached through (by Host header), or a template with {group}
    host: str  # the public <HOST> of http://<group>.<HOST>, sent as the Host header through a gateway
    namespace: str
    database_prefix: str
    mongo_uri: str | None = None
    amqp_url: str | None = None

    def address(self, group: str) -> tuple[str, dict[str, str]]:
        """``(base URL, headers)`` that reach ``group``: its own host from a template
        (``https://{group}.example.org``), else the gateway with ``Host: <group>.<host>``, as the SPA's DNS would."""
        if "{group}" in self.gateway:
            return self.gateway.format(group=group).rstrip("/"), {}
        return self.gateway.rstrip("/"), {"Host": f"{group}.{self.host}"}

    @property
    def exchange(self) -> str:
        return self.namespace

    def database(self, group: str) -> str:
        return f"{self.database_prefix}{group}"

    @property
    def in_memory_bus(self) -> bool:
        """The runner was started without AMQP_URL: nothing outside its process can see its queues."""
        return not self.amqp_url or self.amqp_url.startswith(MEMORY_SCHEME)

    def require_store(self) -> str:
        if not self.mongo_uri:
            raise TargetError("MONGO_URI is not set: point it at the deployment's MongoDB (scripts/ops finds the "
                              "local stand-in by itself)")
        return self.mongo_uri


def target_from(environ: Mapping[str, str], *, gateway: str | None = None, host: str | None = None,
                namespace: str | None = None, database_prefix: str | None = None) -> Target:
    """The target from the command line's choices, else the environment, else the local runner's defaults. A
    namespace given on the command line brings its own database prefix (``<namespace>_``), as the runner's does."""
    gateway = gateway or environ.get("OPS_GATEWAY") or DEFAULT_GATEWAY
    if "{group}" not in gateway and not urlsplit(gateway).hostname:
        raise TargetError(f"--gateway {gateway!r} is not a URL (e.g. http://127.0.0.1:8080 or "
                          "https://{group}.example.org)")
    if namespace:
        prefix = database_prefix or f"{namespace}_"
    else:
        namespace = environ.get("EVENT_EXCHANGE") or DEFAULT_EXCHANGE
        prefix = database_prefix or environ.get("DATABASE_PREFIX") or f"{namespace}_"
    return Target(gateway=gateway, host=host or environ.get("PUBLIC_HOST") or _local_host(gateway),
                  namespace=namespace, database_prefix=prefix, mongo_uri=environ.get("MONGO_URI") or None,
                  amqp_url=environ.get("AMQP_URL") or None)


def _local_host(gateway: str) -> str:
    """``localhost:<port>``: what the local runner's routes answer to, whatever address reaches its gateway."""
    port = urlsplit(gateway.replace("{group}", "group")).port
    return f"localhost:{port}" if port else "localhost"
