"""Events prove where they come from: an HMAC our producers put on every CloudEvent, checked by every consumer.

The outbox signs each event as it publishes it; every event-triggered function verifies the signature before
anything else and refuses what is unsigned or forged (a final 400: dead-lettered, never retried). The signature is
two CloudEvents extension attributes, so it travels unchanged through both delivery paths (the OpenFaaS connector
posts the structured JSON event; the Knative trigger delivers binary mode with ``ce-`` headers):

- ``signaturekid``: which key signed (keys rotate: the secret lists several);
- ``signature``: ``v1=<hex HMAC-SHA256>`` over the canonical JSON of ``id``, ``source``, ``type``, ``subject``,
  ``time`` (UTC, microseconds), ``sequence`` and ``data``: everything a consumer acts on.

Keys come from the mounted secret ``event-signing-keys``: one ``<kid>:<secret>`` per line, the first one signs, all
of them verify (add the new key second, roll it out, move it first, later drop the old one).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timezone
from typing import Any

from .dates import aware
from .errors import BadRequest

SECRET_NAME = "event-signing-keys"
SIGNATURE, KEY_ID = "signature", "signaturekid"
SCHEME = "v1"
MIN_SECRET_BYTES = 32


class SigningKeysError(ValueError):
    """When the ``event-signing-keys`` secret cannot be read as ``<kid>:<secret>`` lines."""


def canonical(attributes: Mapping[str, Any], data: Any) -> bytes:
    """The signed bytes: the attributes consumers act on, and the data, as canonical JSON."""
    moment = attributes.get("time")
    signed = {"id": attributes.get("id"), "source": attributes.get("source"), "type": attributes.get("type"),
              "subject": attributes.get("subject"), "sequence": attributes.get("sequence"),
              "time": aware(moment).astimezone(timezone.utc).isoformat(timespec="microseconds") if moment else None,
              "data": data}
    return json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[tuple[str, bytes], ...]  # (kid, secret); the first signs

    @classmethod
    def parse(cls, text: str) -> KeyRing:
        keys = []
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            kid, sep, secret = line.partition(":")
            if not sep or not kid.strip() or len(secret.strip().encode()) < MIN_SECRET_BYTES:
                raise SigningKeysError(f"{SECRET_NAME} line {number}: expected <kid>:<secret of at least "
                                       f"{MIN_SECRET_BYTES} bytes>")
            keys.append((kid.strip(), secret.strip().encode()))
        if not keys:
            raise SigningKeysError(f"{SECRET_NAME} holds no key")
        return cls(tuple(keys))

    @classmethod
    def from_config(cls, config) -> KeyRing:
        return cls.parse(config.secret(SECRET_NAME).reveal())

    def sign(self, attributes: Mapping[str, Any], data: Any) -> dict[str, str]:
        """The extension attributes that sign an event with the current key."""
        kid, secret = self.keys[0]
        return {KEY_ID: kid, SIGNATURE: f"{SCHEME}={_mac(secret, canonical(attributes, data))}"}

    def verify(self, event) -> None:
        """Refuse (400, final) an event that carries no signature, an unknown key id, or a signature that does not
        match what it says."""
        kid, signature = event.get_extension(KEY_ID), event.get_extension(SIGNATURE)
        if not kid or not signature:
            raise BadRequest("The event is not signed by a producer of this platform.", code="missing_signature")
        secret = dict(self.keys).get(str(kid))
        scheme, _, mac = str(signature).partition("=")
        expected = _mac(secret, canonical(event.get_attributes(), event.get_data())) if secret else ""
        if secret is None or scheme != SCHEME or not hmac.compare_digest(mac, expected):
            raise BadRequest("The event's signature does not verify.", code="invalid_signature")


def _mac(secret: bytes, payload: bytes) -> str:
    return hmac.new(secret, payload, hashlib.sha256).hexdigest()
