"""Shared helpers of the chat tests (no tests here): people with minted tokens known to the chat users mirror, the
chat calls as the SPA makes them, and the wire.

Tokens are minted by the development identity provider and ``user.*`` events published as the users group would,
so most chat tests need only the chat functions.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace

import pytest

from integration_support import Broker, broker  # noqa: F401  (re-exported for the chat tests)
from localrunner.bus import wait_until

AVATAR = "http://media.localhost/users/{}.png"


@dataclass(frozen=True)
class Person:
    id: str
    token: str
    name: str
    role: str


def user_data(user_id: str, name: str, role: str, avatar: str | None = None) -> dict:
    """A ``user.created`` / ``user.updated`` payload as the users group publishes it."""
    return {"id": user_id, "username": name, "name": name, "email": f"{user_id[:8]}@example.org",
            "avatar": avatar or AVATAR.format(user_id), "bio": None, "interests": None, "language": "en",
            "role": role}


@pytest.fixture
def chat_db(group_db):
    return group_db("chat")


@pytest.fixture
def someone(platform, broker, chat_db):
    """``someone("organization", name=...)``: a Person with a minted token whose ``user.created`` the chat mirror
    has applied."""

    def make(role="member", *, name=None):
        user_id = str(uuid.uuid4())
        person = Person(user_id, "", name or f"{role}-{user_id[:6]}", role)
        broker.publish("user.created", user_data(user_id, person.name, role), sequence=1)
        assert wait_until(lambda: mirrored(chat_db, user_id, 1), timeout=10)
        claims = {"user_id": user_id, "preferred_username": person.name, "realm_access": {"roles": [role]}}
        return replace(person, token=platform.idp.mint(claims))

    return make


def mirrored(chat_db, user_id: str, sequence: int) -> bool:
    return chat_db["users"].count_documents({"_id": user_id, "_seq": sequence}) == 1


# ---- the calls ------------------------------------------------------------------------------------------------

def start(api, sender, recipient_id, content="Hello!", *, key=None):
    return api.call("POST", "chat", f"/users/{sender.id}/conversations", token=sender.token, key=key,
                    json={"recipientId": recipient_id, "content": content})


def started(api, sender, recipient, content="Hello!") -> dict:
    """A conversation started (201), as the SentMessage the start answered."""
    response = start(api, sender, recipient.id, content)
    assert response.status_code == 201, response.text
    return response.json()


def send(api, sender, conversation_id, content="Hi", *, key=None):
    return api.call("POST", "chat", f"/users/{sender.id}/conversations/{conversation_id}/messages",
                    token=sender.token, key=key, json={"content": content})


def messages(api, reader, conversation_id, **params):
    return api.call("GET", "chat", f"/users/{reader.id}/conversations/{conversation_id}/messages",
                    token=reader.token, params=params)


def unread(api, person) -> int:
    response = api.call("GET", "chat", f"/users/{person.id}/unread/count", token=person.token)
    assert response.status_code == 200, response.text
    return response.json()["unreadCount"]


def mark_read(api, reader, conversation_id, *, key=None):
    return api.call("PATCH", "chat", f"/users/{reader.id}/conversations/{conversation_id}/read", token=reader.token,
                    key=key, json={})


def conversations(api, person, **params):
    return api.call("GET", "chat", f"/users/{person.id}/conversations", token=person.token, params=params)


def search(api, person, **params):
    return api.call("GET", "chat", f"/users/{person.id}/conversations/search", token=person.token, params=params)


def chat_user(person, name=None) -> dict:
    return {"id": person.id, "name": name or person.name, "avatar": AVATAR.format(person.id)}


# ---- the wire -------------------------------------------------------------------------------------------------

def created_on_wire(messages_seen, conversation_id=None) -> list[dict]:
    """The ``chat.message.created`` data a tap collected, each message counted (an event published twice shows
    twice), optionally of one conversation."""
    found = []
    for _, _, body in messages_seen:
        event = json.loads(body)
        if event["type"] == "chat.message.created" and conversation_id in (None, event["data"]["conversationId"]):
            found.append(event["data"])
    return found


def ledger_count(chat_db, function: str) -> int:
    return chat_db["idempotency"].count_documents({"_id": {"$regex": f"^{function}:"}})
