"""The development identity provider with a data directory (``scripts/run`` gives it ``.data/idp``): accounts,
sessions and keys outlive a restart, so a user registered before it logs in after it, and the tokens issued before
it still verify and refresh. Real loopback HTTP through the production adapter and verifier, as everywhere here."""
from __future__ import annotations

import uuid

import pytest

from localrunner.datadir import DataDirInUse
from localrunner.idp import DEFAULT_CLIENTS, serve
from runtime.auth import TokenVerifier
from runtime.config import Secret

from functions.users.keycloak import KeycloakClient

PASSWORD = "s3cret-pass!"


def adapter(served) -> KeycloakClient:
    return KeycloakClient(served.url, "eventonight", "users-service", Secret(DEFAULT_CLIENTS["users-service"]["secret"]))


def test_accounts_sessions_and_keys_survive_a_restart(tmp_path):
    username, app_user_id = f"user-{uuid.uuid4().hex[:10]}", str(uuid.uuid4())
    first = serve("127.0.0.1", 0, state_dir=tmp_path)
    port, issuer = int(first.url.rsplit(":", 1)[1]), first.issuer
    keycloak = adapter(first)
    keycloak_id = keycloak.create_user(username, f"{username}@example.com", PASSWORD, app_user_id)
    keycloak.assign_realm_role(keycloak_id, "organization")
    before = keycloak.password_grant(username, PASSWORD)
    keycloak.close()
    first.stop()

    second = serve("127.0.0.1", port, state_dir=tmp_path)  # the same address, as scripts/run's 8180
    try:
        assert second.issuer == issuer
        principal = TokenVerifier(issuer, second.idp.audience).verify(before.access_token)  # a fresh key-set fetch
        assert (principal.user_id, principal.subject) == (app_user_id, keycloak_id)
        assert principal.has_role("organization")
        keycloak = adapter(second)
        assert keycloak.refresh(before.refresh_token).access_token  # the session is still open
        after = keycloak.password_grant(username, PASSWORD)
        assert TokenVerifier(issuer, second.idp.audience).verify(after.access_token).user_id == app_user_id
        keycloak.close()
    finally:
        second.stop()


def test_without_a_data_dir_nothing_is_kept():
    first = serve("127.0.0.1", 0)
    first.idp.add_user("kept-nowhere", None, PASSWORD)
    first.stop()
    second = serve("127.0.0.1", 0)
    try:
        assert second.idp.find_login("kept-nowhere") is None
    finally:
        second.stop()


def test_one_provider_per_data_dir(tmp_path):
    first = serve("127.0.0.1", 0, state_dir=tmp_path)
    try:
        with pytest.raises(DataDirInUse, match="in use by another identity provider"):
            serve("127.0.0.1", 0, state_dir=tmp_path)
    finally:
        first.stop()


def test_a_damaged_state_file_is_named_and_left_alone(tmp_path):
    (tmp_path / "realm.json").write_text("{ not json")
    with pytest.raises(ValueError, match=r"realm\.json is damaged.*--fresh"):
        serve("127.0.0.1", 0, state_dir=tmp_path)
    assert (tmp_path / "realm.json").read_text() == "{ not json"
    (tmp_path / "realm.json").unlink()
    serve("127.0.0.1", 0, state_dir=tmp_path).stop()  # the failed start left the directory unlocked
