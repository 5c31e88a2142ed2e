"""AsyncAPI: ``events/asyncapi.yaml`` (2.6), one channel per catalogue type with its schema as the payload and the
functions that produce (``emits``) and consume (event trigger) it."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deploy.choices import BROKER_NAME
from deploy.common import dump, event_types, k8s_name
from runtime.contract import FunctionSpec


def render_asyncapi(specs: Sequence[FunctionSpec], catalogue: Mapping[str, Any]) -> str:
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event_type in sorted(catalogue):
        producers = sorted(s.name for s in specs if event_type in s.emits)
        consumers = sorted(s.name for s in specs if event_type in event_types(s))
        message_name = k8s_name(event_type)
        messages[message_name] = {
            "name": event_type,
            "title": event_type,
            "contentType": "application/cloudevents+json",
            "summary": f"CloudEvent of type {event_type}; the payload schema is its data.",
            "payload": catalogue[event_type],
        }
        ref = {"$ref": f"#/components/messages/{message_name}"}
        channels[event_type] = {
            "description": f"Routing key {event_type} on topic exchange {BROKER_NAME}.",
            "x-producers": producers,
            "x-consumers": consumers,
            "bindings": {"amqp": {
                "is": "routingKey",
                "exchange": {"name": BROKER_NAME, "type": "topic", "durable": True, "autoDelete": False,
                             "vhost": "/"},
                "bindingVersion": "0.2.0",
            }},
            "subscribe": {"operationId": "emit-" + message_name,
                          "summary": "Published by: " + (", ".join(producers) or "(no function yet)"),
                          "bindings": {"amqp": {"deliveryMode": 2, "bindingVersion": "0.2.0"}},
                          "message": ref},
            "publish": {"operationId": "consume-" + message_name,
                        "summary": "Consumed by: " + (", ".join(consumers) or "(no function yet)"),
                        "message": ref},
        }
    document = {
        "asyncapi": "2.6.0",
        "info": {"title": "EvenToNight events", "version": "1.0.0",
                 "description": "Every CloudEvent type on the durable topic exchange eventonight (routing key = "
                                "type), structured JSON (application/cloudevents+json) with ce- headers. "
                                "Producers and consumers come from the functions' declarations."},
        "defaultContentType": "application/cloudevents+json",
        "servers": {"rabbitmq": {"url": "rabbitmq.eventonight.svc:5672", "protocol": "amqp",
                                 "protocolVersion": "0.9.1"}},
        "channels": channels,
        "components": {"messages": messages},
    }
    return dump([document], multi=False)
