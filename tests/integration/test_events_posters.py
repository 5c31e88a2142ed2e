"""Event posters over the whole platform: stored with the creation or replaced and removed later, served by the
media group, refused when they are not images or not the caller's; every change delivered twice."""
import uuid

import httpx
import pytest

from events_support import (
    JPEG,
    PNG,
    create,
    get,
    multipart,
    publishable,
)

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
