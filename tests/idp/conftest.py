"""Fixtures for the identity provider and the Keycloak adapter: everything goes over real loopback HTTP."""
from __future__ import annotations

import pytest

from localrunner.idp import DEFAULT_CLIENTS, serve
from runtime.config import Secret

from functions.users.keycloak import KeycloakClient

USERS_SERVICE_SECRET = DEFAULT_CLIENTS["users-service"]["secret"]
CLIENTS = {**DEFAULT_CLIENTS, "reporting": {"secret": "reporting-secret", "manage_users": False}}


@pytest.fixture(scope="session")
def idp():
    served = serve("127.0.0.1", 0, clients=CLIENTS)
    yield served
    served.stop()


@pytest.fixture
def keycloak(idp):
    client = KeycloakClient(idp.url, "eventonight", "users-service", Secret(USERS_SERVICE_SECRET))
    yield client
    client.close()
