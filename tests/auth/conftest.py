"""Fixtures for runtime.auth: a development identity provider served on a loopback port (real HTTP JWKS)."""
from __future__ import annotations

import pytest

from localrunner.idp import serve


@pytest.fixture(scope="session")
def idp():
    served = serve("127.0.0.1", 0)
    yield served
    served.stop()
