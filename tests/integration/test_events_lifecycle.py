"""The events lifecycle over the whole platform: edits, publish, cancel, delete, collaborators; every state
change delivered twice."""
import uuid

import pytest

from events_support import (
    create,
    get,
    on_wire,
    publishable,
    put,
    types_for,
)
from localrunner.bus import wait_until
from moments import FUTURE, PAST

pytestmark = pytest.mark.clock  # scripts/test runs it again with the clock a year ahead

UPDATED = {"message": "Event updated successfully"}


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


# ---- the remaining statuses -------------------------------------------------------------------------------------

def test_creating_needs_a_valid_token(api, platform):
    assert api.call("POST", "events", "/", json={"title": "Anonymous"}).status_code == 401
    expired = platform.idp.mint({"realm_access": {"roles": ["organization"]}}, expired=True)
    assert api.call("POST", "events", "/", token=expired, json={"title": "Expired"}).status_code == 401


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
