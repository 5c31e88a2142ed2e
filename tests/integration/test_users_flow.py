"""One account's life through the gateway against the development identity provider, as the SPA lives it:
register → login → refresh → update → delete, with the tokens it is issued accepted by another group."""
import uuid

from localrunner.bus import wait_until

PLATFORM_WORKERS = 3  # competing replicas, as the platforms scale out (localrunner.workers)

PASSWORD = "passw0rd!"


def test_register_login_refresh_update_delete(api):
    username = f"flow{uuid.uuid4().hex[:8]}"
    registered = api.register("organization", username=username)

    logged_in = api.call("POST", "users", "/login", json={"username": f"{username}@example.org",
                                                          "password": PASSWORD})
    refreshed = api.call("POST", "users", "/refresh", json={"refreshToken": logged_in.json()["refreshToken"]})
    token = refreshed.json()["accessToken"]
    updated = api.call("PUT", "users", f"/{registered['id']}", token=token, json={
        "accountDTO": {"darkMode": True, "language": "it", "interests": ["Club"]},
        "profileDTO": {"name": "Flow Club", "contacts": ["https://flow.example"]}})
    event = api.call("POST", "events", "/", token=token, json={"title": "Flow night", "status": "DRAFT"})
    deleted = api.call("DELETE", "users", f"/{registered['id']}", token=token)

    assert logged_in.status_code == 200 and logged_in.json()["id"] == registered["id"]
    assert refreshed.status_code == 200 and token != logged_in.json()["accessToken"]
    assert updated.status_code == 204
    assert event.status_code == 201  # the events group accepts the users group's tokens
    assert deleted.status_code == 204
    assert api.call("GET", "users", f"/{registered['id']}").status_code == 404
    assert api.call("POST", "users", "/login", json={"username": username, "password": PASSWORD}).status_code == 401
    assert api.call("POST", "users", "/refresh",
                    json={"refreshToken": refreshed.json()["refreshToken"]}).status_code == 401


def test_tokens_from_login_and_refresh_are_accepted_by_the_events_group(api):
    member = api.register("member")
    organization = api.register("organization")
    refreshed = api.call("POST", "users", "/refresh", json={"refreshToken": organization["refreshToken"]}).json()

    as_member = api.call("POST", "events", "/", token=member["accessToken"], json={"title": "x", "status": "DRAFT"})
    as_organization = api.call("POST", "events", "/", token=refreshed["accessToken"],
                               json={"title": "Refreshed night", "status": "DRAFT"})

    assert as_member.status_code == 403  # verified, then refused for its role: the token itself was accepted
    assert as_organization.status_code == 201


def test_a_deletion_reaches_the_mirror_of_another_group_after_its_earlier_events(api, group_db):
    """``user.deleted`` carries a sequence newer than the user's other events, so a mirror keeps the tombstone."""
    user = api.register("organization")
    api.call("PUT", "users", f"/{user['id']}", token=user["accessToken"], json={
        "accountDTO": {"darkMode": False, "language": "en"}, "profileDTO": {"name": "Soon gone"}})
    api.call("DELETE", "users", f"/{user['id']}", token=user["accessToken"])
    mirror = group_db("events")["users"]

    assert wait_until(lambda: (mirror.find_one({"_id": user["id"]}) or {}).get("deleted"), timeout=10)

    copy = mirror.find_one({"_id": user["id"]})
    assert copy["deleted"] is True and "name" not in copy and copy["_seq"] == 3


def test_a_bad_token_on_a_profile_read_gives_the_public_view(api):
    user = api.register()

    response = api.call("GET", "users", f"/{user['id']}", token="not.a.jwt")

    assert response.status_code == 200 and set(response.json()["account"]) == {"username"}
