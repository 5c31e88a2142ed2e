"""The one event envelope (design §4, platforms.md §0.4): CloudEvents 1.0 over AMQP 0-9-1 and over HTTP.

On RabbitMQ a message is the *structured* JSON event (``application/cloudevents+json``) with the same attributes
repeated as ``ce-`` headers, routing key = ``type``, ``message_id`` = ``id``, persistent. The OpenFaaS connectors
forward only the body and the Knative RabbitMQ source detects structured mode by content type, so both platforms
see the whole event. Pure functions over frozen values; no client library types leak in or out.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from cloudevents.core.bindings import http as ce_http
from cloudevents.core.bindings import rabbitmq as ce_rabbitmq
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from .errors import BadRequest

STRUCTURED = "application/cloudevents+json"
_FORMAT = JSONFormat()
# Attributes a sender may change between retries (Knative §3.3), and the signature (a relay republishing an event
# after a key rotation signs it anew): never part of an idempotency hash.
TRANSPORT_ATTRIBUTES = frozenset({"time", "traceparent", "tracestate", "knativeerrordest", "knativeerrorcode",
                                  "knativeerrordata", "knativearrivaltime", "signature", "signaturekid"})


@dataclass(frozen=True)
class AmqpMessage:
    """What to hand a client's publish: routing key, body and the basic properties."""

    routing_key: str
    body: bytes
    content_type: str
    message_id: str
    headers: Mapping[str, str]


def new_event(event_type: str, source: str, data: Any, *, event_id: str | None = None,
              time: datetime | None = None, subject: str | None = None,
              extensions: Mapping[str, Any] | None = None) -> CloudEvent:
    """A CloudEvent with JSON data; ``id`` and ``time`` are filled only when absent."""
    attributes: dict[str, Any] = {
        "type": event_type, "source": source, "id": event_id or str(uuid.uuid4()),
        "time": time or datetime.now(timezone.utc), "datacontenttype": "application/json",
    }
    if subject:
        attributes["subject"] = subject
    attributes.update(extensions or {})
    return CloudEvent(attributes=attributes, data=data)


def to_amqp(event: CloudEvent) -> AmqpMessage:
    structured = ce_rabbitmq.to_structured(event, _FORMAT)
    headers = dict(ce_rabbitmq.to_binary(event, _FORMAT).headers)
    return AmqpMessage(event.get_type(), structured.body, STRUCTURED, event.get_id(), headers)


def from_amqp(body: bytes, content_type: str | None, headers: Mapping[str, Any] | None) -> CloudEvent:
    """Structured or binary; pika may hand header values as bytes."""
    clean = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in (headers or {}).items()
             if isinstance(v, (str, bytes, int, float))}
    try:
        return ce_rabbitmq.from_rabbitmq(ce_rabbitmq.RabbitMQMessage(clean, content_type, body), _FORMAT)
    except (BaseCloudEventException, ValueError, KeyError, TypeError) as exc:
        raise BadRequest(f"not a CloudEvent: {exc}", code="invalid_cloudevent") from exc


def to_http_binary(event: CloudEvent) -> tuple[dict[str, str], bytes]:
    message = ce_http.to_binary(event, _FORMAT)
    return dict(message.headers), message.body


def is_cloudevent_request(headers: Mapping[str, str], body: bytes) -> bool:
    """Binary (``ce-`` headers), structured content type, or a structured event under another content type (the
    OpenFaaS connectors post the message body as ``text/plain`` with ``X-Topic``)."""
    lower = {k.lower(): v for k, v in headers.items()}
    if "ce-specversion" in lower or lower.get("content-type", "").startswith("application/cloudevents"):
        return True
    if "x-topic" in lower and body[:1] == b"{":
        try:
            parsed = json.loads(body)
        except ValueError:
            return False
        return isinstance(parsed, dict) and "specversion" in parsed and "type" in parsed
    return False


def from_http(headers: Mapping[str, str], body: bytes) -> CloudEvent:
    lower = {k.lower(): v for k, v in headers.items()}
    if "ce-specversion" not in lower:
        lower["content-type"] = STRUCTURED  # a structured body under a connector's content type
    try:
        return ce_http.from_http(ce_http.HTTPMessage(lower, body), _FORMAT)
    except (BaseCloudEventException, ValueError, KeyError, TypeError) as exc:
        raise BadRequest(f"not a CloudEvent: {exc}", code="invalid_cloudevent") from exc


def dedup_key(event: CloudEvent) -> str:
    """The CloudEvents duplicate rule: ``source`` + ``id`` identify an occurrence."""
    return f"{event.get_source()}#{event.get_id()}"


def stable_attributes(event: CloudEvent) -> dict[str, Any]:
    return {k: v for k, v in event.get_attributes().items() if k not in TRANSPORT_ATTRIBUTES}
