"""The users slice through the gateway, as the SPA calls it: register, login, refresh, read, update."""
import json

import pytest


def test_register_answers_the_login_response_and_emits_user_created(api, tap):
    wire = tap("user.created")

    user = api.register("organization")

    assert set(user) == {"id", "role", "account", "profile", "accessToken", "expiresIn", "refreshToken",
                         "refreshExpiresIn"}
    assert user["role"] == "organization" and user["profile"]["name"] == user["account"]["username"]
    messages = wire.drain(until=lambda m: any(json.loads(b)["data"]["id"] == user["id"] for _, _, b in m))
    event = next(json.loads(b) for _, p, b in messages if json.loads(b)["data"]["id"] == user["id"])
    assert event["type"] == "user.created" and event["data"]["role"] == "organization"
    props = next(p for _, p, b in messages if json.loads(b)["data"]["id"] == user["id"])
    assert props.content_type == "application/cloudevents+json" and props.message_id == event["id"]
    assert props.delivery_mode == 2 and props.headers["ce-type"] == "user.created"


def test_login_by_username_or_email_and_refresh(api):
    user = api.register(username=None)
    name = user["account"]["username"]

    by_name = api.call("POST", "users", "/login", json={"username": name, "password": "passw0rd!"})
    by_mail = api.call("POST", "users", "/login", json={"username": f"{name}@example.org", "password": "passw0rd!"})
    refreshed = api.call("POST", "users", "/refresh", json={"refreshToken": by_name.json()["refreshToken"]})

    assert by_name.status_code == by_mail.status_code == 200
    assert by_name.json()["id"] == by_mail.json()["id"] == user["id"]
    assert refreshed.status_code == 200 and set(refreshed.json()) == {"accessToken", "expiresIn", "refreshToken",
                                                                      "refreshExpiresIn"}


@pytest.mark.parametrize("username_suffix, password", [("", "wrong-passw0rd!"), ("-nobody", "passw0rd!")])
def test_wrong_password_and_unknown_user_are_both_401(api, username_suffix, password):
    user = api.register()

    response = api.call("POST", "users", "/login",
                        json={"username": user["account"]["username"] + username_suffix, "password": password})

    assert response.status_code == 401 and response.json()["error"] == "unauthorized"


def test_duplicate_username_is_409_and_leaves_no_second_identity(api, platform):
    user = api.register()

    response = api.call("POST", "users", "/register", json={
        "username": user["account"]["username"], "email": "other@example.org", "password": "passw0rd!",
        "role": "member"})

    assert response.status_code == 409
    assert api.call("POST", "users", "/login", json={"username": "other@example.org",
                                                      "password": "passw0rd!"}).status_code == 401


def test_owner_sees_the_full_profile_others_the_public_view(api):
    user = api.register()

    own = api.call("GET", "users", f"/{user['id']}", token=user["accessToken"]).json()
    public = api.call("GET", "users", f"/{user['id']}").json()

    assert own["account"]["email"] == f"{user['account']['username']}@example.org"
    assert public == {"id": user["id"], "role": "member", "account": {"username": user["account"]["username"]},
                      "profile": {"name": user["profile"]["name"], "avatar": user["profile"]["avatar"]}}
    assert api.call("GET", "users", "/no-such-user").status_code == 404


def test_update_replaces_the_profile_and_emits_user_updated(api, tap):
    wire = tap("user.updated")
    user = api.register("organization")
    body = {"accountDTO": {"darkMode": True, "language": "it", "username": "ignored", "interests": ["Club"]},
            "profileDTO": {"name": "Night Owls", "bio": "We party", "contacts": ["https://owls.example"],
                           "avatar": "ignored"}}

    response = api.call("PUT", "users", f"/{user['id']}", token=user["accessToken"], json=body)

    assert response.status_code == 204
    own = api.call("GET", "users", f"/{user['id']}", token=user["accessToken"]).json()
    assert own["account"]["darkMode"] is True and own["account"]["language"] == "it"
    assert own["account"]["username"] == user["account"]["username"]
    assert own["profile"]["contacts"] == ["https://owls.example/"] and own["profile"]["bio"] == "We party"
    messages = wire.drain(until=lambda m: any(json.loads(b)["data"]["id"] == user["id"] for _, _, b in m))
    event = next(json.loads(b) for _, _, b in messages if json.loads(b)["data"]["id"] == user["id"])
    assert event["data"]["name"] == "Night Owls" and event["sequence"] == "2"


def test_update_by_someone_else_is_403_and_without_token_401(api):
    owner, other = api.register(), api.register()
    body = {"accountDTO": {"darkMode": False, "language": "en"}, "profileDTO": {"name": "x"}}

    assert api.call("PUT", "users", f"/{owner['id']}", token=other["accessToken"], json=body).status_code == 403
    assert api.call("PUT", "users", f"/{owner['id']}", json=body).status_code == 401


def test_bad_input_lists_every_problem_and_writes_nothing(api, platform, group_db):
    users = group_db("users")
    before = (users["users"].count_documents({}), users["idempotency"].count_documents({}))

    response = api.call("POST", "users", "/register", json={
        "username": " ", "email": "not-an-email", "password": "short", "role": "admin", "extra": 1})

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_input"
    assert {d["field"] for d in body["details"]} == {"username", "email", "password", "role", "extra"}
    assert (users["users"].count_documents({}), users["idempotency"].count_documents({})) == before


@pytest.mark.parametrize("body, status", [
    (b"{not json", 400),
    (b'{"accountDTO": {"darkMode": "maybe", "language": "en"}, "profileDTO": {"name": "x"}}', 400),
    (b'{"profileDTO": {"name": "x"}}', 400),
    (b'{"accountDTO": {"darkMode": true, "language": "en", "gender": "other"}, "profileDTO": {"name": "x"}}', 400),
])
def test_malformed_updates_are_400_json(api, body, status):
    user = api.register()

    response = api.call("PUT", "users", f"/{user['id']}", token=user["accessToken"], content=body,
                        headers={"Content-Type": "application/json"})

    assert response.status_code == status and response.headers["content-type"] == "application/json"
    assert response.json()["error"] in ("invalid_input", "invalid_json")


def test_the_same_idempotency_key_twice_registers_once_and_replays(api, tap):
    wire = tap("user.created")
    key = "register-twice-" + api.register()["id"]  # a fresh key
    username = "twice" + key[-8:]

    first = api.register(username=username, key=key)
    second = api.call("POST", "users", "/register", key=key, json={
        "username": username, "email": f"{username}@example.org", "password": "passw0rd!", "role": "member"})

    assert second.status_code == 201 and second.headers["idempotent-replayed"] == "true"
    assert second.json()["id"] == first["id"] and second.json()["accessToken"]  # tokens issued anew, not stored
    wire.settle()
    assert [json.loads(b)["data"]["id"] for _, _, b in wire.messages].count(first["id"]) == 1


def test_the_same_key_with_another_body_is_422(api):
    key = "reuse-" + api.register()["id"]
    api.register(username="reuse" + key[-8:], key=key)

    response = api.call("POST", "users", "/register", key=key, json={
        "username": "someone-else", "email": "else@example.org", "password": "passw0rd!", "role": "member"})

    assert response.status_code == 422 and response.json()["error"] == "idempotency_key_reused"


def test_concurrent_invocations_with_one_key_execute_once(api, tap, concurrently):
    wire = tap("user.updated")
    user = api.register()
    body = {"accountDTO": {"darkMode": True, "language": "en"}, "profileDTO": {"name": "Concurrent"}}

    results = concurrently(8, lambda i: api.call("PUT", "users", f"/{user['id']}", token=user["accessToken"],
                                                     key="concurrent-" + user["id"], json=body))

    statuses = sorted(r.status_code for r in results)
    assert set(statuses) <= {204, 409} and 204 in statuses
    assert all(r.headers.get("retry-after") for r in results if r.status_code == 409)
    wire.settle()
    assert [json.loads(b)["data"]["id"] for _, _, b in wire.messages].count(user["id"]) == 1
    own = api.call("GET", "users", f"/{user['id']}", token=user["accessToken"]).json()
    assert own["profile"]["name"] == "Concurrent"
