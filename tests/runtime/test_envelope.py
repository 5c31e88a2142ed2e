"""The one envelope: CloudEvents over AMQP (structured body + ce- headers) and over HTTP, both directions."""
import json

import pytest

import moments
from runtime import envelope
from runtime.errors import BadRequest

WHEN = moments.now()


def make():
    return envelope.new_event("user.created", "/functions/users-register", {"id": "u1"}, event_id="e1", time=WHEN,
                              subject="u1", extensions={"sequence": "1"})


def test_to_amqp_is_structured_with_ce_headers_routing_key_and_message_id():
    message = envelope.to_amqp(make())

    body = json.loads(message.body)
    assert message.routing_key == "user.created" and message.message_id == "e1"
    assert message.content_type == "application/cloudevents+json"
    assert body["type"] == "user.created" and body["data"] == {"id": "u1"} and body["sequence"] == "1"
    assert message.headers["ce-id"] == "e1" and message.headers["ce-type"] == "user.created"
    assert message.headers["ce-source"] == "/functions/users-register"


def test_amqp_round_trip_keeps_every_attribute():
    message = envelope.to_amqp(make())

    event = envelope.from_amqp(message.body, message.content_type,
                               {k: v.encode() for k, v in message.headers.items()})  # pika hands bytes

    assert event.get_id() == "e1" and event.get_data() == {"id": "u1"} and event.get_time() == WHEN
    assert event.get_extension("sequence") == "1" and event.get_subject() == "u1"


def test_an_openfaas_connector_delivery_is_recognised_and_decoded():
    message = envelope.to_amqp(make())
    headers = {"Content-Type": "text/plain", "X-Topic": "user.created", "X-Msg-Id": "e1"}

    assert envelope.is_cloudevent_request(headers, message.body)
    assert envelope.from_http(headers, message.body).get_type() == "user.created"


def test_http_binary_round_trip():
    headers, body = envelope.to_http_binary(make())

    assert headers["ce-type"] == "user.created"
    assert envelope.from_http(headers, body).get_data() == {"id": "u1"}


def test_garbage_is_a_bad_request():
    with pytest.raises(BadRequest):
        envelope.from_amqp(b"{not json", "application/cloudevents+json", {})
    assert not envelope.is_cloudevent_request({"Content-Type": "application/json"}, b'{"a": 1}')


def test_dedup_key_is_source_and_id_and_transport_attributes_are_not_stable():
    event = make()
    assert envelope.dedup_key(event) == "/functions/users-register#e1"
    assert "time" not in envelope.stable_attributes(event)
