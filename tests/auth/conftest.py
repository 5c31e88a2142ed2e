"""Fixtures for runtime.auth: a development identity provider served on a loopback port (real HTTP JWKS)."""
from __future__ import annotations

import os
import socket
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "local-runner"))

from localrunner.idp import serve  # noqa: E402

from runtime.auth import TokenVerifier  # noqa: E402


@pytest.fixture(scope="session")
def idp():
    served = serve("127.0.0.1", 0)
    yield served
    served.stop()


@pytest.fixture
def verifier(idp):
    """A fresh verifier per test, so JWKS caches and fetch counts never leak between tests."""
    return TokenVerifier(idp.issuer, idp.idp.audience)


@pytest.fixture
def closed_port():
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
