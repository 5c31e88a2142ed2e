"""Shared helpers of the interactions tests (no tests here): people with minted tokens known to the users mirror,
events fed to the events mirror as the events group publishes them, participations as ticketing confirms orders,
the calls the SPA makes, and what went over the wire.

Users and events reach the mirrors through real RabbitMQ, as the users and events groups would publish them.
"""
import json
import uuid
from dataclasses import dataclass

import pytest

from integration_support import broker  # noqa: F401  (re-exported for the interactions tests)
from localrunner.bus import wait_until
from moments import FUTURE
from runtime import envelope
from runtime.idempotency import Ledger

AVATAR = "http://media.localhost/users/default.png"


@dataclass(frozen=True)
class Person:
    id: str
    token: str
    name: str
    username: str
    role: str


@pytest.fixture
def idb(group_db):
    """The interactions group's database on this module's platform."""
    return group_db("interactions")


def user_data(user_id, name, username, role, avatar=AVATAR):
    return {"id": user_id, "username": username, "name": name, "email": f"{username}@example.org", "avatar": avatar,
            "bio": None, "interests": None, "language": "en", "role": role}


@pytest.fixture
def person(platform, broker, idb):
    """``person("organization")``: a minted token for a user the users mirror knows (``mirror=False``: one it has
    not heard of yet, as when ``user.created`` is late)."""

    def make(role="member", *, mirror=True, name=None):
        user_id = str(uuid.uuid4())
        username = f"{role[:3]}{user_id[:8]}"
        name = name or f"{role.title()} {user_id[:6]}"
        token = platform.idp.mint({"user_id": user_id, "preferred_username": username,
                                   "realm_access": {"roles": [role]}})
        if mirror:
            broker.publish("user.created", user_data(user_id, name, username, role), sequence=1)
            assert wait_until(lambda: idb["users"].find_one({"_id": user_id, "_seq": 1}), timeout=10)
        return Person(user_id, token, name, username, role)

    return make


@pytest.fixture
def known_event(broker, idb):
    """``known_event(org)``: an event of ``org`` as ``event.created`` tells the mirror (PUBLISHED unless told)."""

    def make(creator, *, status="PUBLISHED", collaborators=(), name=None, sequence=1, event_id=None):
        event_id = event_id or str(uuid.uuid4())
        broker.publish("event.created", {
            "eventId": event_id, "creatorId": creator.id, "collaboratorIds": list(collaborators),
            "name": name or f"Night {event_id[:6]}", "date": FUTURE, "status": status, "tags": None,
            "instant": 1767225600000, "locationName": "Club"}, sequence=sequence)
        assert wait_until(lambda: idb["events"].find_one({"_id": event_id, "_seq": sequence}), timeout=10)
        return event_id

    return make


def move_event(broker, idb, event_id, event_type, sequence):
    """``event.completed`` / ``event.cancelled`` / ``event.deleted`` as the events group publishes them."""
    broker.publish(event_type, {"eventId": event_id}, sequence=sequence)
    assert wait_until(lambda: idb["events"].find_one({"_id": event_id, "_seq": sequence}), timeout=10)


def confirm_order(broker, idb, event_id, user_id, order_id=None):
    """``payments.order.confirmed`` as ticketing publishes it; waits until the participation holds the order."""
    order_id = order_id or f"order_{uuid.uuid4()}"
    sent = broker.publish("payments.order.confirmed", {"orderId": order_id, "userId": user_id, "eventId": event_id})
    assert wait_until(lambda: handled(idb, "interactions-record-participation", sent), timeout=10)
    return order_id


def handled(idb, function, event) -> bool:
    """The delivery of ``event`` to ``function`` completed (its ledger record, or its commit's receipt)."""
    return Ledger(idb).answer(function, envelope.dedup_key(event)) is not None


@pytest.fixture
def reviewable(known_event, broker, idb):
    """``reviewable(org, fans)``: a COMPLETED event of ``org`` in which each of ``fans`` took part."""

    def make(org, fans, *, collaborators=(), name=None):
        event_id = known_event(org, collaborators=[c.id for c in collaborators], name=name)
        move_event(broker, idb, event_id, "event.completed", 2)
        for fan in fans:
            confirm_order(broker, idb, event_id, fan.id)
        return event_id

    return make


# ---- the SPA's calls --------------------------------------------------------------------------------------------

def like(api, who, event_id, *, key=None, body=None):
    return api.call("POST", "interactions", f"/events/{event_id}/likes", token=who.token, key=key,
                    json=body if body is not None else {"userId": who.id})


def unlike(api, who, event_id, *, key=None):
    return api.call("DELETE", "interactions", f"/events/{event_id}/likes/{who.id}", token=who.token, key=key)


def follow(api, who, followed_id, *, key=None):
    return api.call("POST", "interactions", f"/users/{who.id}/following", token=who.token, key=key,
                    json={"followedId": followed_id})


def unfollow(api, who, followed_id, *, key=None):
    return api.call("DELETE", "interactions", f"/users/{who.id}/following/{followed_id}", token=who.token, key=key)


def review(api, who, event_id, *, rating=5, title="Great night", key=None, **extra):
    body = {"userId": who.id, "rating": rating, "title": title, **extra}
    return api.call("POST", "interactions", f"/events/{event_id}/reviews", token=who.token, key=key, json=body)


def get(api, path, token=None, **params):
    return api.call("GET", "interactions", path, token=token, params=params)


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def refused(response, status, error, message=None):
    """An error answer: its status, code and (when given) message, in the one error shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error and set(body) <= {"error", "message", "details"}, body
    if message is not None:
        assert body["message"] == message, body
    return body


def wire_data(messages, event_type):
    """``[(data, sequence)]`` of each ``event_type`` message a tap collected (a message sent twice shows twice)."""
    out = []
    for _, _, body in messages:
        message = json.loads(body)
        if message["type"] == event_type:
            out.append((message["data"], int(message["sequence"]) if "sequence" in message else None))
    return out


def user_ids(page):
    return [item["userId"] for item in page["items"]]
