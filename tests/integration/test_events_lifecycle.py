"""The events lifecycle over the whole platform: edits, publish, cancel, delete, posters, collaborators,
scheduled completion, and the deletions a user's removal cascades to; every state change delivered twice."""
import time
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from test_events_support import (  # noqa: F401
    JPEG,
    PNG,
    broker,
    callers,
    create,
    events_db,
    handled,
    multipart,
    on_wire,
    publishable,
    soon,
    stored,
)

from localrunner.bus import wait_until
from moments import FUTURE, PAST

UPDATED = {"message": "Event updated successfully"}


def get(api, event_id, caller=None):
    return api.call("GET", "events", f"/{event_id}", token=caller.token if caller else None)


def put(api, caller, event_id, body, key=None):
    return api.call("PUT", "events", f"/{event_id}", token=caller.token, key=key, json=body)


def types_for(messages, event_id):
    return [t for t, _ in on_wire(messages, event_id=event_id)]


# ---- PUT --------------------------------------------------------------------------------------------------------

def test_publishing_a_draft_emits_updated_then_published(api, callers, tap):
    org = callers()
    wire = tap("event.*")
    event_id = create(api, org, {"title": "Draft night"})

    response = put(api, org, event_id, publishable(creatorId=org.id))

    assert response.status_code == 200 and response.json() == UPDATED
    assert get(api, event_id).json()["status"] == "PUBLISHED"  # now public
    wire.drain(until=lambda m: "event.published" in types_for(m, event_id))
    assert types_for(wire.messages, event_id) == ["event.created", "event.updated", "event.published"]
    published = on_wire(wire.messages, "event.published", event_id)[0][1]
    assert published["creatorName"] == org.name and published["name"] == "Summer Rave"


@pytest.mark.parametrize("change, fields", [
    ({"date": PAST}, {"date"}),
    ({"description": None, "location": None}, {"description", "location"}),
    ({"title": "ab"}, {"title"}),
    ({"status": "SOLD_OUT"}, {"status"}),
    ({"surprise": True}, {"surprise"}),
])
def test_an_invalid_publish_is_400_and_writes_nothing(api, callers, events_db, change, fields):
    org = callers()
    event_id = create(api, org)
    ledger = {"_id": {"$regex": "^events-update-event:"}}

    def state():
        version = events_db["events"].find_one({"_id": event_id})["_version"]
        return version, events_db["idempotency"].count_documents(ledger)

    before = state()

    response = put(api, org, event_id, publishable(**change))

    assert response.status_code == 400, response.text
    assert {d["field"].split(".")[0] for d in response.json()["details"]} == fields
    assert state() == before and get(api, event_id, org).json()["status"] == "DRAFT"


def test_put_keeps_omitted_fields_and_clears_sent_empties(api, callers):
    org = callers()
    event_id = create(api, org, publishable(status="DRAFT", tags=["Club", "Pub"]))

    assert put(api, org, event_id, {"status": "DRAFT", "title": "Renamed"}).status_code == 200
    kept = get(api, event_id, org).json()
    assert kept["title"] == "Renamed" and kept["tags"] == ["Club", "Pub"] and kept["date"] == FUTURE

    assert put(api, org, event_id, {"tags": [], "description": "", "date": None}).status_code == 200
    cleared = get(api, event_id, org).json()
    assert "tags" not in cleared and "description" not in cleared and "date" not in cleared
    assert cleared["title"] == "Renamed" and cleared["location"]["city"] == "Rimini"


def test_a_published_event_keeps_its_required_fields(api, callers):
    org = callers()
    event_id = create(api, org, publishable())

    response = put(api, org, event_id, {"description": ""})

    assert response.status_code == 400 and response.json()["details"][0]["field"] == "description"


@pytest.mark.parametrize("start, target", [("PUBLISHED", "DRAFT"), ("DRAFT", "CANCELLED"), ("DRAFT", "COMPLETED"),
                                           ("PUBLISHED", "COMPLETED")])
def test_invalid_transitions_are_409(api, callers, start, target):
    org = callers()
    event_id = create(api, org, publishable(status=start))

    response = put(api, org, event_id, {"status": target})

    assert response.status_code == 409 and response.json()["error"] == "invalid_transition", response.text
    assert get(api, event_id, org).json()["status"] == start


def test_cancelling_by_put_emits_updated_and_cancelled(api, callers, tap):
    org = callers()
    wire = tap("event.*")
    event_id = create(api, org, publishable())

    assert put(api, org, event_id, {"status": "cancelled"}).status_code == 200

    wire.drain(until=lambda m: "event.cancelled" in types_for(m, event_id))
    assert types_for(wire.messages, event_id) == ["event.created", "event.published", "event.updated",
                                                  "event.cancelled"]
    assert get(api, event_id).json()["status"] == "CANCELLED"


def test_only_the_creator_edits(api, callers):
    creator, collaborator, stranger = callers(), callers(), callers()
    published = create(api, creator, publishable(collaboratorIds=[collaborator.id]))
    draft = create(api, creator, {"title": "Secret plan", "collaboratorIds": [collaborator.id]})

    assert put(api, stranger, published, {"title": "Mine now"}).status_code == 403
    assert put(api, collaborator, published, {"title": "Mine now"}).status_code == 403
    assert put(api, stranger, draft, {"title": "Mine now"}).status_code == 404  # a draft's existence is private
    assert put(api, collaborator, draft, {"title": "Mine now"}).status_code == 403  # seen, not editable
    assert put(api, creator, str(uuid.uuid4()), {"title": "Nothing"}).status_code == 404
    assert api.call("PUT", "events", f"/{published}", json={"title": "Anyone"}).status_code == 401
    assert put(api, creator, published, {"title": "Spoofed", "creatorId": stranger.id}).status_code == 403
    assert get(api, published).json()["title"] == "Summer Rave"


def test_a_repeated_put_applies_once(api, callers, tap, events_db):
    org = callers()
    wire = tap("event.updated")
    event_id = create(api, org)
    key = f"put-{uuid.uuid4()}"

    first = put(api, org, event_id, {"title": "Once"}, key=key)
    second = put(api, org, event_id, {"title": "Once"}, key=key)

    assert first.status_code == second.status_code == 200 and second.headers["Idempotent-Replayed"] == "true"
    assert events_db["events"].find_one({"_id": event_id})["_version"] == 2
    wire.settle()
    assert len(on_wire(wire.messages, "event.updated", event_id)) == 1


# ---- collaborators ----------------------------------------------------------------------------------------------

def test_collaborators_are_organizations_and_see_drafts(api, callers):
    creator, partner, member = callers(), callers(), callers("member")
    unknown = str(uuid.uuid4())

    refused = api.call("POST", "events", "/", token=creator.token,
                       json={"title": "Team up", "collaboratorIds": [member.id, unknown, partner.id]})
    assert refused.status_code == 400
    assert [d["field"] for d in refused.json()["details"]] == ["collaboratorIds.0", "collaboratorIds.1"]

    draft = create(api, creator, {"title": "Team up", "collaboratorIds": [partner.id, creator.id]})
    assert get(api, draft, partner).json()["collaboratorIds"] == [partner.id]  # the creator is not a collaborator
    assert get(api, draft, member).status_code == 404

    assert put(api, creator, draft, {"collaboratorIds": []}).status_code == 200  # the reference could not clear them
    assert get(api, draft, partner).status_code == 404


def test_a_collaborator_the_mirror_has_not_seen_yet_is_read_through(api, callers, events_db):
    creator = callers()
    partner = api.register("organization")  # through the users group
    assert wait_until(lambda: events_db["users"].find_one({"_id": partner["id"]}), timeout=10)
    events_db["users"].delete_one({"_id": partner["id"]})  # as if its user.created were still on the way

    event_id = create(api, creator, {"title": "Team up", "collaboratorIds": [partner["id"]]})

    assert get(api, event_id, creator).json()["collaboratorIds"] == [partner["id"]]
    member = api.register("member")
    events_db["users"].delete_one({"_id": member["id"]})
    refused = api.call("POST", "events", "/", token=creator.token,
                       json={"title": "Team up", "collaboratorIds": [member["id"]]})
    assert refused.status_code == 400 and "not an organization" in refused.json()["details"][0]["message"]


# ---- DELETE -----------------------------------------------------------------------------------------------------

def test_deleting_a_published_event_cancels_it(api, callers, tap):
    org = callers()
    wire = tap("event.cancelled", "event.deleted")
    event_id = create(api, org, publishable())

    response = api.call("DELETE", "events", f"/{event_id}", token=org.token)

    assert response.status_code == 200 and response.json() == {"message": "Event deleted successfully"}
    assert get(api, event_id).json()["status"] == "CANCELLED"
    wire.drain(until=lambda m: on_wire(m, event_id=event_id))
    assert types_for(wire.messages, event_id) == ["event.cancelled"]


@pytest.mark.parametrize("status", ["DRAFT", "CANCELLED"])
def test_deleting_a_draft_or_cancelled_event_removes_it_and_a_retry_replays(api, callers, tap, events_db, status):
    org = callers()
    wire = tap("event.deleted")
    event_id = create(api, org, publishable(status="PUBLISHED" if status == "CANCELLED" else "DRAFT"))
    if status == "CANCELLED":
        assert put(api, org, event_id, {"status": "CANCELLED"}).status_code == 200
    key = f"delete-{uuid.uuid4()}"

    first = api.call("DELETE", "events", f"/{event_id}", token=org.token, key=key)
    second = api.call("DELETE", "events", f"/{event_id}", token=org.token, key=key)

    assert first.status_code == second.status_code == 200
    assert get(api, event_id, org).status_code == 404
    assert api.call("DELETE", "events", f"/{event_id}", token=org.token).status_code == 404  # a new request
    wire.settle()
    assert types_for(wire.messages, event_id) == ["event.deleted"]
    tombstone = events_db["events"].find_one({"_id": event_id})
    assert tombstone["status"] == "DELETED" and "title" not in tombstone


def test_only_the_creator_deletes(api, callers):
    creator, collaborator, stranger = callers(), callers(), callers()
    event_id = create(api, creator, publishable(collaboratorIds=[collaborator.id]))

    assert api.call("DELETE", "events", f"/{event_id}", token=stranger.token).status_code == 403
    assert api.call("DELETE", "events", f"/{event_id}", token=collaborator.token).status_code == 403
    assert api.call("DELETE", "events", f"/{event_id}").status_code == 401
    assert get(api, event_id).json()["status"] == "PUBLISHED"


# ---- posters ----------------------------------------------------------------------------------------------------

def media_get(api, url):
    path = httpx.URL(url).path
    return api.call("GET", "media", path)


def test_creating_with_a_poster_stores_it_once(api, callers, events_db):
    org = callers()
    key = f"create-{uuid.uuid4()}"
    form = {"event": (None, '{"title": "Poster night", "status": "DRAFT"}', "application/json"),
            "poster": ("poster.png", PNG, "image/png")}

    first = api.call("POST", "events", "/", token=org.token, key=key, **multipart(form))
    second = api.call("POST", "events", "/", token=org.token, key=key, **multipart(form))

    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    event_id = first.json()["eventId"]
    poster = get(api, event_id, org).json()["poster"]
    assert poster.endswith(f"/events/{event_id}/poster.jpg?v=1")  # the version defeats stale caches
    image = media_get(api, poster)
    assert image.status_code == 200 and image.content == PNG and image.headers["content-type"] == "image/png"
    assert events_db["events"].count_documents({"_id": event_id}) == 1


def test_a_form_resent_with_a_new_boundary_replays(api, callers):
    org = callers()
    key = f"create-{uuid.uuid4()}"
    form = {"event": (None, '{"title": "Poster night"}', "application/json"), "poster": ("p.png", PNG, "image/png")}

    first = api.call("POST", "events", "/", token=org.token, key=key, files=form)
    second = api.call("POST", "events", "/", token=org.token, key=key, files=form)  # httpx draws a new boundary

    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"


def test_an_event_without_a_poster_shows_the_default(api, callers):
    org = callers()
    event_id = create(api, org)

    assert get(api, event_id, org).json()["poster"].endswith("/events/default.png")


@pytest.mark.parametrize("form, status", [
    ({"poster": ("x.txt", b"just text", "text/plain")}, 400),
    ({"picture": ("x.png", PNG, "image/png")}, 400),
])
def test_a_bad_poster_is_400_and_writes_nothing(api, callers, events_db, form, status):
    org = callers()
    event_id = create(api, org)
    before = events_db["events"].find_one({"_id": event_id})["_version"]

    response = api.call("POST", "events", f"/{event_id}/poster", token=org.token, files=form)

    assert response.status_code == status, response.text
    assert events_db["events"].find_one({"_id": event_id})["_version"] == before


def test_replacing_and_removing_the_poster(api, callers):
    org, stranger = callers(), callers()
    event_id = create(api, org, publishable())
    key = f"poster-{uuid.uuid4()}"
    form = {"poster": ("poster.jpg", JPEG, "image/jpeg")}

    assert api.call("POST", "events", f"/{event_id}/poster", token=stranger.token, files=form).status_code == 403
    first = api.call("POST", "events", f"/{event_id}/poster", token=org.token, key=key, **multipart(form))
    second = api.call("POST", "events", f"/{event_id}/poster", token=org.token, key=key, **multipart(form))
    assert first.status_code == second.status_code == 200
    assert first.json()["message"] == "Poster updated successfully"
    poster = get(api, event_id).json()["poster"]
    assert media_get(api, poster).content == JPEG and poster.endswith("/poster.jpg?v=2")

    removed = api.call("DELETE", "events", f"/{event_id}/poster", token=org.token)
    assert removed.status_code == 200 and removed.json() == {"message": "Poster deleted successfully"}
    assert get(api, event_id).json()["poster"].endswith("/events/default.png")
    assert media_get(api, poster).content != JPEG  # the object is gone: media answers the default poster
    assert api.call("DELETE", "events", f"/{event_id}/poster", token=org.token).status_code == 200  # again: fine


# ---- scheduled completion ---------------------------------------------------------------------------------------

@pytest.fixture
def clock(platform):
    """Ticks at a chosen time: a PingSource's event carries it; OpenFaaS' cron-connector posts no time at all."""
    if platform.settings.platform == "openfaas":
        pytest.skip("the OpenFaaS cron-connector sends no time: its ticks are the wall clock (tested below)")
    return lambda when: platform.tick("events-complete-events", when=when)


def test_the_schedule_completes_events_at_their_date_once(api, callers, clock, tap):
    org = callers()
    wire = tap("event.completed")
    date = soon(minutes=3)
    event_id = create(api, org, publishable(date=stored(date)))
    draft = create(api, org, publishable(date=stored(date), status="DRAFT"))

    clock(date - timedelta(seconds=1))
    assert get(api, event_id).json()["status"] == "PUBLISHED"  # not yet: reads never complete anything

    clock(date)
    clock(date + timedelta(minutes=1))  # a later tick: nothing more

    assert get(api, event_id).json()["status"] == "COMPLETED"
    assert get(api, draft, org).json()["status"] == "DRAFT"  # drafts never complete
    wire.settle()
    assert on_wire(wire.messages, event_id=event_id) == [("event.completed", {"eventId": event_id})]
    refused = put(api, org, event_id, {"title": "Too late"})
    assert refused.status_code == 409 and refused.json()["error"] == "event_completed"
    poster = api.call("POST", "events", f"/{event_id}/poster", token=org.token,
                      files={"poster": ("p.png", PNG, "image/png")})
    assert poster.status_code == 409


def test_the_schedule_completes_on_the_wall_clock(api, callers, platform):
    org = callers()
    date = soon(minutes=0) + timedelta(seconds=2)
    event_id = create(api, org, publishable(date=stored(date)))
    time.sleep(max(0.0, (date - datetime.now(timezone.utc)).total_seconds()) + 0.5)

    platform.tick("events-complete-events")

    assert get(api, event_id).json()["status"] == "COMPLETED"


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


# ---- the remaining statuses -------------------------------------------------------------------------------------

def test_creating_needs_a_valid_token(api, platform):
    assert api.call("POST", "events", "/", json={"title": "Anonymous"}).status_code == 401
    expired = platform.idp.mint({"realm_access": {"roles": ["organization"]}}, expired=True)
    assert api.call("POST", "events", "/", token=expired, json={"title": "Expired"}).status_code == 401


def test_poster_endpoints_refuse_anonymous_strangers_and_unknown_events(api, callers):
    org, stranger = callers(), callers()
    event_id = create(api, org, publishable())
    form = {"poster": ("p.png", PNG, "image/png")}

    assert api.call("POST", "events", f"/{event_id}/poster", files=form).status_code == 401
    assert api.call("DELETE", "events", f"/{event_id}/poster").status_code == 401
    assert api.call("DELETE", "events", f"/{event_id}/poster", token=stranger.token).status_code == 403
    missing = str(uuid.uuid4())
    assert api.call("POST", "events", f"/{missing}/poster", token=org.token, files=form).status_code == 404
    assert api.call("DELETE", "events", f"/{missing}/poster", token=org.token).status_code == 404
    assert api.call("POST", "events", f"/{event_id}/poster", token=org.token,
                    json={"poster": "not a form"}).status_code == 400


def test_a_repeated_poster_removal_applies_once(api, callers, events_db):
    org = callers()
    event_id = create(api, org)
    key = f"unposter-{uuid.uuid4()}"

    first = api.call("DELETE", "events", f"/{event_id}/poster", token=org.token, key=key)
    second = api.call("DELETE", "events", f"/{event_id}/poster", token=org.token, key=key)

    assert first.status_code == second.status_code == 200 and second.headers["Idempotent-Replayed"] == "true"
    assert events_db["events"].find_one({"_id": event_id})["_version"] == 2


def test_a_repeated_publish_emits_one_published(api, callers, tap):
    org = callers()
    wire = tap("event.published")
    event_id = create(api, org)
    key = f"publish-{uuid.uuid4()}"

    responses = [put(api, org, event_id, publishable(), key=key) for _ in range(2)]

    assert [r.status_code for r in responses] == [200, 200]
    wire.settle()
    assert len(on_wire(wire.messages, "event.published", event_id)) == 1


def test_a_repeated_cancellation_by_delete_emits_one_cancelled(api, callers, tap):
    org = callers()
    wire = tap("event.cancelled", "event.deleted")
    event_id = create(api, org, publishable())
    key = f"cancel-{uuid.uuid4()}"

    responses = [api.call("DELETE", "events", f"/{event_id}", token=org.token, key=key) for _ in range(2)]

    assert [r.status_code for r in responses] == [200, 200]
    assert get(api, event_id).json()["status"] == "CANCELLED"  # the retry did not go on to delete it
    wire.settle()
    assert types_for(wire.messages, event_id) == ["event.cancelled"]
