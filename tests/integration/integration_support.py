"""What the integration tests share beyond fixtures, importable by name from any test module (a module called
``conftest`` is ambiguous: every test folder has one)."""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone

import httpx
import pytest

from runtime import envelope
from runtime.broker import Publisher

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


class Api:
    """An HTTP client that talks to ``<group>.localhost`` through the gateway, as the SPA does."""

    def __init__(self, platform):
        self.platform = platform
        self.client = httpx.Client(base_url=platform.url, timeout=30)

    def call(self, method, group, path, *, token=None, key=None, **kwargs):
        headers = {"Host": f"{group}.localhost", **kwargs.pop("headers", {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if key:
            headers["Idempotency-Key"] = key
        return self.client.request(method, path, headers=headers, **kwargs)

    def register(self, role="member", *, username=None, password="passw0rd!", key=None):
        username = username or f"u{uuid.uuid4().hex[:10]}"
        response = self.call("POST", "users", "/register", key=key, json={
            "username": username, "email": f"{username}@example.org", "password": password, "role": role})
        assert response.status_code == 201, response.text
        return response.json()


def signed(keys, event):
    """``event`` with the signature a producer of the platform puts on it (``runtime.signing``)."""
    attributes = event.get_attributes()
    extensions = {k: v for k, v in attributes.items() if k not in ("type", "source", "id", "time", "subject",
                                                                   "datacontenttype", "specversion")}
    extensions.update(keys.sign(attributes, event.get_data()))
    return envelope.new_event(event.get_type(), event.get_source(), event.get_data(), event_id=event.get_id(),
                              time=event.get_time(), subject=attributes.get("subject"), extensions=extensions)


class Broker:
    """Publishes CloudEvents on the platform's exchange as other groups' producers would: signed with the
    platform's key (``keys=None`` publishes unsigned events, as a forger would)."""

    def __init__(self, exchange, keys=None, amqp_url=AMQP_URL):
        self.publisher = Publisher(amqp_url, exchange)
        self.keys = keys

    def publish(self, event_type, data, *, sequence=None, event_id=None, time=None, source=None):
        event = envelope.new_event(event_type, source or f"/tests/{event_type}", data,
                                   event_id=event_id or str(uuid.uuid4()), time=time or datetime.now(timezone.utc),
                                   extensions={"sequence": str(sequence)} if sequence is not None else None)
        if self.keys is not None:
            event = signed(self.keys, event)
        self.publisher.publish(envelope.to_amqp(event))
        return event

    def close(self):
        self.publisher.close_quietly()


@pytest.fixture
def broker(platform):
    b = Broker(platform.exchange, platform.signing_keys)
    yield b
    b.close()
