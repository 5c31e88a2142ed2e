"""Fixtures for the identity provider and the Keycloak adapter: everything goes over real loopback HTTP."""
from __future__ import annotations

import os
import socket
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "local-runner"))

from localrunner.idp import DEFAULT_CLIENTS, serve  # noqa: E402

from functions.users.keycloak import KeycloakClient  # noqa: E402
from runtime.auth import TokenVerifier  # noqa: E402
from runtime.config import Secret  # noqa: E402

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


@pytest.fixture
def verifier(idp):
    return TokenVerifier(idp.issuer, idp.idp.audience)


@pytest.fixture
def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
