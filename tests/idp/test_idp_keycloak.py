"""The development identity provider driven through functions.users.keycloak over real loopback HTTP.

Every scenario goes through the production adapter (or raw httpx where Keycloak's wire format is the point), never
through the app in-process, so the adapter is exercised exactly as it will be against Keycloak.
"""
from __future__ import annotations

import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from localrunner.idp import serve
from runtime.config import Config, Secret
from runtime.errors import Conflict, InternalError, InvalidInput, NotFound, Unauthorized, Unavailable

from functions.users import keycloak as kc
from functions.users.keycloak import KeycloakClient, Tokens, keycloak_from_config

PASSWORD = "s3cret-pass!"


def unique(prefix="user"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def register(keycloak, role="member", password=PASSWORD):
    """The reference's registration sequence (reference-core §1.2), minus Mongo and the event."""
    username = unique()
    email = f"{username}@example.com"
    app_user_id = str(uuid.uuid4())
    keycloak_id = keycloak.create_user(username, email, password, app_user_id)
    keycloak.assign_realm_role(keycloak_id, role)
    return username, email, app_user_id, keycloak_id


def token_form(idp, **form):
    return httpx.post(f"{idp.issuer}/protocol/openid-connect/token", data=form)


# ---- the registration / login / refresh / logout journey ------------------------------------------------------

def test_register_login_refresh_logout(idp, keycloak, verifier):
    username, email, app_user_id, keycloak_id = register(keycloak, role="organization")

    by_name = keycloak.password_grant(username, PASSWORD)
    by_email = keycloak.password_grant(email.upper(), PASSWORD)
    assert isinstance(by_name, Tokens) and by_name.expires_in == 300 and by_name.refresh_expires_in == 1800
    for tokens in (by_name, by_email):
        principal = verifier.verify(tokens.access_token)
        assert principal.user_id == app_user_id
        assert principal.subject == keycloak_id
        assert principal.username == username
        assert principal.has_role("organization") and not principal.has_role("member")

    refreshed = keycloak.refresh(by_name.refresh_token)
    assert refreshed.access_token != by_name.access_token
    assert refreshed.refresh_token and refreshed.refresh_token != by_name.refresh_token
    assert verifier.verify(refreshed.access_token).user_id == app_user_id

    keycloak.logout(refreshed.refresh_token)
    for dead in (by_name.refresh_token, refreshed.refresh_token):
        with pytest.raises(Unauthorized) as caught:
            keycloak.refresh(dead)
        assert caught.value.message == kc.INVALID_REFRESH
    raw = token_form(idp, grant_type="refresh_token", refresh_token=by_name.refresh_token,
                     client_id="users-service", client_secret="users-service-secret")
    assert raw.status_code == 400 and raw.json()["error"] == "invalid_grant"
    # the other session (the login by email) is untouched
    assert keycloak.refresh(by_email.refresh_token).access_token
    with pytest.raises(Unauthorized):
        keycloak.logout(refreshed.refresh_token)  # already revoked


def test_access_token_has_keycloak_layout(idp, keycloak):
    username, email, app_user_id, keycloak_id = register(keycloak)
    raw = token_form(idp, grant_type="password", username=username, password=PASSWORD,
                     client_id="users-service", client_secret="users-service-secret")
    assert raw.status_code == 200
    body = raw.json()
    assert body["token_type"] == "Bearer" and body["not-before-policy"] == 0
    assert set(body) >= {"access_token", "expires_in", "refresh_expires_in", "refresh_token", "session_state", "scope"}
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "RS256" and header["typ"] == "JWT" and header["kid"] == idp.keys.active.kid
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["iss"] == idp.issuer
    assert claims["aud"] == ["eventonight-api", "account"]
    assert claims["typ"] == "Bearer" and claims["azp"] == "users-service"
    assert claims["sub"] == keycloak_id and claims["sid"] == body["session_state"]
    assert claims["exp"] - claims["iat"] == 300 and claims["jti"]
    assert sorted(claims["realm_access"]["roles"]) == sorted(
        ["member", "offline_access", "uma_authorization", "default-roles-eventonight"])
    assert claims["preferred_username"] == username and claims["email"] == email
    assert claims["email_verified"] is False and claims["user_id"] == app_user_id
    assert set(claims["scope"].split()) >= {"email", "profile"}


def test_discovery_and_jwks(idp):
    discovery = httpx.get(f"{idp.issuer}/.well-known/openid-configuration").json()
    assert discovery["issuer"] == idp.issuer
    assert discovery["jwks_uri"] == f"{idp.issuer}/protocol/openid-connect/certs"
    assert discovery["token_endpoint"] == f"{idp.issuer}/protocol/openid-connect/token"
    keys = httpx.get(discovery["jwks_uri"]).json()["keys"]
    uses = {(k["use"], k["alg"]) for k in keys}
    assert ("sig", "RS256") in uses and ("enc", "RSA-OAEP") in uses
    assert all(k["kid"] and k["kty"] == "RSA" and k["x5c"] for k in keys)
    assert httpx.get(f"{idp.url}/realms/other/.well-known/openid-configuration").status_code == 404


def test_userinfo(idp, keycloak):
    username, email, app_user_id, _ = register(keycloak)
    tokens = keycloak.password_grant(username, PASSWORD)
    info = httpx.get(f"{idp.issuer}/protocol/openid-connect/userinfo",
                     headers={"Authorization": f"Bearer {tokens.access_token}"})
    assert info.status_code == 200
    assert info.json()["user_id"] == app_user_id and info.json()["email"] == email


# ---- credentials ----------------------------------------------------------------------------------------------

def test_wrong_password_and_unknown_user(idp, keycloak):
    username, *_ = register(keycloak)
    for who, password in ((username, "wrong-pass1!"), (unique("nobody"), PASSWORD)):
        with pytest.raises(Unauthorized) as caught:
            keycloak.password_grant(who, password)
        assert caught.value.message == kc.INVALID_CREDENTIALS
    raw = token_form(idp, grant_type="password", username=username, password="nope",
                     client_id="users-service", client_secret="users-service-secret")
    assert raw.status_code == 401
    assert raw.json() == {"error": "invalid_grant", "error_description": "Invalid user credentials"}


def test_garbage_refresh_token(keycloak):
    with pytest.raises(Unauthorized):
        keycloak.refresh("not-a-token")


def test_expired_refresh_token_is_refused():
    now = [1_000_000.0]
    with serve("127.0.0.1", 0, clock=lambda: now[0]) as idp:
        client = KeycloakClient(idp.url, "eventonight", "users-service", Secret("users-service-secret"))
        idp.idp.add_user("old", "old@example.com", PASSWORD, attributes={"custom_user_id": "x"})
        tokens = client.password_grant("old", PASSWORD)
        now[0] += 1801
        raw = token_form(idp, grant_type="refresh_token", refresh_token=tokens.refresh_token,
                         client_id="users-service", client_secret="users-service-secret")
        assert raw.status_code == 400 and raw.json()["error"] == "invalid_grant"
        with pytest.raises(Unauthorized):
            client.refresh(tokens.refresh_token)
        client.close()


def test_unknown_grant_and_public_client_cannot_use_client_credentials(idp):
    assert token_form(idp, grant_type="magic", client_id="eventonight-web").json()["error"] == "unsupported_grant_type"
    raw = token_form(idp, grant_type="client_credentials", client_id="eventonight-web")
    assert raw.status_code == 401 and raw.json()["error"] == "unauthorized_client"


# ---- admin API --------------------------------------------------------------------------------------------------

def test_duplicate_username_and_email_conflict(keycloak):
    username, email, *_ = register(keycloak)
    with pytest.raises(Conflict) as caught:
        keycloak.create_user(username.upper(), f"other-{email}", PASSWORD, str(uuid.uuid4()))
    assert caught.value.message == kc.USERNAME_TAKEN and caught.value.details[0]["field"] == "username"
    with pytest.raises(Conflict) as caught:
        keycloak.create_user(unique(), email.upper(), PASSWORD, str(uuid.uuid4()))
    assert caught.value.message == kc.EMAIL_TAKEN and caught.value.details[0]["field"] == "email"


def test_duplicate_wire_format(idp, keycloak):
    username, email, *_ = register(keycloak)
    admin = keycloak._admin_token()
    raw = httpx.post(f"{idp.url}/admin/realms/eventonight/users", headers={"Authorization": f"Bearer {admin}"},
                     json={"username": username, "email": "x@example.com", "enabled": True})
    assert raw.status_code == 409 and raw.json() == {"errorMessage": "User exists with same username"}
    raw = httpx.post(f"{idp.url}/admin/realms/eventonight/users", headers={"Authorization": f"Bearer {admin}"},
                     json={"username": unique(), "email": email.upper(), "enabled": True})
    assert raw.status_code == 409 and raw.json() == {"errorMessage": "User exists with same email"}


@pytest.mark.parametrize("password, rule", [
    ("a1!b2@c", "minimum length 8"),
    ("abcdefgh!", "numerical digits"),
    ("ABCDEFG1!", "lower case"),
    ("abcdefg12", "special characters"),
])
def test_weak_password_is_invalid_input_and_creates_nothing(keycloak, password, rule):
    username = unique()
    with pytest.raises(InvalidInput) as caught:
        keycloak.create_user(username, f"{username}@example.com", password, str(uuid.uuid4()))
    assert caught.value.status == 400
    assert caught.value.details[0]["field"] == "password" and rule in caught.value.details[0]["message"]
    assert keycloak.find_user_id(username) is None


def test_delete_user_ends_logins_and_sessions(keycloak):
    username, email, _, keycloak_id = register(keycloak)
    tokens = keycloak.password_grant(username, PASSWORD)
    assert keycloak.delete_user(keycloak_id) is True
    with pytest.raises(Unauthorized):
        keycloak.password_grant(username, PASSWORD)
    with pytest.raises(Unauthorized):
        keycloak.refresh(tokens.refresh_token)
    assert keycloak.delete_user(keycloak_id) is False  # a retried delete is harmless
    assert keycloak.find_user_id(email) is None
    with pytest.raises(NotFound):
        keycloak.get_user(keycloak_id)


def test_find_user_id_by_username_or_email(keycloak):
    username, email, _, keycloak_id = register(keycloak)
    assert keycloak.find_user_id(username) == keycloak_id
    assert keycloak.find_user_id(username.upper()) == keycloak_id
    assert keycloak.find_user_id(email) == keycloak_id
    assert keycloak.find_user_id(username[:-1]) is None  # exact, not a prefix search


def test_set_attribute_keeps_the_others(keycloak, verifier):
    username, _, app_user_id, keycloak_id = register(keycloak)
    keycloak.set_attribute(keycloak_id, "locale", "it")
    attributes = keycloak.get_user(keycloak_id)["attributes"]
    assert attributes == {"custom_user_id": [app_user_id], "locale": ["it"]}
    assert verifier.verify(keycloak.password_grant(username, PASSWORD).access_token).user_id == app_user_id


def test_reset_password(keycloak):
    username, _, _, keycloak_id = register(keycloak)
    with pytest.raises(InvalidInput) as caught:
        keycloak.reset_password(keycloak_id, "short1!")
    assert "minimum length 8" in caught.value.details[0]["message"]
    keycloak.reset_password(keycloak_id, "n3w-password!")
    with pytest.raises(Unauthorized):
        keycloak.password_grant(username, PASSWORD)
    assert keycloak.password_grant(username, "n3w-password!").access_token
    with pytest.raises(NotFound):
        keycloak.reset_password(str(uuid.uuid4()), "n3w-password!")


def test_logout_user_revokes_every_session(keycloak):
    username, email, _, keycloak_id = register(keycloak)
    first = keycloak.password_grant(username, PASSWORD)
    second = keycloak.password_grant(email, PASSWORD)
    keycloak.logout_user(keycloak_id)
    for tokens in (first, second):
        with pytest.raises(Unauthorized):
            keycloak.refresh(tokens.refresh_token)
    assert keycloak.password_grant(username, PASSWORD).access_token  # can log in again


def test_unknown_role_is_a_deployment_fault(keycloak):
    *_, keycloak_id = register(keycloak)
    with pytest.raises(InternalError):
        keycloak.assign_realm_role(keycloak_id, "admin")
    with pytest.raises(NotFound):
        keycloak.assign_realm_role(str(uuid.uuid4()), "member")


def test_role_wire_format(idp, keycloak):
    admin = {"Authorization": f"Bearer {keycloak._admin_token()}"}
    role = httpx.get(f"{idp.url}/admin/realms/eventonight/roles/member", headers=admin).json()
    assert role["name"] == "member" and role["id"]
    *_, keycloak_id = register(keycloak, role="member")
    mapped = httpx.get(f"{idp.url}/admin/realms/eventonight/users/{keycloak_id}/role-mappings/realm",
                       headers=admin).json()
    assert [r["name"] for r in mapped] == ["member"]
    wrong_id = httpx.post(f"{idp.url}/admin/realms/eventonight/users/{keycloak_id}/role-mappings/realm",
                          headers=admin, json=[{"id": "forged", "name": "organization"}])
    assert wrong_id.status_code == 404


def test_admin_api_requires_a_manage_users_service_account(idp, keycloak):
    url = f"{idp.url}/admin/realms/eventonight/users"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer garbage"}).status_code == 401
    reporting = token_form(idp, grant_type="client_credentials", client_id="reporting",
                           client_secret="reporting-secret").json()["access_token"]
    assert httpx.get(url, headers={"Authorization": f"Bearer {reporting}"}).status_code == 403
    username, *_ = register(keycloak)
    user_token = keycloak.password_grant(username, PASSWORD).access_token
    assert httpx.get(url, headers={"Authorization": f"Bearer {user_token}"}).status_code == 403
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = idp.mint({"resource_access": {"realm-management": {"roles": ["manage-users"]}}}, key=other_key)
    assert httpx.get(url, headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_service_account_token_is_cached(idp, keycloak):
    first = keycloak._admin_token()
    register(keycloak)
    assert keycloak._admin_token() == first


def test_admin_token_renewed_after_key_rotation_and_removal():
    with serve("127.0.0.1", 0) as idp:
        client = KeycloakClient(idp.url, "eventonight", "users-service", Secret("users-service-secret"))
        register(client)
        old_kid = idp.keys.active.kid
        idp.keys.rotate()
        idp.keys.remove(old_kid)  # the cached admin token no longer verifies: 401, renew once, succeed
        register(client)
        client.close()


def test_wrong_client_secret_is_a_deployment_fault(idp):
    client = KeycloakClient(idp.url, "eventonight", "users-service", Secret("wrong"))
    with pytest.raises(InternalError):
        client.create_user(unique(), f"{unique()}@example.com", PASSWORD, "x")
    with pytest.raises(InternalError):
        client.password_grant("whoever", PASSWORD)
    assert "wrong" not in repr(client)


def test_unreachable_identity_provider_is_unavailable(closed_port):
    client = KeycloakClient(f"http://127.0.0.1:{closed_port}", "eventonight", "users-service", Secret("s"))
    for call in (lambda: client.password_grant("a", "b"), lambda: client.refresh("r"), lambda: client.logout("r"),
                 lambda: client.create_user("a", "a@example.com", PASSWORD, "x")):
        with pytest.raises(Unavailable) as caught:
            call()
        assert caught.value.status == 503 and caught.value.retryable


def test_keycloak_from_config(idp, tmp_path):
    config = Config({"OIDC_ISSUER": f"{idp.issuer}/", "SECRET_KEYCLOAK_CLIENT_SECRET": "users-service-secret"})
    client = keycloak_from_config(config)
    assert (client.base_url, client.realm, client.client_id) == (idp.url, "eventonight", "users-service")
    assert keycloak_from_config(config) is client
    username, *_ = register(client)
    assert client.password_grant(username, PASSWORD).access_token

    (tmp_path / "keycloak-client-secret").write_text("mounted\n")
    explicit = keycloak_from_config(Config({"KEYCLOAK_URL": "http://kc:8080", "KEYCLOAK_REALM": "r",
                                            "KEYCLOAK_CLIENT_ID": "c", "SECRETS_DIR": str(tmp_path)}))
    assert (explicit.base_url, explicit.realm, explicit.client_id) == ("http://kc:8080", "r", "c")
    assert explicit._secret.reveal() == "mounted"
