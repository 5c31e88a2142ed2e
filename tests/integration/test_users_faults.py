"""The identity provider (and the store) failing in the middle of the users group's sagas: registration and
deletion leave no half-done account, or one the next login or a retry completes.

Faults are injected from outside, as in production: the users functions are pointed (KEYCLOAK_URL, MONGO_URI,
S3_ENDPOINT_URL) at proxies in front of the development identity provider, the store and the media storage,
which fail the calls a test chooses. The
functions are reconfigured the way a redeploy would (new environment, fresh runtime); nothing in them knows.
"""
from __future__ import annotations

import json
import os
import re
import uuid
from urllib.parse import urlsplit

import pytest

from faults_support import CuttableTcpProxy, FaultyHttpProxy, redeploy

PASSWORD = "passw0rd!"
@pytest.fixture
def idp_proxy(platform):
    proxy = FaultyHttpProxy(platform.idp.url)
    previous = redeploy(KEYCLOAK_URL=proxy.url)
    yield proxy
    redeploy(**previous)
    proxy.stop()


@pytest.fixture
def s3_proxy(platform):
    proxy = FaultyHttpProxy(os.environ["S3_ENDPOINT_URL"])
    previous = redeploy(S3_ENDPOINT_URL=proxy.url)
    yield proxy
    redeploy(**previous)
    proxy.stop()


@pytest.fixture
def store_proxy(platform, mongo_uri):
    parts = urlsplit(mongo_uri)
    proxy = CuttableTcpProxy(parts.hostname, parts.port or 27017)
    previous = redeploy(MONGO_URI=mongo_uri.replace(parts.netloc, f"127.0.0.1:{proxy.port}", 1))
    yield proxy
    redeploy(**previous)
    proxy.stop()


def registration(role="member"):
    username = f"f{uuid.uuid4().hex[:10]}"
    return {"username": username, "email": f"{username}@example.org", "password": PASSWORD, "role": role}


def identity(platform, username):
    return platform.idp.idp.find_login(username)


def profiles(group_db, username):
    return group_db("users")["users"].count_documents({"usernameKey": username.lower()})


ROLE_MAPPING = r"/users/[^/]+/role-mappings/realm$"
USER = r"/admin/realms/[^/]+/users/[^/]+$"


# ---- registration --------------------------------------------------------------------------------------------

def test_a_failed_role_assignment_deletes_the_identity_it_had_created(api, platform, idp_proxy, group_db):
    body = registration()
    idp_proxy.fail("POST", ROLE_MAPPING)

    response = api.call("POST", "users", "/register", json=body)

    assert response.status_code == 503 and response.json()["error"] == "unavailable"
    assert identity(platform, body["username"]) is None
    assert profiles(group_db, body["username"]) == 0
    assert api.call("POST", "users", "/register", json=body).status_code == 201  # the name is free again


def test_a_registration_whose_compensation_failed_too_is_finished_by_its_retry(api, platform, idp_proxy, tap):
    wire = tap("user.created")
    body, key = registration("organization"), f"register-{uuid.uuid4()}"
    idp_proxy.fail("POST", ROLE_MAPPING)
    idp_proxy.fail("DELETE", USER)

    failed = api.call("POST", "users", "/register", key=key, json=body)
    orphan = identity(platform, body["username"])
    orphan_id, orphan_roles = orphan.id, set(orphan.roles)
    retried = api.call("POST", "users", "/register", key=key, json=body)

    assert failed.status_code == 503 and orphan_roles == set()
    assert retried.status_code == 201 and retried.json()["role"] == "organization"
    adopted = identity(platform, body["username"])
    assert adopted.id == orphan_id and adopted.roles == {"organization"}
    wire.drain(until=lambda m: any(json.loads(b)["data"]["id"] == retried.json()["id"] for _, _, b in m))
    assert any(json.loads(b)["data"]["id"] == retried.json()["id"] for _, _, b in wire.messages)


def test_an_identity_left_without_role_or_profile_is_discarded_at_its_login(api, platform, idp_proxy,
                                                                            group_db):
    body = registration()
    idp_proxy.fail("POST", ROLE_MAPPING)
    idp_proxy.fail("DELETE", USER)
    assert api.call("POST", "users", "/register", json=body).status_code == 503
    assert identity(platform, body["username"]) is not None

    response = api.call("POST", "users", "/login", json={"username": body["username"], "password": PASSWORD})

    assert response.status_code == 401 and response.json()["error"] == "unauthorized"
    assert identity(platform, body["username"]) is None and profiles(group_db, body["username"]) == 0
    assert api.call("POST", "users", "/register", json=body).status_code == 201


def test_a_failed_profile_commit_deletes_the_identity(api, platform, idp_proxy, store_proxy, group_db):
    body = registration()
    idp_proxy.fail("POST", ROLE_MAPPING, status=None, hook=store_proxy.cut)  # the store goes down meanwhile

    response = api.call("POST", "users", "/register", json=body)
    store_proxy.restore()

    assert response.status_code >= 500
    assert ("POST", f"/admin/realms/{platform.idp.idp.realm}/users") in idp_proxy.seen  # it had been created
    assert any(m == "DELETE" and re.search(USER, p) for m, p in idp_proxy.seen)  # and was compensated
    assert identity(platform, body["username"]) is None
    assert profiles(group_db, body["username"]) == 0


def test_a_profile_that_conflicts_with_the_store_deletes_the_new_identity(api, platform, group_db):
    """The store knows the e-mail (its identity is gone), the identity provider does not: 409, no new identity."""
    from functions.users import model

    body = registration()
    stale = model.new_document(str(uuid.uuid4()), model.Registration.model_construct(
        username=f"other-{body['username']}", email=body["email"], password="", role="member"), "gone", "x")
    users = group_db("users")["users"]
    users.insert_one(stale)

    response = api.call("POST", "users", "/register", json=body)
    users.delete_one({"_id": stale["_id"]})

    assert response.status_code == 409 and response.json()["error"] == "conflict"
    assert identity(platform, body["username"]) is None


def test_an_identity_without_profile_is_repaired_at_its_login(api, platform, tap, group_db):
    """A registration that crashed after the identity provider's steps: identity, app id and role, no profile."""
    wire = tap("user.created")
    user_id, username = str(uuid.uuid4()), f"r{uuid.uuid4().hex[:10]}"
    platform.idp.idp.add_user(username, f"{username}@example.org", PASSWORD, roles=["organization"],
                              attributes={"custom_user_id": [user_id]})

    response = api.call("POST", "users", "/login", json={"username": username, "password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == user_id and body["role"] == "organization" and body["account"]["username"] == username
    assert api.call("GET", "users", f"/{user_id}").status_code == 200
    assert api.call("POST", "users", "/login", json={"username": username, "password": PASSWORD}).json()["id"] \
        == user_id
    assert group_db("users")["users"].count_documents({"_id": user_id}) == 1
    wire.drain(until=lambda m: any(json.loads(b)["data"]["id"] == user_id for _, _, b in m))
    created = [json.loads(b) for _, _, b in wire.messages if json.loads(b)["data"]["id"] == user_id]
    assert len({e["id"] for e in created}) == 1 and created[0]["data"]["role"] == "organization"


def test_the_identity_provider_down_at_login_is_503_not_401(api, idp_proxy):
    user = api.register()
    idp_proxy.fail("POST", r"/protocol/openid-connect/token$", times=10)

    response = api.call("POST", "users", "/login", json={"username": user["account"]["username"],
                                                         "password": PASSWORD})

    assert response.status_code == 503 and response.json()["error"] == "unavailable"


# ---- deletion ------------------------------------------------------------------------------------------------

def test_a_deletion_the_identity_provider_failed_is_finished_by_its_retry(api, platform, idp_proxy, tap):
    wire = tap("user.deleted")
    user = api.register()
    key = f"delete-{uuid.uuid4()}"
    idp_proxy.fail("DELETE", USER)

    failed = api.call("DELETE", "users", f"/{user['id']}", token=user["accessToken"], key=key)
    retried = api.call("DELETE", "users", f"/{user['id']}", token=user["accessToken"], key=key)

    assert failed.status_code == 503
    assert retried.status_code == 204
    assert identity(platform, user["account"]["username"]) is None
    wire.drain(until=lambda m: any(json.loads(b)["data"]["id"] == user["id"] for _, _, b in m))
    deleted = {json.loads(b)["id"] for _, _, b in wire.messages if json.loads(b)["data"]["id"] == user["id"]}
    assert len(deleted) == 1


def test_a_deletion_never_retried_is_finished_by_the_next_login(api, platform, idp_proxy):
    user = api.register()
    idp_proxy.fail("DELETE", USER)
    assert api.call("DELETE", "users", f"/{user['id']}", token=user["accessToken"]).status_code == 503

    response = api.call("POST", "users", "/login", json={"username": user["account"]["username"],
                                                         "password": PASSWORD})

    assert response.status_code == 401
    assert identity(platform, user["account"]["username"]) is None
    assert api.call("GET", "users", f"/{user['id']}").status_code == 404


def test_public_keys_with_the_identity_provider_down_are_503(api, idp_proxy):
    idp_proxy.fail("GET", r"/protocol/openid-connect/certs$")

    response = api.call("GET", "users", "/public-keys")

    assert response.status_code == 503 and response.json()["error"] == "unavailable"


# ---- media storage -------------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def test_an_upload_the_storage_refused_changes_nothing(api, s3_proxy, tap):
    wire = tap("user.updated")
    user = api.register()
    s3_proxy.fail("PUT", rf"/users/{user['id']}/avatar\.png$", times=5)

    response = api.call("POST", "users", f"/{user['id']}/avatar", token=user["accessToken"],
                        files={"avatar": ("a.png", PNG, "image/png")})

    assert response.status_code == 503 and response.json()["error"] == "unavailable"
    assert api.call("GET", "users", f"/{user['id']}").json()["profile"]["avatar"] == user["profile"]["avatar"]
    wire.settle()
    assert not [b for _, _, b in wire.messages if json.loads(b)["data"]["id"] == user["id"]]


def test_a_deletion_whose_avatar_removal_failed_is_finished_by_its_retry(api, platform, s3_proxy):
    user = api.register()
    uploaded = api.call("POST", "users", f"/{user['id']}/avatar", token=user["accessToken"],
                        files={"avatar": ("a.png", PNG, "image/png")})
    assert uploaded.status_code == 200
    key = f"delete-{uuid.uuid4()}"
    s3_proxy.fail("DELETE", rf"/users/{user['id']}/avatar\.png$", times=5)

    failed = api.call("DELETE", "users", f"/{user['id']}", token=user["accessToken"], key=key)
    assert object_keys(s3_proxy.target, f"users/{user['id']}/") == [f"users/{user['id']}/avatar.png"]
    s3_proxy.rules.clear()
    retried = api.call("DELETE", "users", f"/{user['id']}", token=user["accessToken"], key=key)

    assert failed.status_code == 503 and retried.status_code == 204
    assert identity(platform, user["account"]["username"]) is None
    assert object_keys(s3_proxy.target, f"users/{user['id']}/") == []


def object_keys(endpoint, prefix):
    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="minioadmin", aws_secret_access_key="minioadmin",
                      region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
    return [o["Key"] for o in s3.list_objects_v2(Bucket="eventonight-media", Prefix=prefix).get("Contents", [])]
