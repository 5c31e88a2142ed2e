"""Shared helpers of the events tests (no tests here): organizations with minted tokens, broker events, the wire.

Tokens are minted by the development identity provider, so these tests need only the events functions; the
users mirror is fed by publishing ``user.*`` events as the users group would.
"""
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from integration_support import Broker, broker  # noqa: F401  (re-exported for the events tests)
from localrunner.bus import wait_until
from moments import FUTURE
from runtime import envelope
from runtime.idempotency import Ledger

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
LOCATION = {"name": "Beach Club", "city": "Rimini", "country_code": "it", "lat": 44.06, "lon": 12.58}


@dataclass(frozen=True)
class Caller:
    id: str
    token: str
    name: str


def publishable(**changes):
    body = {"title": "Summer Rave", "description": "All night long", "date": FUTURE, "status": "PUBLISHED",
            "location": LOCATION, "tags": ["DJ Set"]}
    return {k: v for k, v in {**body, **changes}.items() if v is not None}


@pytest.fixture
def events_db(group_db):
    return group_db("events")


@pytest.fixture
def callers(platform, broker, events_db):
    """``callers("organization")`` → a Caller with a minted token, known to the users mirror (``mirror=False``:
    unknown, as when the mirror lags)."""

    def make(role="organization", *, mirror=True, name=None):
        user_id = str(uuid.uuid4())
        name = name or f"{role}-{user_id[:6]}"
        token = platform.idp.mint({"user_id": user_id, "preferred_username": name,
                                   "realm_access": {"roles": [role]}})
        if mirror:
            broker.publish("user.created", {
                "id": user_id, "username": name, "name": name, "email": f"{name}@example.org",
                "avatar": "http://media.localhost/users/default.png", "bio": None, "interests": None,
                "language": "en", "role": role}, sequence=1)
            assert wait_until(lambda: events_db["users"].find_one({"_id": user_id, "role": role}), timeout=10)
        return Caller(user_id, token, name)

    return make


def handled(events_db, function, event) -> bool:
    """The delivery of ``event`` to ``function`` completed (its ledger record, or its commit's receipt)."""
    return Ledger(events_db).answer(function, envelope.dedup_key(event)) is not None


def create(api, caller, body=None, *, key=None, **kwargs):
    response = api.call("POST", "events", "/", token=caller.token, key=key,
                        json=body if body is not None else {"title": "Draft night"}, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()["eventId"]


def on_wire(messages, event_type=None, event_id=None):
    """The CloudEvents ``[(type, data)]`` a tap collected, optionally of one type and one event, each message
    counted (an event published twice shows twice)."""
    found = []
    for _, _, body in messages:
        message = json.loads(body)
        if (event_type is None or message["type"] == event_type) and (
                event_id is None or (message.get("data") or {}).get("eventId") == event_id):
            found.append((message["type"], message["data"]))
    return found


def soon(minutes=2) -> datetime:
    """A moment a little ahead of the wall clock, on a whole second (dates are stored to the second)."""
    return (datetime.now(timezone.utc) + timedelta(minutes=minutes)).replace(microsecond=0)


def stored(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def multipart(parts, boundary="eventonight-test-boundary"):
    """``{name: (filename | None, bytes | str, content type)}`` as one fixed body: a retry byte for byte."""
    chunks = []
    for name, (filename, data, content_type) in parts.items():
        data = data.encode() if isinstance(data, str) else data
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        chunks.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: {content_type}\r\n\r\n"
                      .encode() + data + b"\r\n")
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    return {"headers": {"Content-Type": f"multipart/form-data; boundary={boundary}"}, "content": body}


def get(api, event_id, caller=None):
    """GET events.<HOST>/{eventId}, as the caller (or anonymously)."""
    return api.call("GET", "events", f"/{event_id}", token=caller.token if caller else None)


def put(api, caller, event_id, body, key=None):
    return api.call("PUT", "events", f"/{event_id}", token=caller.token, key=key, json=body)


def types_for(messages, event_id):
    return [t for t, _ in on_wire(messages, event_id=event_id)]
