"""Reading through to another group's query functions (design §6), one client for every group.

A command that needs another group's data its mirror may not have yet (the SPA creates an event and at once its
ticket types) asks the owning group over HTTP instead of refusing. ``<GROUP>_URL`` says where the group answers
(default ``https://<group>.<PUBLIC_HOST>``); ``<GROUP>_HOST`` sets the Host header where one gateway serves every
group by host, as the local runner does on 127.0.0.1.
"""
from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import quote, urlsplit

from .contract import HttpRequest
from .errors import Unavailable

TIMEOUT_SECONDS = 3.0


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class GroupClient:
    """``get(path, *ids)``: the JSON a group's GET answers, ``None`` for 404/403, ``Unavailable`` otherwise."""

    def __init__(self, group: str, base_url: str, host_header: str | None = None,
                 timeout_seconds: float = TIMEOUT_SECONDS):
        self.group = group
        self.base_url = base_url.rstrip("/")
        self.host_header = host_header
        self.timeout_seconds = timeout_seconds
        parts = urlsplit(self.base_url)
        # A user's token travels only where nobody on the way can read it: TLS, or this very machine.
        self.may_forward_tokens = parts.scheme == "https" or _loopback(parts.hostname or "")

    @classmethod
    def from_config(cls, config, group: str) -> GroupClient:
        prefix = group.upper()
        base_url = config.get(f"{prefix}_URL", "") or f"https://{group}.{config.public_host}"
        return cls(group, base_url, config.get(f"{prefix}_HOST", "") or None)

    def url(self, path: str, *ids: str) -> str:
        return self.base_url + path.format(*(quote(str(i), safe="") for i in ids))

    def get(self, path: str, *ids: str, caller: HttpRequest | None = None) -> Any:
        import httpx

        headers = {"Accept": "application/json"}
        if self.host_header:
            headers["Host"] = self.host_header
        authorization = caller.header("authorization") if caller is not None else None
        if authorization and self.may_forward_tokens:
            headers["Authorization"] = authorization
        try:
            response = httpx.get(self.url(path, *ids), headers=headers, timeout=self.timeout_seconds)
        except httpx.HTTPError as exc:
            raise Unavailable(f"The {self.group} service could not be reached; try again.") from exc
        if response.status_code in (403, 404):
            return None
        if response.status_code != 200:
            raise Unavailable(f"The {self.group} service could not answer ({response.status_code}); try again.")
        try:
            return response.json()
        except ValueError as exc:
            raise Unavailable(f"The {self.group} service answered something unreadable; try again.") from exc
