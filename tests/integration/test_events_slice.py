"""The events slice: creation by organizations only (role from the token), drafts hidden, events on the wire."""
import json
import uuid

import pytest

from moments import FUTURE, PAST

PUBLISHABLE = {"title": "Summer Rave", "description": "All night long", "date": FUTURE, "status": "PUBLISHED",
               "location": {"name": "Beach Club", "city": "Rimini", "country_code": "it", "lat": 44.06, "lon": 12.58},
               "tags": ["dj set", "Outdoor"]}


@pytest.fixture
def organization(api):
    return api.register("organization")


def event_ids(messages, event_type):
    return [json.loads(b)["data"]["eventId"] for _, _, b in messages if json.loads(b)["type"] == event_type]


def test_creating_a_published_event_emits_created_and_published(api, organization, tap):
    wire = tap("event.created", "event.published")

    response = api.call("POST", "events", "/", token=organization["accessToken"],
                        json={**PUBLISHABLE, "creatorId": organization["id"]})

    assert response.status_code == 201
    event_id = response.json()["eventId"]
    messages = wire.settle()
    assert event_ids(messages, "event.created") == [event_id] and event_ids(messages, "event.published") == [event_id]
    published = next(json.loads(b)["data"] for _, _, b in messages if json.loads(b)["type"] == "event.published")
    assert published["creatorId"] == organization["id"] and published["name"] == "Summer Rave"
    stored = api.call("GET", "events", f"/{event_id}").json()
    assert stored["tags"] == ["DJ Set", "Outdoor"] and stored["location"]["country_code"] == "IT"
    assert stored["status"] == "PUBLISHED" and stored["isFree"] is True and stored["date"] == FUTURE


def test_a_draft_is_visible_to_its_creator_only(api, organization, tap):
    wire = tap("event.created", "event.published")
    response = api.call("POST", "events", "/", token=organization["accessToken"], json={"title": "Secret plan"})
    event_id = response.json()["eventId"]

    assert response.status_code == 201
    assert api.call("GET", "events", f"/{event_id}", token=organization["accessToken"]).json()["status"] == "DRAFT"
    assert api.call("GET", "events", f"/{event_id}").status_code == 404
    stranger = api.register("organization")
    assert api.call("GET", "events", f"/{event_id}", token=stranger["accessToken"]).status_code == 404
    messages = wire.settle()
    assert event_ids(messages, "event.created") == [event_id] and event_ids(messages, "event.published") == []


def test_multipart_creation_as_the_spa_sends_it(api, organization):
    response = api.call("POST", "events", "/", token=organization["accessToken"],
                        files={"event": (None, json.dumps({"title": "Form event", "status": "DRAFT"}),
                                         "application/json")})

    assert response.status_code == 201, response.text


def test_a_member_cannot_create_events(api, group_db):
    member = api.register("member")
    # Even a (lagging or wrong) mirror that says "organization" does not matter: the token decides.
    group_db("events")["users"].update_one(
        {"_id": member["id"]}, {"$set": {"role": "organization", "_seq": 99}}, upsert=True)

    response = api.call("POST", "events", "/", token=member["accessToken"], json={"title": "Nope nope"})

    assert response.status_code == 403 and response.json()["error"] == "forbidden"


def test_an_organization_the_mirror_has_not_seen_yet_can_create(api, platform):
    token = platform.idp.mint({"user_id": str(uuid.uuid4()), "realm_access": {"roles": ["organization"]}})

    assert api.call("POST", "events", "/", token=token, json={"title": "Fresh org"}).status_code == 201


def test_creator_id_must_be_the_caller(api, organization):
    other = api.register("organization")

    response = api.call("POST", "events", "/", token=organization["accessToken"],
                        json={"title": "Spoofed", "creatorId": other["id"]})

    assert response.status_code == 403


@pytest.mark.parametrize("change, fields", [
    ({"date": PAST}, {"date"}),
    ({"description": None, "location": None}, {"description", "location"}),
    ({"tags": ["No Such Tag"]}, {"tags"}),
    ({"title": "ab"}, {"title"}),
    ({"location": {"road": "Via Roma"}}, {"location"}),
    ({"surprise": 1}, {"surprise"}),
    ({"status": "COMPLETED"}, {"status"}),
])
def test_invalid_events_are_400_listing_the_fields_and_write_nothing(api, organization, group_db, change, fields):
    db = group_db("events")
    ledger = {"_id": {"$regex": "^events-create-event:"}}  # other functions (schedules, mirrors) keep running
    before = (db["events"].count_documents({}), db["idempotency"].count_documents(ledger))
    body = {k: v for k, v in {**PUBLISHABLE, **change}.items() if v is not None}

    response = api.call("POST", "events", "/", token=organization["accessToken"], json=body)

    assert response.status_code == 400, response.text
    assert {d["field"].split(".")[0] for d in response.json()["details"]} == fields
    assert (db["events"].count_documents({}), db["idempotency"].count_documents(ledger)) == before


def test_retrying_a_creation_with_its_key_creates_one_event(api, organization, tap):
    wire = tap("event.created")
    key = f"create-{uuid.uuid4()}"

    first = api.call("POST", "events", "/", token=organization["accessToken"], key=key, json={"title": "Once only"})
    second = api.call("POST", "events", "/", token=organization["accessToken"], key=key, json={"title": "Once only"})

    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert event_ids(wire.settle(), "event.created") == [first.json()["eventId"]]


def test_health_and_unknown_routes(api):
    assert api.call("GET", "events", "/health").json() == {"status": "OK"}
    assert api.call("GET", "users", "/health").json() == {"status": "OK"}
    assert api.call("PATCH", "users", "/health").status_code == 404
    assert api.call("GET", "nowhere", "/health").status_code == 404
