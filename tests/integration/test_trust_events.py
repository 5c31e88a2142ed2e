"""Only the platform triggers event and schedule functions: the security review's attacks, each refused with
nothing changed, through each platform's own delivery (Knative: binary ``ce-`` headers; OpenFaaS connector: the
structured event as the body), as if posted straight to the function (``<gateway>/function/<name>``)."""
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from events_support import create, get, publishable
from integration_support import signed
from localrunner.bus import wait_until
from runtime import envelope
from runtime.contract import EventTrigger
from runtime.signing import KeyRing
from ticketing_support import add_type, checkout, mirror_event, pay_on_hosted_page, wait_status

FORGER = KeyRing.parse("local-forger:" + "x" * 40)  # a key of the right shape that our producers never had


def post_straight(platform, name, event):
    """What reaching the function from outside looks like: the platform's delivery request, without the broker."""
    status, _, body = platform.platform.deliver(platform.spec(name), envelope.to_amqp(event))
    return status, json.loads(body or b"{}")


def event_for(event_type, data, **extensions):
    return envelope.new_event(event_type, f"/attacker/{event_type}", data, event_id=str(uuid.uuid4()),
                              time=datetime.now(timezone.utc), extensions=extensions or None)


def ledger_records(group_db, group, name):
    return group_db(group)["idempotency"].count_documents({"function": name})


def test_every_event_function_refuses_unsigned_and_forged_events_and_records_nothing(platform, group_db):
    consumers = [s for s in platform.specs if isinstance(s.trigger, EventTrigger)]
    assert len(consumers) >= 5
    for spec in consumers:
        event_type = spec.trigger.types[0]
        before = ledger_records(group_db, spec.group, spec.name)
        unsigned = event_for(event_type, {"id": "x", "eventId": "x"}, sequence="999999")
        forged_event = signed(FORGER, event_for(event_type, {"id": "x", "eventId": "x"}, sequence="999999"))

        assert post_straight(platform, spec.name, unsigned) == (400, {
            "error": "missing_signature", "message": "The event is not signed by a producer of this platform."})
        status, body = post_straight(platform, spec.name, forged_event)
        assert (status, body["error"]) == (400, "invalid_signature"), spec.name
        assert ledger_records(group_db, spec.group, spec.name) == before, spec.name


def test_a_forged_user_deleted_cancels_nothing(api, platform, callers, events_db):
    """The review's first reproduction: user.deleted of an organization with a huge sequence."""
    org = callers()
    event_id = create(api, org, publishable())
    attack = event_for("user.deleted", {"id": org.id}, sequence="999999")

    assert post_straight(platform, "events-mirror-users", attack)[0] == 400

    assert get(api, event_id).json()["status"] == "PUBLISHED"
    assert events_db["users"].find_one({"_id": org.id})["deleted"] is False


def test_a_forged_event_updated_does_not_hand_over_ticket_types(api, platform, broker, db, people):
    owner, attacker = people("organization"), people("organization")
    victim = mirror_event(broker, db, owner)
    attack = event_for("event.updated", {"eventId": victim, "creatorId": attacker.id, "status": "PUBLISHED"},
                       sequence="999999")

    assert post_straight(platform, "ticketing-mirror-events", attack)[0] == 400

    assert db["events"].find_one({"_id": victim})["creatorId"] == owner.id
    refused = api.call("POST", "ticketing", f"/events/{victim}/ticket-types", token=attacker.token,
                       json={"type": "STANDARD", "price": 10, "quantity": 5})
    assert refused.status_code == 403


def test_a_tick_from_the_future_completes_no_event_and_cancels_no_order(api, platform, callers, broker, db, people):
    org = callers()
    event_id = create(api, org, publishable())
    seller, buyer = people("organization"), people("member")
    on_sale = mirror_event(broker, db, seller)
    pending = checkout(api, buyer, [add_type(api, seller, on_sale)["id"]]).json()
    year_2099 = datetime.now(timezone.utc).replace(year=2099)

    for name in ("events-complete-events", "ticketing-sweep-orders"):
        status, _, _ = platform.tick(name, when=year_2099)
        assert status == 200  # a tick is accepted, but its time carries no authority past the wall clock

    assert get(api, event_id).json()["status"] == "PUBLISHED"
    assert db["orders"].find_one({"_id": pending["orderId"]})["status"] == "PENDING"


@pytest.mark.parametrize("function, event_type, data", [
    ("ticketing-refund-cancelled-event", "event.cancelled", {"eventId": {"$ne": None}}),
    ("events-count-interactions", "payments.order.confirmed", {"orderId": "o", "userId": "u",
                                                              "eventId": {"$exists": True}}),
    ("events-mirror-prices", "ticket-type.deleted", {"ticketTypeId": {"$ne": None}}),
    ("ticketing-mirror-events", "event.created", {"eventId": {"$gt": ""}, "creatorId": "me", "collaboratorIds": [],
                                                  "name": "n", "date": None, "status": "PUBLISHED", "tags": None,
                                                  "instant": 0, "locationName": None}),
])
def test_operators_in_signed_event_data_are_refused_before_any_query(platform, group_db, function, event_type,
                                                                     data):
    """Even a signed event is checked against its schema: ids are strings, so no operator reaches a filter."""
    group = function.split("-", 1)[0]
    before = ledger_records(group_db, group, function)
    event = signed(platform.signing_keys, event_for(event_type, data, sequence="2"))

    status, body = post_straight(platform, function, event)

    assert (status, body["error"]) == (400, "invalid_event")
    assert {d["field"] for d in body["details"]} >= {next(k for k, v in data.items() if isinstance(v, dict))}
    assert ledger_records(group_db, group, function) == before


def test_an_injected_event_cancelled_through_the_broker_refunds_nothing(api, broker, db, people, platform):
    """The review's refund attack, end to end: the delivery is dead-lettered at once and every paid order stays."""
    seller, buyer = people("organization"), people("member")
    event_id = mirror_event(broker, db, seller)
    paid = checkout(api, buyer, [add_type(api, seller, event_id)["id"]]).json()
    pay_on_hosted_page(paid["redirectUrl"])
    assert wait_status(db, paid["orderId"], "COMPLETED")
    refunds, dead = platform.spec("ticketing-refund-cancelled-event"), []

    attack = broker.publish("event.cancelled", {"eventId": {"$ne": None}}, sequence=99)

    assert wait_until(lambda: dead.extend(platform.bus.dead_letters(refunds)) or dead, timeout=10)
    assert [json.loads(m.body)["id"] for m in dead] == [attack.get_id()]
    assert db["orders"].find_one({"_id": paid["orderId"]})["status"] == "COMPLETED"


def test_a_delayed_tick_keeps_its_own_earlier_time(platform):
    """Only the future is capped: a tick delivered late stands for the moment it was due (the sweep is not hurt)."""
    status, _, body = platform.tick("ticketing-sweep-orders", when=datetime.now(timezone.utc) - timedelta(hours=1))
    assert status == 200 and json.loads(body)["neverCreated"] == 0
