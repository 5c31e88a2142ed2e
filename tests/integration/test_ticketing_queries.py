"""Events as ticketing sees them: the price filter (`GET /events`), one event (`GET /events/{eventId}`), deleting all
of an event's ticket types, and the cascade of ``event.deleted`` to the ticket types."""
import json
import random
import uuid

import pytest

from localrunner.bus import wait_until
from runtime import envelope
from runtime.idempotency import Ledger
from ticketing_support import FUTURE, add_type, checkout, mirror_event, on_wire


def unusual_price():
    """A price no other test uses, so the filter's answer is exactly this test's events."""
    return round(random.uniform(500, 998), 2)


def events_page(api, token=None, **query):
    response = api.call("GET", "ticketing", "/events", token=token, params=query)
    assert response.status_code == 200, response.text
    return response.json()


def deleted_on_wire(wire, *, count):
    """Every ``ticket-type.deleted`` on the wire, once ``count`` arrived and the wire settled (each message counts)."""
    wire.drain(until=lambda messages: len(on_wire(messages, "ticket-type.deleted")) >= count)
    return on_wire(wire.settle(), "ticket-type.deleted")


def delivered(db, event):
    """The mirror finished this delivery (its ledger record, or its commit's receipt)."""
    return wait_until(lambda: Ledger(db).answer("ticketing-mirror-events", envelope.dedup_key(event)), timeout=10)


# ---- GET /events ------------------------------------------------------------------------------------------------

def test_events_by_price_are_paged_in_a_stable_order_and_hide_others_drafts(api, broker, db, org, people):
    price = unusual_price()
    collaborator, stranger = people("organization"), people("member")
    published = sorted(mirror_event(broker, db, org) for _ in range(5))
    for event_id in published:
        add_type(api, org, event_id, "STANDARD", price, 10)
    dearer = mirror_event(broker, db, org)
    add_type(api, org, dearer, "VIP", round(price + 0.01, 2), 10)
    draft = mirror_event(broker, db, org, status="DRAFT", collaborators=[collaborator.id])
    add_type(api, org, draft, "STANDARD", price, 10)

    everything = events_page(api, minPrice=price, maxPrice=price)
    assert everything == {"items": published, "totalItems": 5, "limit": 20, "offset": 0, "hasMore": False}
    pages = [events_page(api, minPrice=price, maxPrice=price, limit=2, offset=offset) for offset in (0, 2, 4)]
    assert [p["items"] for p in pages] == [published[0:2], published[2:4], published[4:]]
    assert [p["hasMore"] for p in pages] == [True, True, False] and {p["totalItems"] for p in pages} == {5}
    assert events_page(api, minPrice=price, maxPrice=price, offset=5)["items"] == []
    assert events_page(api, minPrice=price, maxPrice=price, limit=500)["limit"] == 100

    assert events_page(api, stranger.token, minPrice=price, maxPrice=price)["items"] == published
    mine = sorted(published + [draft])
    assert events_page(api, org.token, minPrice=price, maxPrice=price)["items"] == mine
    assert events_page(api, collaborator.token, minPrice=price, maxPrice=price)["items"] == mine
    assert events_page(api, "not-a-token", minPrice=price, maxPrice=price)["items"] == published  # anonymous

    wider = events_page(api, minPrice=price, maxPrice=round(price + 0.01, 2), currency="usd")
    assert wider["items"] == sorted(published + [dearer])
    assert events_page(api, minPrice=round(price + 0.01, 2), maxPrice=round(price + 0.01, 2))["items"] == [dearer]


@pytest.mark.parametrize("query, fields", [
    ({"currency": "EUR"}, {"currency"}),
    ({"minPrice": "-1", "maxPrice": "cheap", "limit": "0", "offset": "-1"}, {"minPrice", "maxPrice", "limit", "offset"}),
    ({"minPrice": "nan"}, {"minPrice"}),
    ({"minPrice": "20", "maxPrice": "10"}, {"minPrice"}),
    ({"limit": "ten"}, {"limit"}),
])
def test_a_bad_price_query_is_400_naming_every_parameter(api, query, fields):
    response = api.call("GET", "ticketing", "/events", params=query)

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_input"
    assert {d["field"] for d in response.json()["details"]} == fields


# ---- GET /events/{eventId} ----------------------------------------------------------------------------------------

def test_an_event_as_ticketing_sees_it(api, org, on_sale):
    response = api.call("GET", "ticketing", f"/events/{on_sale}")

    assert response.status_code == 200, response.text
    assert response.json() == {"id": on_sale, "creatorId": org.id, "status": "PUBLISHED", "date": FUTURE,
                               "title": "Rave night"}
    assert api.call("GET", "ticketing", f"/events/{on_sale}/").status_code == 200


def test_a_draft_is_404_to_all_but_its_organizers(api, broker, db, org, people):
    collaborator, stranger, other_org = people("organization"), people("member"), people("organization")
    draft = mirror_event(broker, db, org, status="DRAFT", collaborators=[collaborator.id])

    assert api.call("GET", "ticketing", f"/events/{draft}").status_code == 404
    for caller in (stranger, other_org):
        response = api.call("GET", "ticketing", f"/events/{draft}", token=caller.token)
        assert response.status_code == 404 and response.json()["error"] == "not_found"
    for caller in (org, collaborator):
        response = api.call("GET", "ticketing", f"/events/{draft}", token=caller.token)
        assert response.status_code == 200 and response.json()["status"] == "DRAFT"


def test_an_unknown_event_is_404(api, org):
    response = api.call("GET", "ticketing", f"/events/{uuid.uuid4()}", token=org.token)

    assert response.status_code == 404
    assert set(response.json()) == {"error", "message"}


def test_an_event_the_mirror_has_not_heard_of_is_read_through(api, db, org):
    created = api.call("POST", "events", "/", token=org.token, json={
        "title": "Just created", "description": "Right now", "date": FUTURE, "status": "PUBLISHED",
        "location": {"name": "Club", "city": "Cesena"}})
    assert created.status_code == 201, created.text
    event_id = created.json()["eventId"]
    assert wait_until(lambda: db["events"].find_one({"_id": event_id, "_seq": {"$gte": 1}}), timeout=10)
    db["events"].delete_one({"_id": event_id})  # as if event.created had not arrived yet

    response = api.call("GET", "ticketing", f"/events/{event_id}")

    assert response.status_code == 200, response.text
    assert response.json() == {"id": event_id, "creatorId": org.id, "status": "PUBLISHED", "date": FUTURE,
                               "title": "Just created"}
    assert db["events"].find_one({"_id": event_id})["creatorId"] == org.id  # seeded (or a relayed repeat won)


# ---- DELETE /events/{eventId}/ticket-types ------------------------------------------------------------------------

def test_the_creator_deletes_all_ticket_types_once_per_key(api, db, org, on_sale, tap):
    wire = tap("ticket-type.deleted")
    types = [add_type(api, org, on_sale, "STANDARD")["id"], add_type(api, org, on_sale, "VIP", 50, 5)["id"]]
    key = f"delete-all-{uuid.uuid4()}"

    first = api.call("DELETE", "ticketing", f"/events/{on_sale}/ticket-types", token=org.token, key=key)

    assert first.status_code == 204, first.text
    assert api.call("GET", "ticketing", f"/events/{on_sale}/ticket-types").json() == []
    assert all(api.call("GET", "ticketing", f"/ticket-types/{t}").status_code == 404 for t in types)
    sent = deleted_on_wire(wire, count=2)
    assert sorted(d["ticketTypeId"] for d in sent) == sorted(types) and all(d["eventId"] == on_sale for d in sent)

    fresh = add_type(api, org, on_sale, "STANDARD")["id"]  # the names are free again
    replay = api.call("DELETE", "ticketing", f"/events/{on_sale}/ticket-types", token=org.token, key=key)

    assert replay.status_code == 204 and replay.headers.get("idempotent-replayed") == "true"
    assert [t["id"] for t in api.call("GET", "ticketing", f"/events/{on_sale}/ticket-types").json()] == [fresh]
    assert len(on_wire(wire.settle(), "ticket-type.deleted")) == 2  # the replay emitted nothing more
    for type_id in types:
        receipts = db["ticket_types"].find_one({"_id": type_id})["_receipts"]
        mine = f"{org.id}:{key}"  # a key is scoped by its caller
        assert [r["key"] for r in receipts if r["key"].startswith(mine)] == [f"{mine}/{type_id}"]

    again = api.call("DELETE", "ticketing", f"/events/{on_sale}/ticket-types", token=org.token)
    assert again.status_code == 204 and "idempotent-replayed" not in again.headers
    assert api.call("GET", "ticketing", f"/events/{on_sale}/ticket-types").json() == []


def test_an_event_without_ticket_types_deletes_nothing(api, org, on_sale):
    response = api.call("DELETE", "ticketing", f"/events/{on_sale}/ticket-types", token=org.token)

    assert response.status_code == 204 and response.content == b""


def test_ticket_types_with_sales_or_holds_are_kept_with_409(api, db, org, member, on_sale):
    standard = add_type(api, org, on_sale, "STANDARD")["id"]
    vip = add_type(api, org, on_sale, "VIP", 50, 5)["id"]
    assert checkout(api, member, [vip]).status_code == 201  # an unpaid hold
    key = f"delete-all-{uuid.uuid4()}"

    response = api.call("DELETE", "ticketing", f"/events/{on_sale}/ticket-types", token=org.token, key=key)

    assert response.status_code == 409 and response.json()["error"] == "has_sales"
    listed = api.call("GET", "ticketing", f"/events/{on_sale}/ticket-types").json()
    assert sorted(t["id"] for t in listed) == sorted([standard, vip])  # all or nothing
    again = api.call("DELETE", "ticketing", f"/events/{on_sale}/ticket-types", token=org.token, key=key)
    assert again.status_code == 409
    assert db["ticket_types"].count_documents({"_id": {"$in": [standard, vip]}, "deleted": True}) == 0


def test_only_the_creator_deletes_an_events_ticket_types(api, broker, db, org, people):
    collaborator, stranger = people("organization"), people("member")
    event_id = mirror_event(broker, db, org, collaborators=[collaborator.id])
    draft = mirror_event(broker, db, org, status="DRAFT")
    add_type(api, org, event_id)
    add_type(api, org, draft)
    path = f"/events/{event_id}/ticket-types"

    assert api.call("DELETE", "ticketing", path).status_code == 401
    for caller in (collaborator, stranger):
        response = api.call("DELETE", "ticketing", path, token=caller.token)
        assert response.status_code == 403 and response.json()["error"] == "forbidden"
    assert api.call("DELETE", "ticketing", f"/events/{draft}/ticket-types", token=stranger.token).status_code == 404
    assert api.call("DELETE", "ticketing", f"/events/{uuid.uuid4()}/ticket-types", token=org.token).status_code == 404
    assert len(api.call("GET", "ticketing", path).json()) == 1
    assert len(api.call("GET", "ticketing", f"/events/{draft}/ticket-types", token=org.token).json()) == 1


# ---- event.deleted ----------------------------------------------------------------------------------------------

def test_a_deleted_event_takes_its_ticket_types_with_it_once(api, broker, db, org, member, on_sale, tap):
    wire = tap("ticket-type.deleted")
    standard = add_type(api, org, on_sale, "STANDARD")["id"]
    vip = add_type(api, org, on_sale, "VIP", 50, 5)["id"]
    assert checkout(api, member, [vip]).status_code == 201  # sold or not, the types go with the event

    deletion = broker.publish("event.deleted", {"eventId": on_sale}, sequence=2)

    assert wait_until(lambda: db["ticket_types"].count_documents(
        {"_id": {"$in": [standard, vip]}, "deleted": True}) == 2, timeout=10)
    assert delivered(db, deletion)
    sent = deleted_on_wire(wire, count=2)
    assert sorted(d["ticketTypeId"] for d in sent) == sorted([standard, vip])
    assert db["events"].find_one({"_id": on_sale})["deleted"] is True
    assert api.call("GET", "ticketing", f"/events/{on_sale}", token=org.token).status_code == 404
    assert api.call("GET", "ticketing", f"/events/{on_sale}/ticket-types", token=org.token).status_code == 404
    assert api.call("DELETE", "ticketing", f"/events/{on_sale}/ticket-types", token=org.token).status_code == 404
    versions = {t["_id"]: t["_version"] for t in db["ticket_types"].find({"_id": {"$in": [standard, vip]}})}

    repeats = [broker.publish("event.deleted", {"eventId": on_sale}, sequence=2, event_id=deletion.get_id()),
               broker.publish("event.deleted", {"eventId": on_sale}, sequence=2)]

    assert all(delivered(db, r) for r in repeats)
    assert {t["_id"]: t["_version"] for t in db["ticket_types"].find({"_id": {"$in": [standard, vip]}})} == versions
    assert len(on_wire(wire.settle(), "ticket-type.deleted")) == 2  # the repeats emitted nothing more


def test_an_event_without_a_sequence_is_dead_lettered_and_changes_nothing(api, broker, db, org, on_sale, platform):
    standard = add_type(api, org, on_sale, "STANDARD")["id"]
    mirror, dead = platform.spec("ticketing-mirror-events"), []

    unsequenced = broker.publish("event.deleted", {"eventId": on_sale})  # our producers always send the version

    assert wait_until(lambda: dead.extend(platform.bus.dead_letters(mirror)) or dead, timeout=10)
    assert [json.loads(m.body)["id"] for m in dead] == [unsequenced.get_id()]
    assert dead[0].headers["ce-knativeerrorcode"] == "400"  # final: dead-lettered at once, never retried
    assert db["events"].find_one({"_id": on_sale}).get("deleted") is False
    assert db["ticket_types"].find_one({"_id": standard}).get("deleted") is None
    assert api.call("GET", "ticketing", f"/events/{on_sale}").status_code == 200
