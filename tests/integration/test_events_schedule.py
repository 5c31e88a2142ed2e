"""Scheduled completion of events, the purge of tombstones, and what a user's deletion cascades to."""
from datetime import datetime, timedelta, timezone

import pytest

from events_support import (
    PNG,
    create,
    get,
    handled,
    on_wire,
    publishable,
    put,
    stored,
    types_for,
)
from localrunner.bus import wait_until

pytestmark = pytest.mark.clock  # scripts/test runs it again with the clock a year ahead

# ---- scheduled completion ---------------------------------------------------------------------------------------

def test_the_schedule_completes_events_when_their_date_comes_once(api, callers, platform, tap):
    org = callers()
    wire = tap("event.completed")
    date = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=6)  # publishable a while
    event_id = create(api, org, publishable(date=stored(date)))
    draft = create(api, org, publishable(date=stored(date), status="DRAFT"))

    platform.tick("events-complete-events")
    assert get(api, event_id).json()["status"] == "PUBLISHED"  # not yet: reads never complete anything either
    assert wait_until(lambda: datetime.now(timezone.utc) > date, timeout=10)  # the event's moment has come
    platform.tick("events-complete-events")
    platform.tick("events-complete-events")  # a later tick: nothing more

    assert get(api, event_id).json()["status"] == "COMPLETED"
    assert get(api, draft, org).json()["status"] == "DRAFT"  # drafts never complete
    assert on_wire(wire.settle(), event_id=event_id) == [("event.completed", {"eventId": event_id})]
    refused = put(api, org, event_id, {"title": "Too late"})
    assert refused.status_code == 409 and refused.json()["error"] == "event_completed"
    poster = api.call("POST", "events", f"/{event_id}/poster", token=org.token,
                      files={"poster": ("p.png", PNG, "image/png")})
    assert poster.status_code == 409


def test_the_schedule_purges_tombstones_after_a_day(api, callers, platform, events_db):
    org = callers()
    event_id = create(api, org)
    assert api.call("DELETE", "events", f"/{event_id}", token=org.token).status_code == 200
    assert wait_until(lambda: not events_db["events"].find_one({"_id": event_id}).get("_outbox_pending"))
    platform.tick("events-complete-events")
    assert events_db["events"].find_one({"_id": event_id})["status"] == "DELETED"  # kept for replays a day
    # A day later (aged in place: a tick a day ahead would also complete other tests' events).
    events_db["events"].update_one({"_id": event_id},
                                   {"$set": {"deletedAt": datetime.now(timezone.utc) - timedelta(hours=25)}})

    platform.tick("events-complete-events")

    assert events_db["events"].find_one({"_id": event_id}) is None


# ---- a user's deletion ------------------------------------------------------------------------------------------

def test_a_deleted_organization_cascades_and_a_duplicate_is_harmless(api, callers, broker, events_db, tap):
    org, other = callers(), callers()
    wire = tap("event.*")
    published = create(api, org, publishable())
    draft = create(api, org, {"title": "Never shown"})
    cancelled = create(api, org, publishable())
    assert put(api, org, cancelled, {"status": "CANCELLED"}).status_code == 200
    shared = create(api, other, publishable(collaboratorIds=[org.id]))
    wire.drain(until=lambda m: "event.published" in types_for(m, shared))

    deletion = broker.publish("user.deleted", {"id": org.id}, sequence=99)
    broker.publish("user.deleted", {"id": org.id}, sequence=99, event_id=deletion.get_id())  # redelivered
    assert wait_until(lambda: handled(events_db, "events-mirror-users", deletion), timeout=15)
    again = broker.publish("user.deleted", {"id": org.id}, sequence=99)  # the same fact, sent anew
    assert wait_until(lambda: handled(events_db, "events-mirror-users", again), timeout=15)

    assert get(api, published).json()["status"] == "CANCELLED"
    assert events_db["events"].find_one({"_id": draft})["status"] == "DELETED"
    assert get(api, cancelled).json()["status"] == "CANCELLED"
    assert get(api, shared).json()["collaboratorIds"] == []
    wire.settle()
    assert types_for(wire.messages, published)[-1:] == ["event.cancelled"]
    assert types_for(wire.messages, published).count("event.cancelled") == 1
    assert types_for(wire.messages, draft) == ["event.created", "event.deleted"]
    assert types_for(wire.messages, cancelled).count("event.cancelled") == 1  # only its own PUT's
    assert types_for(wire.messages, shared) == ["event.created", "event.published", "event.updated"]
    assert events_db["users"].find_one({"_id": org.id})["deleted"] is True
