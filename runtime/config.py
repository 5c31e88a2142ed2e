"""Configuration read once per process and passed in through ``ctx.config``.

Values come from the environment; secrets from ``/var/openfaas/secrets/<name>`` (the mount path both OpenFaaS and
the generated Knative Services use), falling back to an environment variable ``SECRET_<NAME>`` for local runs.
The connection strings (``MONGO_URI``, ``AMQP_URL``) carry credentials, so a mounted secret (``mongo-uri``,
``amqp-url``) wins over the environment variable of the same name.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_SECRETS_DIR = "/var/openfaas/secrets"
DEFAULT_DATABASE_PREFIX = "eventonight_"  # a group's database is <prefix><group>
DEFAULT_EXCHANGE = "eventonight"  # the one durable topic exchange (design §4)
LEASE_MARGIN_SECONDS = 5  # the idempotency lease outlives the platform timeout by this much


class ConfigError(Exception):
    """When a required setting or secret is missing or malformed (named in the message)."""


class Secret:
    """A string that never shows in logs or reprs."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


@dataclass(frozen=True)
class Config:
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def get(self, name: str, default: str | None = None) -> str:
        value = self.environ.get(name, default)
        if value is None:
            raise ConfigError(f"setting {name} is not set")
        return value

    def get_int(self, name: str, default: int) -> int:
        raw = self.environ.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"setting {name}={raw!r} is not an integer") from None

    def secret(self, name: str, default: str | None = None) -> Secret:
        value = self._mounted(name)
        if value is not None:
            return Secret(value)
        env_name = "SECRET_" + name.upper().replace("-", "_")
        value = self.environ.get(env_name, default)
        if value is None:
            raise ConfigError(f"secret {name} is neither mounted at {self._secret_path(name)} nor set as {env_name}")
        return Secret(value)

    def _secret_path(self, name: str) -> str:
        return os.path.join(self.environ.get("SECRETS_DIR", DEFAULT_SECRETS_DIR), name)

    def _mounted(self, name: str) -> str | None:
        path = self._secret_path(name)
        if not os.path.isfile(path):
            return None
        with open(path, encoding="utf-8") as f:
            return f.read().strip()

    def connection(self, secret_name: str, env_name: str, default: str) -> str:
        """A connection string: the mounted secret, else the environment variable, else ``default``."""
        return self._mounted(secret_name) or self.environ.get(env_name) or default

    # Settings every function shares; named here once.
    @property
    def mongo_uri(self) -> str:
        return self.connection("mongo-uri", "MONGO_URI", "mongodb://127.0.0.1:27017/?directConnection=true")

    @property
    def amqp_url(self) -> str:
        return self.connection("amqp-url", "AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")

    @property
    def database_prefix(self) -> str:
        """``DATABASE_PREFIX``: a deployment (or a test) keeps its groups' databases apart by it."""
        return self.get("DATABASE_PREFIX", DEFAULT_DATABASE_PREFIX)

    def database(self, group: str) -> str:
        return f"{self.database_prefix}{group}"

    @property
    def exchange(self) -> str:
        """``EVENT_EXCHANGE``: the topic exchange events are published to (``eventonight``)."""
        return self.get("EVENT_EXCHANGE", DEFAULT_EXCHANGE)

    @property
    def oidc_issuer(self) -> str:
        """``{base}/realms/{realm}``: the ``iss`` every access token must carry."""
        return self.get("OIDC_ISSUER", "http://127.0.0.1:8180/realms/eventonight").rstrip("/")

    @property
    def oidc_audience(self) -> str:
        return self.get("OIDC_AUDIENCE", "eventonight-api")

    @property
    def public_host(self) -> str:
        """The ``<HOST>`` of ``http://<group>.<HOST>`` (the SPA's base), used to build absolute URLs."""
        return self.get("PUBLIC_HOST", "localhost:8080")
