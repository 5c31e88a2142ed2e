"""Configuration read once per process and passed in through ``ctx.config``.

Values come from the environment; secrets from ``/var/openfaas/secrets/<name>`` (the mount path both OpenFaaS and
the generated Knative Services use), falling back to an environment variable ``SECRET_<NAME>`` for local runs.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_SECRETS_DIR = "/var/openfaas/secrets"
DEFAULT_FUNCTION_TIMEOUT_SECONDS = 10
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

    def get_bool(self, name: str, default: bool = False) -> bool:
        raw = self.environ.get(name)
        if raw is None or raw == "":
            return default
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"setting {name}={raw!r} is not a boolean")

    def secret(self, name: str, default: str | None = None) -> Secret:
        directory = self.environ.get("SECRETS_DIR", DEFAULT_SECRETS_DIR)
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                return Secret(f.read().strip())
        env_name = "SECRET_" + name.upper().replace("-", "_")
        value = self.environ.get(env_name, default)
        if value is None:
            raise ConfigError(f"secret {name} is neither mounted at {path} nor set as {env_name}")
        return Secret(value)

    # Settings every function shares; named here once.
    @property
    def mongo_uri(self) -> str:
        return self.get("MONGO_URI", "mongodb://127.0.0.1:27017/?directConnection=true")

    @property
    def amqp_url(self) -> str:
        return self.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")

    @property
    def oidc_issuer(self) -> str:
        """``{base}/realms/{realm}``: the ``iss`` every access token must carry."""
        return self.get("OIDC_ISSUER", "http://127.0.0.1:8180/realms/eventonight").rstrip("/")

    @property
    def oidc_audience(self) -> str:
        return self.get("OIDC_AUDIENCE", "eventonight-api")

    @property
    def function_timeout_seconds(self) -> int:
        return self.get_int("FUNCTION_TIMEOUT_SECONDS", DEFAULT_FUNCTION_TIMEOUT_SECONDS)

    @property
    def public_host(self) -> str:
        """The ``<HOST>`` of ``http://<group>.<HOST>`` (the SPA's base), used to build absolute URLs."""
        return self.get("PUBLIC_HOST", "localhost:8080")
