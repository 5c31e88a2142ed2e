"""Ticket types: the creator's CRUD with its rules, visibility, events on the wire, and the events mirror."""
import uuid

import pytest

from localrunner.bus import wait_until
from runtime import envelope
from runtime.idempotency import Ledger
from ticketing_support import FUTURE, add_type, mirror_event, on_wire, stock


def test_values_and_health_are_public(api):
    assert api.call("GET", "ticketing", "/ticket-types/values").json() == ["STANDARD", "VIP"]
    assert api.call("GET", "ticketing", "/health").json() == {"status": "ok"}


def test_creator_adds_one_standard_and_one_vip_and_they_go_on_the_wire(api, org, on_sale, tap):
    wire = tap("ticket-type.created")

    standard = add_type(api, org, on_sale, "STANDARD", 25.5, 100, description="General admission")
    vip = add_type(api, org, on_sale, "vip", 80, 10)

    assert standard == {"id": standard["id"], "eventId": on_sale, "type": "STANDARD",
                        "description": "General admission", "price": 25.5, "currency": "USD",
                        "availableQuantity": 100, "soldQuantity": 0, "totalQuantity": 100, "isSoldOut": False}
    assert vip["type"] == "VIP" and vip["id"].startswith("ett_")
    listed = api.call("GET", "ticketing", f"/events/{on_sale}/ticket-types").json()
    assert [t["type"] for t in listed] == ["STANDARD", "VIP"]
    sent = on_wire(wire.settle(), "ticket-type.created")
    assert [(s["ticketTypeId"], s["eventId"], s["price"]) for s in sent] == [
        (standard["id"], on_sale, 25.5), (vip["id"], on_sale, 80)]


def test_a_second_standard_is_a_conflict(api, org, on_sale):
    add_type(api, org, on_sale, "STANDARD")

    response = api.call("POST", "ticketing", f"/events/{on_sale}/ticket-types", token=org.token,
                        json={"type": "STANDARD", "price": 10, "quantity": 5})

    assert response.status_code == 409 and response.json()["error"] == "duplicate_type"


@pytest.mark.parametrize("body, fields", [
    ({"type": None, "price": 10, "quantity": 5}, {"type"}),  # the SPA's empty ticket row
    ({"type": "GOLD", "price": 10, "quantity": 5}, {"type"}),
    ({"type": "VIP", "price": 1000.01, "quantity": 5}, {"price"}),
    ({"type": "VIP", "price": -1, "quantity": 0}, {"price", "quantity"}),
    ({"type": "VIP", "price": 10, "quantity": 5, "surprise": True}, {"surprise"}),
    ({"type": "VIP"}, {"price", "quantity"}),
])
def test_invalid_ticket_types_are_400_listing_every_field_and_write_nothing(api, org, on_sale, db, body, fields):
    # Scoped to this event and this function: schedules and other deliveries write meanwhile.
    written = lambda: (db["ticket_types"].count_documents({"eventId": on_sale}),  # noqa: E731
                       db["idempotency"].count_documents({"function": "ticketing-create-ticket-type"}))
    before = written()

    response = api.call("POST", "ticketing", f"/events/{on_sale}/ticket-types", token=org.token, json=body)

    assert response.status_code == 400, response.text
    assert {d["field"] for d in response.json()["details"]} == fields
    assert written() == before


def test_only_the_creator_manages_ticket_types(api, org, member, on_sale):
    created = add_type(api, org, on_sale)
    body = {"price": 5, "quantity": 5}

    assert api.call("POST", "ticketing", f"/events/{on_sale}/ticket-types",
                    json={"type": "VIP", "price": 5, "quantity": 5}).status_code == 401
    assert api.call("POST", "ticketing", f"/events/{on_sale}/ticket-types", token=member.token,
                    json={"type": "VIP", "price": 5, "quantity": 5}).status_code == 403
    assert api.call("PUT", "ticketing", f"/ticket-types/{created['id']}", token=member.token, json=body).status_code == 403
    assert api.call("DELETE", "ticketing", f"/ticket-types/{created['id']}", token=member.token).status_code == 403
    assert api.call("POST", "ticketing", f"/events/{uuid.uuid4()}/ticket-types", token=org.token,
                    json={"type": "VIP", "price": 5, "quantity": 5}).status_code == 404


def test_update_changes_price_and_total_and_delete_frees_the_type(api, org, on_sale, tap):
    wire = tap("ticket-type.updated", "ticket-type.deleted")
    created = add_type(api, org, on_sale, quantity=10)

    updated = api.call("PUT", "ticketing", f"/ticket-types/{created['id']}", token=org.token,
                       json={"price": 30, "quantity": 4, "description": "Now cheaper... no"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["price"] == 30 and updated.json()["totalQuantity"] == 4
    assert api.call("GET", "ticketing", f"/ticket-types/{created['id']}").json()["availableQuantity"] == 4

    assert api.call("DELETE", "ticketing", f"/ticket-types/{created['id']}", token=org.token).status_code == 204
    assert api.call("GET", "ticketing", f"/ticket-types/{created['id']}").status_code == 404
    assert api.call("DELETE", "ticketing", f"/ticket-types/{created['id']}", token=org.token).status_code == 404
    add_type(api, org, on_sale, "STANDARD")  # the name is free again
    messages = wire.settle()
    assert on_wire(messages, "ticket-type.updated") == [
        {"ticketTypeId": created["id"], "eventId": on_sale, "price": 30, "type": "STANDARD", "totalQuantity": 4}]
    assert on_wire(messages, "ticket-type.deleted") == [{"ticketTypeId": created["id"], "eventId": on_sale}]


def test_unknown_ticket_types_are_404(api, org):
    missing = f"ett_{uuid.uuid4()}"
    assert api.call("GET", "ticketing", f"/ticket-types/{missing}").status_code == 404
    assert api.call("PUT", "ticketing", f"/ticket-types/{missing}", token=org.token,
                    json={"price": 1, "quantity": 1}).status_code == 404
    assert api.call("DELETE", "ticketing", f"/ticket-types/{missing}", token=org.token).status_code == 404


def test_a_drafts_ticket_types_are_visible_to_its_organizers_only(api, broker, db, org, people):
    collaborator, stranger = people("organization"), people("member")
    draft = mirror_event(broker, db, org, status="DRAFT", collaborators=[collaborator.id])
    add_type(api, org, draft)

    assert api.call("GET", "ticketing", f"/events/{draft}/ticket-types").status_code == 404
    assert api.call("GET", "ticketing", f"/events/{draft}/ticket-types", token=stranger.token).status_code == 404
    assert len(api.call("GET", "ticketing", f"/events/{draft}/ticket-types", token=collaborator.token).json()) == 1


def test_the_spa_adds_ticket_types_right_after_creating_the_event(api, db, org):
    """The mirror has not heard of the event yet: ticketing reads it through from the events group."""
    response = api.call("POST", "events", "/", token=org.token, json={
        "title": "Fresh night", "description": "Right now", "date": FUTURE, "status": "PUBLISHED",
        "location": {"name": "Club", "city": "Cesena"}})
    assert response.status_code == 201, response.text
    event_id = response.json()["eventId"]

    created = add_type(api, org, event_id, "VIP", 40, 5)

    assert created["eventId"] == event_id
    mirrored = db["events"].find_one({"_id": event_id})
    assert mirrored["creatorId"] == org.id and mirrored["status"] == "PUBLISHED"
    assert wait_until(lambda: (db["events"].find_one({"_id": event_id}) or {}).get("_seq", 0) >= 1, timeout=10)


def test_the_mirror_applies_newer_events_only_and_never_resurrects(broker, db, org):
    event_id = mirror_event(broker, db, org, status="DRAFT", sequence=1)
    broker.publish("event.updated", {"eventId": event_id, "status": "PUBLISHED", "name": "Renamed"}, sequence=3)
    assert wait_until(lambda: db["events"].find_one({"_id": event_id, "_seq": 3}), timeout=10)

    stale = broker.publish("event.updated", {"eventId": event_id, "status": "DRAFT", "name": "Old"}, sequence=2)
    broker.publish("event.cancelled", {"eventId": event_id}, sequence=4)
    assert wait_until(lambda: db["events"].find_one({"_id": event_id, "_seq": 4}), timeout=10)
    assert wait_until(lambda: Ledger(db).answer("ticketing-mirror-events", envelope.dedup_key(stale)), timeout=10)

    doc = db["events"].find_one({"_id": event_id})
    assert doc["status"] == "CANCELLED" and doc["title"] == "Renamed"


def test_quantity_below_sold_is_clamped(api, org, member, on_sale, db):
    from ticketing_support import checkout

    created = add_type(api, org, on_sale, quantity=5)
    assert checkout(api, member, [created["id"]] * 3).status_code == 201

    response = api.call("PUT", "ticketing", f"/ticket-types/{created['id']}", token=org.token,
                        json={"price": 25, "quantity": 2})

    assert response.status_code == 200
    assert response.json()["isSoldOut"] is True and response.json()["totalQuantity"] == 3
    assert stock(db, created["id"]) == (0, 3, 1)


def test_an_update_that_overtook_the_creation_is_completed_by_a_read_through(api, broker, db, org):
    response = api.call("POST", "events", "/", token=org.token, json={
        "title": "Overtaken", "description": "Out of order", "date": FUTURE, "status": "PUBLISHED",
        "location": {"name": "Club", "city": "Cesena"}})
    event_id = response.json()["eventId"]
    assert wait_until(lambda: db["events"].find_one({"_id": event_id, "_seq": {"$gte": 1}}), timeout=10)
    db["events"].delete_one({"_id": event_id})  # as if only a later update had arrived so far
    db["events"].insert_one({"_id": event_id, "status": "PUBLISHED", "_seq": 0})

    assert add_type(api, org, event_id)["eventId"] == event_id
    assert db["events"].find_one({"_id": event_id})["creatorId"] == org.id
