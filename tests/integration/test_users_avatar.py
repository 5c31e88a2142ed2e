"""Avatars through the gateway: upload, replace, remove, served by the media group; refused uploads change
nothing, and every change delivered twice acts once."""
import uuid
from urllib.parse import urlsplit

import pytest

PASSWORD = "passw0rd!"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
JPEG = b"\xff\xd8\xff\xe0" + bytes(64)

from users_support import JPEG, PASSWORD, PNG, assert_error, events_for, login, stored, upload  # noqa: F401

# ---- avatar --------------------------------------------------------------------------------------------------

def test_avatar_upload_stores_the_image_and_emits_user_updated(api, tap):
    wire = tap("user.updated")
    user = api.register()

    response = upload(api, user)

    assert response.status_code == 200
    body = response.json()
    assert body == {"userId": user["id"], "avatarUrl": body["avatarUrl"]}
    assert urlsplit(body["avatarUrl"]).path == f"/users/{user['id']}/avatar.png"
    assert urlsplit(body["avatarUrl"]).query == "v=2"  # the profile version: caches see each new upload
    assert stored(f"users/{user['id']}/avatar.png") == PNG
    profile = api.call("GET", "users", f"/{user['id']}").json()["profile"]
    assert profile["avatar"] == body["avatarUrl"]
    event = events_for(wire, user["id"])[0]
    assert event["data"]["avatar"] == body["avatarUrl"] and event["sequence"] == "2"


def test_an_avatar_of_another_type_replaces_the_old_object(api):
    user = api.register()
    upload(api, user)

    response = upload(api, user, JPEG, "image/jpeg")

    assert urlsplit(response.json()["avatarUrl"]).path.endswith("/avatar.jpg")
    assert stored(f"users/{user['id']}/avatar.jpg") == JPEG
    assert stored(f"users/{user['id']}/avatar.png") is None


@pytest.mark.parametrize("data, content_type", [(b"GIF89a" + bytes(20), "image/gif"), (b"", "image/png"),
                                                (b"<svg/>", "image/png")])
def test_an_upload_that_is_not_a_supported_image_is_400_and_changes_nothing(api, data, content_type):
    user = api.register()

    response = upload(api, user, data, content_type)

    body = assert_error(response, 400, "invalid_input")
    assert body["details"][0]["field"] == "avatar"
    assert api.call("GET", "users", f"/{user['id']}").json()["profile"]["avatar"] == user["profile"]["avatar"]


def test_an_upload_with_an_unknown_field_or_not_multipart_is_400(api):
    user = api.register()

    assert_error(upload(api, user, field="picture"), 400, "invalid_input")
    assert_error(api.call("POST", "users", f"/{user['id']}/avatar", token=user["accessToken"],
                          json={"avatar": "x"}), 400, "invalid_multipart")


def test_an_empty_form_resets_the_avatar_to_the_default(api):
    user = api.register()
    upload(api, user)

    response = api.call("POST", "users", f"/{user['id']}/avatar", token=user["accessToken"],
                        headers={"Content-Type": "multipart/form-data; boundary=x"}, content=b"--x--\r\n")

    assert response.status_code == 200 and response.json()["avatarUrl"] == user["profile"]["avatar"]
    assert stored(f"users/{user['id']}/avatar.png") is None


def test_avatar_removal_goes_back_to_the_default_and_deletes_the_object(api, tap):
    wire = tap("user.updated")
    user = api.register()
    upload(api, user)

    response = api.call("DELETE", "users", f"/{user['id']}/avatar", token=user["accessToken"])

    assert response.status_code == 204
    assert api.call("GET", "users", f"/{user['id']}").json()["profile"]["avatar"] == user["profile"]["avatar"]
    assert stored(f"users/{user['id']}/avatar.png") is None
    assert [e["data"]["avatar"] for e in events_for(wire, user["id"], count=2)][-1] == user["profile"]["avatar"]


def test_removing_an_avatar_never_uploaded_is_not_an_error(api):
    user = api.register()

    response = api.call("DELETE", "users", f"/{user['id']}/avatar", token=user["accessToken"])

    assert response.status_code == 204


def test_avatar_upload_delivered_twice_with_one_key_acts_once(api, tap, group_db):
    wire = tap("user.updated")
    user = api.register()
    key = f"avatar-{uuid.uuid4()}"
    body = b'--b\r\nContent-Disposition: form-data; name="avatar"; filename="a.png"\r\n' \
           b"Content-Type: image/png\r\n\r\n" + PNG + b"\r\n--b--\r\n"
    send = lambda: api.call("POST", "users", f"/{user['id']}/avatar", token=user["accessToken"], key=key,  # noqa
                            headers={"Content-Type": "multipart/form-data; boundary=b"}, content=body)

    first, second = send(), send()

    assert first.status_code == second.status_code == 200 and first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    doc = group_db("users")["users"].find_one({"_id": user["id"]})
    assert doc["_version"] == 2
    assert len(events_for(wire, user["id"])) == 1


def test_avatar_removal_delivered_twice_with_one_key_acts_once(api, tap):
    wire = tap("user.updated")
    user = api.register()
    upload(api, user)
    key = f"unavatar-{uuid.uuid4()}"

    first = api.call("DELETE", "users", f"/{user['id']}/avatar", token=user["accessToken"], key=key)
    second = api.call("DELETE", "users", f"/{user['id']}/avatar", token=user["accessToken"], key=key)

    assert first.status_code == second.status_code == 204 and second.headers["idempotent-replayed"] == "true"
    assert len(events_for(wire, user["id"])) == 2  # the upload's and the removal's, nothing more


def test_one_key_reused_for_another_upload_is_422_and_keeps_the_first_avatar(api):
    user = api.register()
    key = f"reuse-{uuid.uuid4()}"
    first = upload(api, user, key=key)

    response = upload(api, user, JPEG, "image/jpeg", key=key)

    assert_error(response, 422, "idempotency_key_reused")
    assert api.call("GET", "users", f"/{user['id']}").json()["profile"]["avatar"] == first.json()["avatarUrl"]


def test_the_avatar_url_is_served_by_the_media_group(api):
    user = api.register()
    url = upload(api, user).json()["avatarUrl"]

    response = api.call("GET", "media", urlsplit(url).path, params=dict([urlsplit(url).query.split("=")]))

    assert response.status_code == 200 and response.content == PNG


def test_an_upload_resent_with_a_new_multipart_boundary_is_the_same_request(api):
    """A client resending one form draws a new boundary; with the same key it is a replay, not a 422."""
    user = api.register()
    key = f"boundary-{uuid.uuid4()}"

    first, second = upload(api, user, key=key), upload(api, user, key=key)  # httpx draws a boundary per request

    assert first.status_code == second.status_code == 200
    assert second.headers["idempotent-replayed"] == "true" and second.json() == first.json()
