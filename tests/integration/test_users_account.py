"""The rest of the users group through the gateway, as the SPA and the other groups call it: logout, public keys,
password change, search, account deletion; each error status as one JSON shape."""
import base64
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from localrunner.bus import wait_until
from users_support import JPEG, PASSWORD, PNG, assert_error, events_for, login, stored, upload  # noqa: F401

PLATFORM_ENV = {"PUBLIC_KEYS_CACHE_SECONDS": "1"}  # the public key set is cached this long (default 30 s)

# ---- logout --------------------------------------------------------------------------------------------------

def test_logout_ends_the_session_of_the_refresh_token(api):
    user = api.register()

    response = api.call("POST", "users", "/logout", json={"refreshToken": user["refreshToken"]})

    assert response.status_code == 204
    refreshed = api.call("POST", "users", "/refresh", json={"refreshToken": user["refreshToken"]})
    assert_error(refreshed, 401, "unauthorized")


def test_logout_with_a_dead_token_is_401_and_without_one_400(api):
    assert_error(api.call("POST", "users", "/logout", json={"refreshToken": "not-a-token"}), 401, "unauthorized")
    assert_error(api.call("POST", "users", "/logout", json={}), 400, "invalid_input")


def test_logout_delivered_twice_with_one_key_ends_the_session_once_and_replays(api):
    user = api.register()
    key = f"logout-{uuid.uuid4()}"

    first = api.call("POST", "users", "/logout", key=key, json={"refreshToken": user["refreshToken"]})
    second = api.call("POST", "users", "/logout", key=key, json={"refreshToken": user["refreshToken"]})

    assert first.status_code == second.status_code == 204
    assert second.headers["idempotent-replayed"] == "true"


# ---- public keys ---------------------------------------------------------------------------------------------

def test_public_keys_verify_the_tokens_the_identity_provider_issues(api, platform):
    user = api.register()

    response = api.call("GET", "users", "/public-keys")

    assert response.status_code == 200
    keys = response.json()["keys"]
    assert keys and all(set(k) == {"kid", "publicKey"} for k in keys)
    signing = [k["kid"] for k in platform.idp.keys.jwks()["keys"] if k["use"] == "sig"]
    assert [k["kid"] for k in keys] == signing  # the realm's encryption key is left out
    kid = jwt.get_unverified_header(user["accessToken"])["kid"]
    entry = next(k for k in keys if k["kid"] == kid)
    pem = serialization.load_der_public_key(base64.b64decode(entry["publicKey"]))  # SubjectPublicKeyInfo
    claims = jwt.decode(user["accessToken"], pem, algorithms=["RS256"], options={"verify_aud": False})
    assert claims["user_id"] == user["id"]


def test_public_keys_are_cached_and_show_a_rotated_key_within_the_period(api, platform):
    first = api.call("GET", "users", "/public-keys")
    before = {k["kid"] for k in first.json()["keys"]}
    assert first.headers["cache-control"] == "public, max-age=1"

    new = platform.idp.keys.rotate()

    def kids():
        return [k["kid"] for k in api.call("GET", "users", "/public-keys").json()["keys"]]

    assert wait_until(lambda: new.kid in kids(), timeout=5)
    assert before <= set(kids())


# ---- password ------------------------------------------------------------------------------------------------

def change(api, user, current=PASSWORD, new="n3w-passw0rd!", confirm=None, key=None, token=None):
    return api.call("PUT", "users", f"/{user['id']}/password", token=token or user["accessToken"], key=key,
                    json={"currentPassword": current, "newPassword": new,
                          "confirmPassword": new if confirm is None else confirm})


def test_password_change_takes_effect_at_the_next_login(api):
    user = api.register()
    name = user["account"]["username"]

    response = change(api, user)

    assert response.status_code == 204
    assert login(api, name).status_code == 401
    assert login(api, name, "n3w-passw0rd!").status_code == 200


@pytest.mark.parametrize("current, new, confirm, field", [
    ("wrong-passw0rd!", "n3w-passw0rd!", None, "currentPassword"),
    (PASSWORD, "n3w-passw0rd!", "n3w-passw0rd?", "confirmPassword"),
    (PASSWORD, "weak", None, "newPassword"),
])
def test_a_refused_password_change_is_400_on_its_field_and_keeps_the_old_password(api, current, new, confirm,
                                                                                   field):
    user = api.register()

    response = change(api, user, current, new, confirm)

    body = assert_error(response, 400, "invalid_input")
    assert [d["field"] for d in body["details"]] == [field]
    assert login(api, user["account"]["username"]).status_code == 200


def test_password_change_delivered_twice_with_one_key_changes_once(api, group_db):
    user = api.register()
    key = f"password-{uuid.uuid4()}"

    first, second = change(api, user, key=key), change(api, user, key=key)

    assert first.status_code == second.status_code == 204 and second.headers["idempotent-replayed"] == "true"
    doc = group_db("users")["users"].find_one({"_id": user["id"]})
    assert [r["key"] for r in doc["_receipts"]].count(f"{user['id']}:{key}") == 1  # the caller's own key
    assert login(api, user["account"]["username"], "n3w-passw0rd!").status_code == 200


def test_a_password_change_retried_after_it_took_effect_confirms_it(api):
    """A retry whose first attempt changed the password but never recorded its reply (a crash): same answer."""
    user = api.register()
    change(api, user, key=f"first-{uuid.uuid4()}")

    response = change(api, user, key=f"retry-{uuid.uuid4()}")

    assert response.status_code == 204
    assert login(api, user["account"]["username"], "n3w-passw0rd!").status_code == 200


# ---- owner-only writes: 401 / 403 / 404 ----------------------------------------------------------------------

WRITES = [
    ("PUT", "", {"json": {"accountDTO": {"darkMode": False, "language": "en"}, "profileDTO": {"name": "x"}}}),
    ("DELETE", "", {}),
    ("POST", "/avatar", {"files": {"avatar": ("a.png", PNG, "image/png")}}),
    ("DELETE", "/avatar", {}),
    ("PUT", "/password", {"json": {"currentPassword": PASSWORD, "newPassword": "n3w-passw0rd!",
                                   "confirmPassword": "n3w-passw0rd!"}}),
]


@pytest.mark.parametrize("method, suffix, kwargs", WRITES, ids=[f"{m} {s or '/'}" for m, s, _ in WRITES])
def test_owner_only_writes_are_401_without_a_token_and_403_for_someone_else(api, group_db, method, suffix,
                                                                            kwargs):
    owner, other = api.register(), api.register()
    ledger = group_db("users")["idempotency"]
    before = ledger.count_documents({})

    anonymous = api.call(method, "users", f"/{owner['id']}{suffix}", **kwargs)
    foreign = api.call(method, "users", f"/{owner['id']}{suffix}", token=other["accessToken"], **kwargs)

    assert_error(anonymous, 401, "unauthorized")
    assert_error(foreign, 403, "forbidden")
    assert ledger.count_documents({}) == before  # refused before the claim: nothing written
    assert api.call("GET", "users", f"/{owner['id']}").status_code == 200


@pytest.mark.parametrize("method, suffix, kwargs", WRITES, ids=[f"{m} {s or '/'}" for m, s, _ in WRITES])
def test_owner_writes_to_a_deleted_account_are_404(api, method, suffix, kwargs):
    user = api.register()
    assert api.call("DELETE", "users", f"/{user['id']}", token=user["accessToken"]).status_code == 204

    response = api.call(method, "users", f"/{user['id']}{suffix}", token=user["accessToken"], **kwargs)

    assert_error(response, 404, "not_found")
    assert stored(f"users/{user['id']}/avatar.png") is None  # nothing stored for an account that is gone


# ---- search --------------------------------------------------------------------------------------------------

@pytest.fixture
def crowd(api):
    """Three members and two organizations under a fresh common prefix, registered in no particular order."""
    tag = f"s{uuid.uuid4().hex[:6]}"
    users = {}
    for name, role in (("carol", "member"), ("alice", "member"), ("Bob", "member"), ("dj", "organization"),
                       ("club", "organization")):
        users[name] = api.register(role, username=f"{tag}{name}")
    return tag, users


def search(api, **params):
    return api.call("GET", "users", "/search", params=params)


def test_search_by_prefix_is_case_insensitive_and_ordered_by_username(api, crowd):
    tag, users = crowd

    response = search(api, prefix=f"  {tag.upper()} ")

    assert response.status_code == 200
    body = response.json()
    assert [u["account"]["username"] for u in body["data"]] == [
        f"{tag}alice", f"{tag}Bob", f"{tag}carol", f"{tag}club", f"{tag}dj"]
    assert body["limit"] == 10 and body["offset"] == 0 and body["hasMore"] is False
    hit = body["data"][0]
    assert set(hit) == {"id", "role", "account", "profile"} and set(hit["account"]) == {"username"}
    assert set(hit["profile"]) <= {"name", "avatar", "bio"}


def test_search_matches_the_profile_name_too_and_filters_by_role(api, crowd):
    tag, users = crowd
    dj = users["dj"]
    body = {"accountDTO": {"darkMode": False, "language": "en"}, "profileDTO": {"name": f"Zed{tag} Nights"}}
    assert api.call("PUT", "users", f"/{dj['id']}", token=dj["accessToken"], json=body).status_code == 204

    by_name = search(api, prefix=f"zed{tag}").json()["data"]
    organizations = search(api, prefix=tag, role="organization").json()["data"]

    assert [u["id"] for u in by_name] == [dj["id"]]
    assert [u["account"]["username"] for u in organizations] == [f"{tag}club", f"{tag}dj"]


def test_search_pages_are_stable_and_say_whether_more_follow(api, crowd):
    tag, _ = crowd

    pages = [search(api, prefix=tag, limit=2, offset=offset).json() for offset in (0, 2, 4)]

    names = [u["account"]["username"] for page in pages for u in page["data"]]
    assert names == sorted(names, key=str.lower) and len(names) == len(set(names)) == 5
    assert [p["hasMore"] for p in pages] == [True, True, False]


def test_search_clamps_the_limit_to_20(api):
    assert search(api, limit=500).json()["limit"] == 20


def test_search_lists_every_bad_parameter_at_once(api):
    response = search(api, role="admin", limit=-5, offset=-3)

    body = assert_error(response, 400, "invalid_input")
    assert {d["field"] for d in body["details"]} == {"role", "limit", "offset"}
    assert assert_error(search(api, limit="ten"), 400)["details"][0]["field"] == "limit"


def test_deleted_users_are_not_found_by_search(api, crowd):
    tag, users = crowd
    alice = users["alice"]

    api.call("DELETE", "users", f"/{alice['id']}", token=alice["accessToken"])

    assert f"{tag}alice" not in [u["account"]["username"] for u in search(api, prefix=tag).json()["data"]]


# ---- deletion ------------------------------------------------------------------------------------------------

def test_deleting_an_account_removes_profile_identity_and_avatar_and_emits_user_deleted(api, tap):
    wire = tap("user.updated", "user.deleted")
    user = api.register()
    upload(api, user)

    response = api.call("DELETE", "users", f"/{user['id']}", token=user["accessToken"])

    assert response.status_code == 204
    assert_error(api.call("GET", "users", f"/{user['id']}"), 404, "not_found")
    assert_error(login(api, user["account"]["username"]), 401, "unauthorized")
    assert_error(api.call("POST", "users", "/refresh", json={"refreshToken": user["refreshToken"]}), 401)
    assert stored(f"users/{user['id']}/avatar.png") is None
    events = events_for(wire, user["id"], count=2)
    assert [e["type"] for e in events] == ["user.updated", "user.deleted"]
    assert events[1]["data"] == {"id": user["id"]}
    assert int(events[1]["sequence"]) > int(events[0]["sequence"])


def test_a_deleted_username_and_email_can_register_again(api):
    user = api.register()
    api.call("DELETE", "users", f"/{user['id']}", token=user["accessToken"])

    again = api.register(username=user["account"]["username"])

    assert again["id"] != user["id"]


def test_deletion_delivered_twice_with_one_key_deletes_once(api, tap):
    wire = tap("user.deleted")
    user = api.register()
    key = f"delete-{uuid.uuid4()}"

    first = api.call("DELETE", "users", f"/{user['id']}", token=user["accessToken"], key=key)
    second = api.call("DELETE", "users", f"/{user['id']}", token=user["accessToken"], key=key)

    assert first.status_code == second.status_code == 204 and second.headers["idempotent-replayed"] == "true"
    assert len(events_for(wire, user["id"])) == 1


def test_deleting_twice_with_two_keys_is_404_the_second_time(api):
    user = api.register()
    api.call("DELETE", "users", f"/{user['id']}", token=user["accessToken"])

    assert_error(api.call("DELETE", "users", f"/{user['id']}", token=user["accessToken"]), 404, "not_found")


# ---- the SPA's fields ----------------------------------------------------------------------------------------

def test_every_field_the_spa_sends_on_update_is_accepted_and_read_back(api):
    user = api.register()
    body = {"accountDTO": {"username": user["account"]["username"], "darkMode": True, "language": "it",
                           "gender": "female", "birthDate": "1995-04-02T00:00:00.000Z",
                           "interests": ["Club", "Live Music"]},
            "profileDTO": {"name": "Jo", "avatar": user["profile"]["avatar"], "bio": "Hi", "contacts": []}}

    assert api.call("PUT", "users", f"/{user['id']}", token=user["accessToken"], json=body).status_code == 204

    own = api.call("GET", "users", f"/{user['id']}", token=user["accessToken"]).json()
    assert own["account"] == {"username": user["account"]["username"], "email": user["account"]["email"],
                              "darkMode": True, "language": "it", "gender": "female",
                              "birthDate": "1995-04-02T00:00:00Z", "interests": ["Club", "Live Music"]}
    assert own["profile"] == {"name": "Jo", "avatar": user["profile"]["avatar"], "bio": "Hi"}
    relogin = login(api, user["account"]["username"]).json()
    assert relogin["account"]["darkMode"] is True and relogin["account"]["interests"] == ["Club", "Live Music"]


def test_health(api):
    response = api.call("GET", "users", "/health")

    assert response.status_code == 200 and response.json() == {"status": "OK"}


# ---- the remaining error statuses of the token endpoints and the profile -------------------------------------

def test_login_and_refresh_without_their_fields_are_400(api):
    assert_error(api.call("POST", "users", "/login", json={"username": "x"}), 400, "invalid_input")
    assert_error(api.call("POST", "users", "/refresh", json={"token": "x"}), 400, "invalid_input")
    assert_error(api.call("POST", "users", "/refresh", json={"refreshToken": "dead"}), 401, "unauthorized")


def test_an_update_reusing_a_key_for_another_body_is_422(api):
    user = api.register()
    key = f"update-{uuid.uuid4()}"
    body = {"accountDTO": {"darkMode": True, "language": "en"}, "profileDTO": {"name": "First"}}
    assert api.call("PUT", "users", f"/{user['id']}", token=user["accessToken"], key=key, json=body).status_code \
        == 204

    response = api.call("PUT", "users", f"/{user['id']}", token=user["accessToken"], key=key,
                        json={**body, "profileDTO": {"name": "Second"}})

    assert_error(response, 422, "idempotency_key_reused")
    assert api.call("GET", "users", f"/{user['id']}").json()["profile"]["name"] == "First"


def test_an_unknown_path_is_a_json_404(api):
    assert_error(api.call("POST", "users", "/nope/nope"), 404, "not_found")


def test_no_registration_can_take_the_placeholder_a_deletion_needs(api):
    user = api.register()
    squatter = api.call("POST", "users", "/register", json={
        "username": f" deleted {user['id']}", "email": f"sq{uuid.uuid4().hex[:8]}@example.org",
        "password": PASSWORD, "role": "member"})

    response = api.call("DELETE", "users", f"/{user['id']}", token=user["accessToken"])

    assert squatter.status_code in (201, 400)
    assert response.status_code == 204
