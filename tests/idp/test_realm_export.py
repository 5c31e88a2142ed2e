"""deploy/keycloak/eventonight-realm.json against what the code expects of Keycloak, so neither can drift silently:
the realm and audience the functions verify tokens for (deploy/choices.py SHARED_ENV, runtime.config), the claims
the runtime's verifier reads (user_id from the attribute the users functions write, realm_access.roles), the roles
the functions check, the client the users functions log in and manage users with (its id, secret, grants and
service-account roles), the development identity provider's clients, password policy and token lifetimes, and a
user profile that keeps custom_user_id admin-only and lets admin-created users log in with the password grant."""
from __future__ import annotations

import json
import re
import typing
import uuid
from pathlib import Path

import jwt
import pytest

from deploy.choices import REPO_ROOT, SHARED_ENV
from localrunner.idp import (
    ACCESS_TOKEN_LIFESPAN,
    DEFAULT_CLIENTS,
    MANAGE_USERS_ROLES,
    REALM_ROLES,
    REFRESH_TOKEN_LIFESPAN,
    password_policy_violation,
)
from runtime.auth import Principal, TokenVerifier
from runtime.config import Config
from runtime.errors import Unauthorized
from runtime.registry import discover

from functions.users import keycloak as users_keycloak
from functions.users import model as users_model

REALM_FILE = Path(REPO_ROOT) / "deploy" / "keycloak" / "eventonight-realm.json"
REALM = json.loads(REALM_FILE.read_text())
CLIENTS = {c["clientId"]: c for c in REALM["clients"]}
SHARED = dict(SHARED_ENV)
USER_PROFILE = json.loads(REALM["components"]["org.keycloak.userprofile.UserProfileProvider"][0]["config"]
                          ["kc.user.profile.config"][0])
PROFILE_ATTRIBUTES = {a["name"]: a for a in USER_PROFILE["attributes"]}
# For each rule of Keycloak's password policy syntax used here, a password that breaks only that rule.
BREAKS_ONLY = {"length(8)": "ab1!xyz", "digits(1)": "abcdefg!", "lowerCase(1)": "ABCDEFG1!",
               "specialChars(1)": "abcdefg1"}


def mappers(client: dict, kind: str) -> list[dict]:
    return [m for m in client.get("protocolMappers", []) if m["protocolMapper"] == kind]


def token_clients() -> list[dict]:
    """The clients that issue tokens for users (password grant or browser login)."""
    return [c for c in REALM["clients"] if c.get("directAccessGrantsEnabled") or c.get("standardFlowEnabled")]


def test_realm_is_the_one_the_functions_trust():
    issuer_realm = re.fullmatch(r".*/realms/([^/]+)", SHARED["OIDC_ISSUER"]).group(1)
    default_realm = re.fullmatch(r".*/realms/([^/]+)", Config({}).oidc_issuer).group(1)
    assert REALM["realm"] == issuer_realm == default_realm == users_keycloak.DEFAULT_REALM
    assert REALM["enabled"] is True and REALM["defaultSignatureAlgorithm"] == "RS256"


def test_every_user_token_carries_the_api_audience():
    audience = SHARED["OIDC_AUDIENCE"]
    assert audience == Config({}).oidc_audience
    for client in token_clients():
        found = mappers(client, "oidc-audience-mapper")
        assert [m["config"]["included.custom.audience"] for m in found] == [audience], client["clientId"]
        assert found[0]["config"]["access.token.claim"] == "true"


def test_every_user_token_carries_the_claim_the_verifier_reads():
    for client in token_clients():
        [mapper] = mappers(client, "oidc-usermodel-attribute-mapper")
        config = mapper["config"]
        assert config["access.token.claim"] == "true" and config["multivalued"] == "false"
        claims = {config["claim.name"]: "app-user-1", "realm_access": {"roles": ["member"]}}
        assert Principal.from_claims(claims).user_id == "app-user-1"
        with pytest.raises(Unauthorized):
            Principal.from_claims({"realm_access": {"roles": ["member"]}})
        # the built-in scopes (profile: preferred_username, email, roles: realm_access.roles) stay on the client
        assert "defaultClientScopes" not in client and client["fullScopeAllowed"] is True


def test_user_id_mapper_reads_the_attribute_the_users_functions_write(idp, keycloak):
    """Through the real adapter and the development provider: the attribute create_user stores is the one the
    realm maps, into the claim name the verifier reads, with the audience the realm adds."""
    app_user_id, name = str(uuid.uuid4()), f"realm-{uuid.uuid4().hex[:10]}"
    keycloak_id = keycloak.create_user(name, f"{name}@example.org", "passw0rd!", app_user_id)
    try:
        keycloak.assign_realm_role(keycloak_id, "member")
        attributes = keycloak.get_user(keycloak_id)["attributes"]
        [written] = [attr for attr, values in attributes.items() if values == [app_user_id]]
        assert written in PROFILE_ATTRIBUTES  # declared, or Keycloak would drop it (unmanaged attributes off)
        config = mappers(CLIENTS[users_keycloak.DEFAULT_CLIENT_ID], "oidc-usermodel-attribute-mapper")[0]["config"]
        assert config["user.attribute"] == written
        token = keycloak.password_grant(name, "passw0rd!").access_token
        assert jwt.decode(token, options={"verify_signature": False})[config["claim.name"]] == app_user_id
        principal = TokenVerifier(idp.issuer, SHARED["OIDC_AUDIENCE"]).verify(token)
        assert principal.user_id == app_user_id and "member" in principal.roles
    finally:
        keycloak.delete_user(keycloak_id)


def test_realm_roles_are_the_ones_the_functions_use():
    declared = {role for spec in discover() for role in spec.roles}
    registered = set(typing.get_args(users_model.Registration.model_fields["role"].annotation))
    realm_roles = {role["name"] for role in REALM["roles"]["realm"]}
    assert declared <= realm_roles
    assert realm_roles == registered == set(users_model.ROLES) == set(REALM_ROLES)


def test_clients_are_the_development_providers():
    assert set(CLIENTS) == set(DEFAULT_CLIENTS)
    for client_id, dev in DEFAULT_CLIENTS.items():
        client = CLIENTS[client_id]
        assert client["publicClient"] is (dev["secret"] is None), client_id
        assert client.get("secret") == dev["secret"], client_id  # scripts/run passes the development secret
        assert client["directAccessGrantsEnabled"] is True  # the provider grants password and refresh to both
        assert client["serviceAccountsEnabled"] is bool(dev.get("manage_users")), client_id


def test_users_functions_client_logs_in_and_manages_users():
    users_clients = {spec.name: spec for spec in discover() if spec.group == "users"}
    assert users_keycloak.SECRET_NAME in users_clients["users-register"].secrets
    config = Config({"OIDC_ISSUER": "http://localhost:8280/realms/eventonight",
                     "SECRET_KEYCLOAK_CLIENT_SECRET": CLIENTS["users-service"]["secret"]})
    adapter = users_keycloak.keycloak_from_config(config)
    client = CLIENTS[adapter.client_id]
    assert adapter.realm == REALM["realm"] and adapter.base_url == "http://localhost:8280"
    assert client["publicClient"] is False and client["clientAuthenticatorType"] == "client-secret"
    assert client["directAccessGrantsEnabled"] and client["serviceAccountsEnabled"]  # login; admin API
    [account] = [u for u in REALM["users"] if u.get("serviceAccountClientId") == adapter.client_id]
    assert account["username"] == f"service-account-{adapter.client_id}"
    assert sorted(account["clientRoles"]["realm-management"]) == sorted(MANAGE_USERS_ROLES)


def test_password_policy_is_the_development_providers():
    rules = [rule.strip() for rule in REALM["passwordPolicy"].split(" and ")]
    assert sorted(rules) == sorted(BREAKS_ONLY), "add a password that breaks only the new rule"
    assert password_policy_violation("abcdef1!") is None
    for rule in rules:
        assert password_policy_violation(BREAKS_ONLY[rule]) is not None, rule


def test_token_lifetimes_are_the_development_providers():
    assert REALM["accessTokenLifespan"] == ACCESS_TOKEN_LIFESPAN
    assert REALM["ssoSessionIdleTimeout"] == REFRESH_TOKEN_LIFESPAN


def test_custom_user_id_is_an_admin_only_attribute():
    attribute = PROFILE_ATTRIBUTES["custom_user_id"]
    assert attribute["permissions"] == {"view": ["admin", "user"], "edit": ["admin"]}
    assert attribute["multivalued"] is False and "required" not in attribute


def test_admin_created_users_can_use_the_password_grant():
    """Keycloak's verify-profile action stops a password-grant login ("Account is not fully set up") when a
    profile attribute required for users is missing; the users functions create accounts with a username, an
    e-mail and custom_user_id only, so nothing else may be required."""
    required = {name for name, a in PROFILE_ATTRIBUTES.items() if "user" in a.get("required", {}).get("roles", [])
                or a.get("required") == {}}
    assert required <= {"username", "email"}
    assert set(users_model.Registration.model_fields) >= required

