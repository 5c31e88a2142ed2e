"""Shared helpers of the ticketing tests (no tests here): callers with minted tokens, events fed to the mirror as
the events group would publish them, ticket types, checkouts, and the Stripe stand-in's hosted page."""
import json
import uuid
from dataclasses import dataclass

import httpx
import pytest

from integration_support import Broker, broker  # noqa: F401  (re-exported for the ticketing tests)
from localrunner.bus import wait_until
from moments import FUTURE  # noqa: F401  (re-exported for the ticketing tests)

SUCCESS_URL = "http://localhost:5173/events/e1"
CANCEL_URL = "http://localhost:5173/events/e1/purchase"


@dataclass(frozen=True)
class Caller:
    id: str
    token: str


@pytest.fixture
def db(group_db):
    return group_db("ticketing")


@pytest.fixture
def stripe(platform):
    return platform.stripe


@pytest.fixture
def people(platform):
    def make(role="member"):
        user_id = str(uuid.uuid4())
        return Caller(user_id, platform.idp.mint({"user_id": user_id, "preferred_username": f"{role}-{user_id[:6]}",
                                                  "realm_access": {"roles": [role]}}))

    return make


@pytest.fixture
def org(people):
    return people("organization")


@pytest.fixture
def member(people):
    return people("member")


def mirror_event(broker, db, creator, *, status="PUBLISHED", date=FUTURE, sequence=1, collaborators=(),
                 event_id=None):
    """An event as ``event.created`` tells ticketing about it; waits until the mirror has it."""
    event_id = event_id or str(uuid.uuid4())
    broker.publish("event.created", {
        "eventId": event_id, "creatorId": creator.id, "collaboratorIds": list(collaborators), "name": "Rave night",
        "date": date, "status": status, "tags": None, "instant": 1767225600000, "locationName": "Club"},
        sequence=sequence)
    assert wait_until(lambda: db["events"].find_one({"_id": event_id, "_seq": {"$gte": sequence}}), timeout=10)
    return event_id


@pytest.fixture
def on_sale(broker, db, org):
    """A PUBLISHED future event of ``org`` in ticketing's mirror."""
    return mirror_event(broker, db, org)


def add_type(api, org, event_id, type_="STANDARD", price=25.0, quantity=10, **extra):
    response = api.call("POST", "ticketing", f"/events/{event_id}/ticket-types", token=org.token,
                        json={"type": type_, "price": price, "quantity": quantity, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def checkout(api, buyer, type_ids, *, key=None, names=None):
    items = [{"ticketTypeId": t, "attendeeName": (names or {}).get(i, f"Guest {i}")} for i, t in enumerate(type_ids)]
    return api.call("POST", "ticketing", "/checkout-sessions", token=buyer.token, key=key, json={
        "userId": buyer.id, "items": items, "successUrl": SUCCESS_URL, "cancelUrl": CANCEL_URL})


def pay_on_hosted_page(redirect_url):
    """What a buyer does: open the session's page, press "Pay"; answers the redirect's Location."""
    page = httpx.get(redirect_url, timeout=10)
    assert page.status_code == 200 and "Pay" in page.text
    paid = httpx.post(redirect_url.rstrip("/") + "/pay", timeout=10)
    assert paid.status_code == 303, paid.text
    return paid.headers["location"]


def order_status(db, order_id):
    return (db["orders"].find_one({"_id": order_id}, {"status": 1}) or {}).get("status")


def wait_status(db, order_id, status, timeout=15):
    """The order reached ``status`` and, once decided, was settled (holds and tickets follow the decision)."""
    query = {"_id": order_id, "status": status, **({} if status == "PENDING" else {"settled": True})}
    return wait_until(lambda: db["orders"].find_one(query) is not None, timeout=timeout)


def stock(db, type_id):
    doc = db["ticket_types"].find_one({"_id": type_id})
    return doc["available"], doc["sold"], len(doc.get("holds") or [])


def on_wire(messages, event_type):
    return [json.loads(b)["data"] for _, _, b in messages if json.loads(b)["type"] == event_type]


def sent_for(wire, event_type, *, count=1, **match):
    """Every ``event_type`` data on the wire whose fields equal ``match``, once ``count`` arrived and the wire has
    settled; each message counts, so an event published twice shows twice."""
    def found(messages):
        return [d for d in on_wire(messages, event_type) if all(d.get(k) == v for k, v in match.items())]

    wire.drain(until=lambda messages: len(found(messages)) >= count)
    return found(wire.settle())
