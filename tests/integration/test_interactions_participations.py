"""Participations: a paid order through ticketing and Stripe makes one, a refund withdraws it; replayed and
reordered order events change nothing; the filters the SPA's profile and review dialog use."""
import json
import uuid

import pytest

from interactions_support import (  # noqa: F401  (fixtures)
    AVATAR,
    broker,
    confirm_order,
    get,
    handled,
    idb,
    known_event,
    move_event,
    ok,
    person,
    refused,
    review,
    reviewable,
)
from localrunner.bus import wait_until
from moments import FUTURE
from ticketing_support import add_type, checkout, pay_on_hosted_page

pytestmark = pytest.mark.clock  # orders are paid and sessions expire on the wall clock


def takes_part(api, fan, event_id):
    return ok(get(api, f"/users/{fan.id}/participations/{event_id}"))["hasParticipated"]


def participation(idb, event_id, user_id):
    return idb["participations"].find_one({"eventId": event_id, "userId": user_id}) or {}


def test_a_paid_order_makes_a_participation_and_its_refund_withdraws_it(api, idb, group_db, person):
    org, fan = person("organization"), person("member")
    created = api.call("POST", "events", "/", token=org.token, json={
        "title": "Paid night", "description": "Tickets at the door", "date": FUTURE, "status": "PUBLISHED",
        "location": {"name": "Club", "city": "Ravenna"}})
    event_id = ok(created, 201)["eventId"]
    type_id = add_type(api, org, event_id, price=15)["id"]
    session = ok(checkout(api, fan, [type_id, type_id]), 201)

    pay_on_hosted_page(session["redirectUrl"])

    assert wait_until(lambda: participation(idb, event_id, fan.id).get("orderCount") == 1, timeout=15)
    assert participation(idb, event_id, fan.id)["orderIds"] == [session["orderId"]]  # two tickets, one order
    assert ok(get(api, f"/users/{fan.id}/participations/{event_id}")) == {"hasParticipated": True,
                                                                          "hasReviewed": False}
    assert ok(get(api, f"/events/{event_id}/participants")) == {
        "items": [{"userId": fan.id, "avatar": AVATAR, "name": fan.name, "username": fan.username}],
        "totalItems": 1, "limit": 20, "offset": 0, "hasMore": False}
    [item] = ok(get(api, f"/users/{fan.id}/participations"))["items"]
    assert (item["eventId"], item["reviewed"]) == (event_id, False) and item["createdAt"].endswith("Z")

    # the organization cancels the published event: ticketing refunds the order through Stripe
    ok(api.call("DELETE", "events", f"/{event_id}", token=org.token))

    assert wait_until(lambda: group_db("ticketing")["orders"].find_one(
        {"_id": session["orderId"], "status": "REFUNDED"}), timeout=20)
    assert wait_until(lambda: not takes_part(api, fan, event_id), timeout=15)
    assert participation(idb, event_id, fan.id)["refundedOrderIds"] == [session["orderId"]]
    assert ok(get(api, f"/events/{event_id}/participants"))["totalItems"] == 0
    assert ok(get(api, f"/users/{fan.id}/participations"))["totalItems"] == 0
    assert wait_until(lambda: idb["events"].find_one({"_id": event_id, "status": "CANCELLED"}), timeout=10)


def test_replayed_and_reordered_order_events_change_nothing(api, idb, broker, person, known_event, platform):
    org, fan = person("organization"), person("member")
    event_id = known_event(org)
    first = {"orderId": f"order_{uuid.uuid4()}", "userId": fan.id, "eventId": event_id}
    second = {**first, "orderId": f"order_{uuid.uuid4()}"}
    late = {**first, "orderId": f"order_{uuid.uuid4()}"}

    confirmed = broker.publish("payments.order.confirmed", first)
    repeats = [broker.publish("payments.order.confirmed", first, event_id=confirmed.get_id()),
               broker.publish("payments.order.confirmed", first)]  # the same order, another delivery id
    refund_first = broker.publish("payments.order.refunded", {**late, "amount": 15, "currency": "USD"})
    assert wait_until(lambda: all(handled(idb, "interactions-record-participation", e)
                                  for e in (confirmed, repeats[1], refund_first)), timeout=10)
    confirm_late = broker.publish("payments.order.confirmed", late)  # its refund came first
    other = broker.publish("payments.order.confirmed", second)
    assert wait_until(lambda: all(handled(idb, "interactions-record-participation", e)
                                  for e in (confirm_late, other)), timeout=10)

    doc = participation(idb, event_id, fan.id)
    assert (sorted(doc["orderIds"]), doc["orderCount"]) == (sorted([first["orderId"], second["orderId"]]), 2)
    assert doc["refundedOrderIds"] == [late["orderId"]]

    for data in (first, first):  # a refund, then its duplicate
        broker.publish("payments.order.refunded", {**data, "amount": 15, "currency": "USD"})
    assert wait_until(lambda: participation(idb, event_id, fan.id).get("orderCount") == 1, timeout=10)
    assert takes_part(api, fan, event_id)  # the second order is still paid
    broker.publish("payments.order.refunded", {**second, "amount": 15, "currency": "USD"})
    assert wait_until(lambda: not takes_part(api, fan, event_id), timeout=10)
    assert participation(idb, event_id, fan.id)["orderCount"] == 0

    spec, dead = platform.spec("interactions-record-participation"), []
    broken = broker.publish("payments.order.confirmed", {"userId": fan.id, "eventId": event_id})
    assert wait_until(lambda: dead.extend(m for m in platform.bus.dead_letters(spec)
                                          if json.loads(m.body)["id"] == broken.get_id()) or dead, timeout=10)
    assert dead[0].headers["ce-knativeerrorcode"] == "400"


def test_an_order_for_an_event_the_mirror_does_not_know_yet_counts(api, idb, broker, person, known_event):
    org, fan = person("organization"), person("member")
    event_id = str(uuid.uuid4())

    confirm_order(broker, idb, event_id, fan.id)

    assert participation(idb, event_id, fan.id)["orderCount"] == 1
    assert [i["eventId"] for i in ok(get(api, f"/users/{fan.id}/participations"))["items"]] == [event_id]
    assert ok(get(api, f"/users/{fan.id}/participations", eventStatus="PUBLISHED"))["items"] == []
    known_event(org, event_id=event_id)  # event.created catches up: the filters see it now
    assert [i["eventId"] for i in ok(get(api, f"/users/{fan.id}/participations", eventStatus="PUBLISHED"))["items"]] \
        == [event_id]


@pytest.fixture
def history(api, broker, idb, person, known_event, reviewable):
    """A member who took part in four events of two organizations (in this order): Alpha Night (A, completed,
    reviewed), Beta Night (A, completed), Gamma Live (B with A collaborating, published), Delta Show (B, cancelled)."""
    alpha, beta, fan = person("organization"), person("organization"), person("member")
    events = {"alpha": reviewable(alpha, [fan], name="Alpha Night"), "beta": reviewable(alpha, [fan], name="Beta Night")}
    events["gamma"] = known_event(beta, collaborators=[alpha.id], name="Gamma Live")
    confirm_order(broker, idb, events["gamma"], fan.id)
    events["delta"] = known_event(beta, name="Delta Show")
    move_event(broker, idb, events["delta"], "event.cancelled", 2)
    confirm_order(broker, idb, events["delta"], fan.id)
    ok(review(api, fan, events["alpha"], rating=4), 201)
    return alpha, beta, fan, events


def test_the_participations_filters_the_spa_uses(api, history):
    alpha, beta, fan, ids = history
    names = {event_id: name for name, event_id in ids.items()}

    def listed(**params):
        found = ok(get(api, f"/users/{fan.id}/participations", **params))
        assert found["totalItems"] == len(found["items"])
        return [(names[i["eventId"]], i["reviewed"]) for i in found["items"]]

    assert listed() == [("delta", False), ("gamma", False), ("beta", False), ("alpha", True)]
    assert listed(order="asc") == [("alpha", True), ("beta", False), ("gamma", False), ("delta", False)]
    assert listed(eventStatus="COMPLETED") == [("beta", False), ("alpha", True)]
    assert listed(eventStatus="CANCELLED,PUBLISHED") == [("delta", False), ("gamma", False)]
    assert listed(organizationId=alpha.id) == [("gamma", False), ("beta", False), ("alpha", True)]
    assert listed(organizationId=beta.id) == [("delta", False), ("gamma", False)]
    assert listed(reviewed="true") == [("alpha", True)]
    # the review dialog: what the user may still review of this organization
    assert listed(reviewed="false", eventStatus="COMPLETED", organizationId=alpha.id) == [("beta", False)]
    assert listed(title="NIGHT", order="asc") == [("alpha", True), ("beta", False)]
    assert listed(title="a.*") == []  # a substring, not a pattern
    paged = ok(get(api, f"/users/{fan.id}/participations", limit=3, offset=1))
    assert (paged["totalItems"], len(paged["items"]), paged["hasMore"]) == (4, 3, False)


@pytest.mark.parametrize("params", [{"eventStatus": "DONE"}, {"order": "up"}, {"reviewed": "maybe"}, {"limit": 0},
                                    {"title": "t" * 201}, {"eventStatus": "COMPLETED,LATE"}])
def test_a_bad_participations_filter_is_400(api, person, params):
    fan = person("member")

    refused(get(api, f"/users/{fan.id}/participations", **params), 400, "invalid_input")


def test_participants_and_unknowns(api, idb, broker, person, known_event):
    org = person("organization")
    fans = [person("member") for _ in range(3)]
    event_id = known_event(org)
    for fan in fans:
        confirm_order(broker, idb, event_id, fan.id)

    first = ok(get(api, f"/events/{event_id}/participants", limit=2))
    assert [i["userId"] for i in first["items"]] == [fans[2].id, fans[1].id]
    assert (first["totalItems"], first["hasMore"]) == (3, True)
    refused(get(api, f"/events/{event_id}/participants", limit=-1), 400, "invalid_input")
    unknown = str(uuid.uuid4())
    refused(get(api, f"/events/{unknown}/participants"), 404, "not_found", f"Event with ID {unknown} not found")
    refused(get(api, f"/users/{unknown}/participations"), 404, "not_found", f"User with ID {unknown} not found")
    refused(get(api, f"/users/{fans[0].id}/participations/{unknown}"), 404, "not_found")
    refused(get(api, f"/users/{unknown}/participations/{event_id}"), 404, "not_found")
