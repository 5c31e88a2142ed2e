"""The media group through the gateway: reads with defaults and caching, and its writes (upload, replace, delete of
an avatar and a poster) for their owners only, and the clean-up of what nothing points at any more."""
import os
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from events_support import create, publishable
from localrunner.bus import wait_until
from runtime.config import Config
from runtime.storage import storage_from_config
from users_support import JPEG, PNG

pytestmark = pytest.mark.skipif(not os.environ.get("S3_ENDPOINT_URL"), reason="needs the S3 stand-in")


@pytest.fixture
def storage(platform):
    """The bucket as the platform's functions see it (same public URL)."""
    return storage_from_config(Config({"S3_ENDPOINT_URL": os.environ["S3_ENDPOINT_URL"],
                                       "PUBLIC_HOST": f"localhost:{platform.port}",
                                       "SECRET_S3_ACCESS_KEY": "minioadmin", "SECRET_S3_SECRET_KEY": "minioadmin"}))


def upload(api, caller_token, path, data=PNG, content_type="image/png", method="POST", field="file"):
    return api.call(method, "media", path, token=caller_token, files={field: ("picture", data, content_type)})


def older(storage, key):
    """Wait until the object at ``key`` is older than the clean-up's margin (its LastModified has seconds)."""
    written = dict(storage.listing(key))[key]
    return wait_until(lambda: datetime.now(timezone.utc) - written > timedelta(seconds=3), timeout=10)


# ---- reads --------------------------------------------------------------------------------------------------------

def test_an_uploaded_image_is_served_as_stored_with_its_etag(api, storage):
    key = f"users/{uuid.uuid4()}/avatar.jpg"
    storage.put(key, JPEG, "image/jpeg")

    response = api.call("GET", "media", f"/{key}")
    again = api.call("GET", "media", f"/{key}", headers={"If-None-Match": response.headers["etag"]})
    versioned = api.call("GET", "media", f"/{key}", params={"v": "3"})

    assert response.status_code == 200 and response.content == JPEG
    assert response.headers["content-type"] == "image/jpeg" and response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "public, max-age=300"
    assert again.status_code == 304 and again.content == b""
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("key", ["users/nobody/avatar.jpg", "events/none/poster.jpg", "users/default.png", "x.png"])
def test_a_missing_object_falls_back_to_a_default_png(api, key):
    response = api.call("GET", "media", f"/{key}")

    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
    assert response.headers["content-type"] == "image/png" and response.headers["cache-control"] == "public, max-age=60"
    assert api.call("GET", "media", f"/{key}", headers={"If-None-Match": response.headers["etag"]}).status_code == 304


def test_health_is_not_shadowed_by_the_catch_all(api):
    assert api.call("GET", "media", "/health").json() == {"status": "OK"}


# ---- writes -------------------------------------------------------------------------------------------------------

def test_an_avatar_is_uploaded_replaced_and_deleted_by_its_owner(api, storage):
    user = api.register()
    path, token = f"/users/{user['id']}", user["accessToken"]
    assert upload(api, token, path, method="PUT").status_code == 404  # nothing to replace yet

    created = upload(api, token, path)
    replaced = upload(api, token, path, JPEG, "image/jpeg", method="PUT")

    key = f"users/{user['id']}/avatar.png"
    assert created.status_code == 200 and created.json() == {"key": key, "url": f"{storage.public_url}/{key}"}
    assert replaced.json()["key"] == key  # replaced in place: every URL that points at it shows the new image
    served = api.call("GET", "media", f"/{key}")
    assert (served.content, served.headers["content-type"]) == (JPEG, "image/jpeg")
    deleted = api.call("DELETE", "media", f"{path}/avatar.png", token=token)
    assert deleted.status_code == 200 and deleted.json()["message"] == f"File with key '{key}' deleted successfully."
    assert storage.head(key) is None
    assert api.call("DELETE", "media", f"{path}/avatar.png", token=token).status_code == 404


def test_a_poster_is_written_by_the_events_organizers_only(api, callers, storage):
    creator, partner, stranger = callers(), callers(), callers()
    event_id = create(api, creator, publishable(collaboratorIds=[partner.id]))
    draft = create(api, creator, {"title": "Secret draft"})
    path = f"/events/{event_id}"

    assert upload(api, creator.token, path).status_code == 200
    assert upload(api, partner.token, path, JPEG, "image/jpeg", method="PUT").status_code == 200
    assert upload(api, stranger.token, path).status_code == 403
    assert upload(api, stranger.token, f"/events/{draft}").status_code == 404  # a draft is private
    assert upload(api, creator.token, f"/events/{uuid.uuid4()}").status_code == 404
    assert api.call("DELETE", "media", f"{path}/poster.jpg", token=stranger.token).status_code == 403
    assert storage.get(f"events/{event_id}/poster.jpg").data == JPEG


@pytest.mark.parametrize("data, content_type, status", [
    (b"GIF89a-not-ours", "image/png", 400),  # the declared type is not what the bytes are
    (b"RIFF\x00\x00\x00\x00WAVEfmt ", "image/webp", 400),
    (PNG + b"\x00" * (5 * 1024 * 1024), "image/png", 400),  # over 5 MiB
    (PNG + b"\x00" * (6 * 1024 * 1024), "image/png", 413),  # over what the function reads at all
])
def test_what_is_not_an_acceptable_image_is_refused_and_stores_nothing(api, storage, data, content_type, status):
    user = api.register()
    response = upload(api, user["accessToken"], f"/users/{user['id']}", data, content_type)
    assert response.status_code == status
    assert storage.listing(f"users/{user['id']}/") == []


@pytest.mark.parametrize("method, path", [
    ("POST", "/users/..%2F..%2Fevents"), ("POST", "/avatars/x"), ("DELETE", "/users/{me}/..%2Fother.png"),
    ("DELETE", "/users/{me}/avatar.exe"), ("GET", "/users/%2E%2E/events/x/poster.jpg"),
])
def test_keys_cannot_leave_their_entitys_folder(api, method, path):
    user = api.register()
    response = api.call(method, "media", path.format(me=user["id"]), token=user["accessToken"],
                        **({"files": {"file": ("a.png", PNG, "image/png")}} if method == "POST" else {}))
    assert response.status_code in (400, 404) and response.json()["error"] in ("invalid_key", "not_found")


def test_someone_elses_avatar_is_403_and_no_token_401(api):
    owner, other = api.register(), api.register()
    assert upload(api, other["accessToken"], f"/users/{owner['id']}").status_code == 403
    assert upload(api, None, f"/users/{owner['id']}").status_code == 401


# ---- clean-up -----------------------------------------------------------------------------------------------------

def test_objects_nothing_points_at_are_removed_from_the_domain_events(api, callers, storage):
    user = api.register()
    stray = f"users/{user['id']}/avatar.webp"  # left behind by some earlier avatar
    storage.put(stray, PNG, "image/png")
    assert older(storage, stray)

    uploaded = api.call("POST", "users", f"/{user['id']}/avatar", token=user["accessToken"],
                        files={"avatar": ("a.png", PNG, "image/png")})

    assert uploaded.status_code == 200
    assert wait_until(lambda: storage.head(stray) is None, timeout=10)
    assert storage.head(f"users/{user['id']}/avatar.png") is not None  # the one the profile shows stays
    assert older(storage, f"users/{user['id']}/avatar.png")
    assert api.call("DELETE", "users", f"/{user['id']}", token=user["accessToken"]).status_code == 204
    assert wait_until(lambda: storage.listing(f"users/{user['id']}/") == [], timeout=10)


def test_a_deleted_events_poster_is_removed(api, callers, storage):
    creator = callers()
    event_id = create(api, creator, {"title": "Soon gone"})
    assert upload(api, creator.token, f"/events/{event_id}").status_code == 200
    assert older(storage, f"events/{event_id}/poster.jpg")

    assert api.call("DELETE", "events", f"/{event_id}", token=creator.token).status_code == 200

    assert wait_until(lambda: storage.listing(f"events/{event_id}/") == [], timeout=10)


def test_a_late_older_user_update_removes_nothing(api, broker, platform, storage):
    user_id = str(uuid.uuid4())
    current = f"users/{user_id}/avatar.jpg"
    storage.put(current, JPEG, "image/jpeg")
    assert older(storage, current)
    profile = {"id": user_id, "username": "u", "name": "U", "email": "u@example.org", "bio": None,
               "interests": None, "language": "en", "role": "member"}
    newer = broker.publish("user.updated", {**profile, "avatar": storage.url(current) + "?v=3"}, sequence=3)
    before = platform.answered("media-remove-unreferenced")
    assert wait_until(lambda: platform.answered("media-remove-unreferenced") > before, timeout=10)

    broker.publish("user.updated", {**profile, "avatar": storage.url(f"users/{user_id}/avatar.png")}, sequence=2)

    assert wait_until(lambda: platform.answered("media-remove-unreferenced") > before + 1, timeout=10)
    assert storage.head(current) is not None and newer
