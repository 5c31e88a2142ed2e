"""The notifications group's pure rules: query parameters, derived ids, views and push payloads, settings the
Socket.IO service and the functions must agree on."""
from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from realtime import server, settings
from runtime import InvalidInput
from runtime.config import Config

from functions.notifications import fanout, model, push

NOW = datetime.now(timezone.utc).replace(microsecond=123000)


def request(**query):
    return SimpleNamespace(query_one=lambda name: query.get(name))


@pytest.mark.parametrize("raw, value", [(None, 20), ("", 20), ("1", 1), ("100", 100), ("37", 37)])
def test_limit_accepts_1_to_100(raw, value):
    assert model.int_param(request(limit=raw), "limit", 20, 1, 100) == value


@pytest.mark.parametrize("raw", ["0", "101", "-3", "ten", "1.5"])
def test_limit_outside_1_to_100_is_invalid_input_naming_it(raw):
    with pytest.raises(InvalidInput) as caught:
        model.int_param(request(limit=raw), "limit", 20, 1, 100)
    assert caught.value.status == 400 and caught.value.body()["details"][0]["field"] == "limit"


@pytest.mark.parametrize("raw, value", [("true", True), ("True", True), ("1", True), ("false", False),
                                        ("FALSE", False), ("0", False), (None, False), ("", False)])
def test_unread_only_is_a_real_boolean(raw, value):
    assert model.bool_param(request(unreadOnly=raw), "unreadOnly") is value


@pytest.mark.parametrize("raw", ["yes", "no", "2", "t"])
def test_unread_only_rejects_anything_else(raw):
    with pytest.raises(InvalidInput):
        model.bool_param(request(unreadOnly=raw), "unreadOnly")


def test_ids_derive_from_the_cause_and_the_recipient():
    assert model.derived_id("src#1", "alice") == model.derived_id("src#1", "alice")
    assert len({model.derived_id("src#1", "alice"), model.derived_id("src#1", "bob"),
                model.derived_id("src#2", "alice")}) == 3


def test_a_notification_views_as_the_reference_and_pushes_without_owner_fields():
    doc = model.notification("src#1", "alice", "like", {"eventId": "e1"}, "bob", NOW)
    assert model.view(doc) == {"id": doc["_id"], "userId": "alice", "type": "like", "metadata": {"eventId": "e1"},
                               "read": False, "createdAt": model.iso(NOW), "updatedAt": model.iso(NOW)}
    assert model.push_payload(doc) == {"id": doc["_id"], "type": "like", "metadata": {"eventId": "e1"},
                                       "read": False, "createdAt": model.iso(NOW)}
    assert model.view(doc)["createdAt"].endswith("Z")


def test_a_message_push_carries_the_references_metadata_only():
    data = {"receiverId": "r", "conversationId": "c", "senderId": "s", "senderName": "S", "message": "hi",
            "messageId": "m", "senderAvatar": "a", "createdAt": "t"}
    assert model.message_payload(data) == {"type": "message", "metadata": {
        "conversationId": "c", "senderId": "s", "senderName": "S", "message": "hi", "messageId": "m",
        "senderAvatar": "a", "createdAt": "t"}}


def test_new_event_metadata_names_the_event_and_its_creator():
    data = {"eventId": "e", "name": "Opening", "creatorId": "o", "creatorName": "Org", "date": None}
    assert fanout.metadata(data) == {"creatorId": "o", "eventId": "e", "eventName": "Opening", "creatorName": "Org"}


def test_the_functions_and_the_service_share_one_exchange_and_one_room_name():
    assert push.channel_of("t123") == settings.channel_of("t123") == "t123.socketio"
    assert push.room_of("u1") == server.room_of("u1") == "user:u1"


def test_the_service_allows_the_spas_origins_with_credentials_by_default():
    s = settings.Settings.from_config(Config({"PUBLIC_HOST": "eventonight.example", "EVENT_EXCHANGE": "ns"}))
    assert s.cors_origins == ("http://localhost:5173", "http://eventonight.example", "https://eventonight.example")
    assert s.channel == "ns.socketio" and s.database == "eventonight_notifications"
    assert s.ttl.total_seconds() == 3 * s.heartbeat.total_seconds() == 15
    own = settings.Settings.from_config(Config({"SOCKETIO_CORS_ORIGINS": "https://a.example/, https://b.example",
                                                "PRESENCE_HEARTBEAT_SECONDS": "1", "PRESENCE_TTL_SECONDS": "4"}))
    assert own.cors_origins == ("https://a.example", "https://b.example") and own.ttl.total_seconds() == 4
    assert settings.Settings.from_config(Config({"AMQP_URL": "memory://local"})).broadcast is False
    assert s.transports == ("polling", "websocket")
    assert settings.Settings.from_config(Config({"SOCKETIO_TRANSPORTS": "websocket"})).transports == ("websocket",)


@pytest.mark.parametrize("environ, auth, token", [
    ({}, {"token": "abc"}, "abc"),
    ({}, {"token": "Bearer abc"}, "abc"),
    ({"HTTP_AUTHORIZATION": "Bearer xyz"}, None, "xyz"),
    ({"HTTP_AUTHORIZATION": "Bearer xyz"}, {"token": "abc", "userId": "ignored"}, "abc"),
    ({}, {"userId": "u1"}, None),
    ({"HTTP_AUTHORIZATION": "Basic xyz"}, {"token": "  "}, None),
])
def test_the_handshake_token_comes_from_auth_or_the_authorization_header(environ, auth, token):
    assert server.token_of(environ, auth) == token
