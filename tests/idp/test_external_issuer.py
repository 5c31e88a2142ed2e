"""``scripts/run`` with OIDC_ISSUER set (``localrunner up`` reads it with ``external_identity``): the functions
trust that identity provider, the users functions register and log in through it with the realm export's client
secret, and the development provider's tokens are refused. A second development provider, with the clients of
deploy/keycloak/eventonight-realm.json, stands in for Keycloak."""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import httpx
import jwt
import pytest

from deploy.choices import REPO_ROOT
from localrunner.__main__ import external_identity
from localrunner.app import LocalPlatform, Settings, free_port
from localrunner.idp import serve
from runtime.process import reset_default_runtime

REALM = json.loads((Path(REPO_ROOT) / "deploy" / "keycloak" / "eventonight-realm.json").read_text())
CLIENTS = {c["clientId"]: {"secret": c.get("secret"), "manage_users": c["serviceAccountsEnabled"]}
           for c in REALM["clients"]}


@pytest.fixture
def keycloak_and_platform(mongo_uri):
    environ = dict(os.environ)  # the platform exports its settings to the process, as a container's environment
    keycloak = serve("127.0.0.1", 0, clients=CLIENTS)
    settings = Settings(namespace=f"extidp{uuid.uuid4().hex[:8]}", mongo_uri=mongo_uri, port=0,
                        idp_port=free_port(), stripe=False, schedules=False, socket_replicas=0,
                        extra_env=external_identity({"OIDC_ISSUER": keycloak.issuer, "UNRELATED": "x",
                                                     "SECRET_KEYCLOAK_CLIENT_SECRET": CLIENTS["users-service"]["secret"]}))
    platform = LocalPlatform(settings).start()
    try:
        yield keycloak, platform
    finally:
        platform.stop(remove=True)
        keycloak.stop()
        os.environ.clear()
        os.environ.update(environ)
        reset_default_runtime()


def test_external_identity_takes_only_the_identity_settings():
    assert external_identity({"OIDC_ISSUER": "http://kc/realms/eventonight", "MONGO_URI": "m", "OIDC_AUDIENCE": "a",
                              "SECRET_KEYCLOAK_CLIENT_SECRET": ""}) == {"OIDC_ISSUER": "http://kc/realms/eventonight"}


def test_functions_trust_the_external_issuer_only(keycloak_and_platform):
    keycloak, platform = keycloak_and_platform
    name = f"ext{uuid.uuid4().hex[:10]}"
    with httpx.Client(base_url=platform.url, timeout=20) as http:
        registered = http.post("/register", headers={"Host": "users.localhost"},
                               json={"username": name, "email": f"{name}@example.org", "password": "passw0rd!",
                                     "role": "member"})
        assert registered.status_code == 201, registered.text
        body = registered.json()
        assert jwt.decode(body["accessToken"], options={"verify_signature": False})["iss"] == keycloak.issuer
        assert keycloak.idp.find_login(name) is not None and platform.idp.idp.find_login(name) is None

        def unread(token: str) -> int:
            return http.get("/unread-count", headers={"Host": "notifications.localhost",
                                                      "Authorization": f"Bearer {token}"}).status_code

        assert unread(body["accessToken"]) == 200
        assert unread(platform.idp.mint({"user_id": body["id"]})) == 401
