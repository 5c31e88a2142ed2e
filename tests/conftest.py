"""Project-wide fixtures. MongoDB ones use ``MONGO_URI`` (scripts/test starts the stand-in and exports it; point
it at a real MongoDB to run the same tests there, see docs/store.md)."""
from __future__ import annotations

import os
import re
import uuid

import pytest

CLOCK_SENSITIVE_FOLDERS = ("runtime", "store", "auth", "unit", "idp")  # every test there is time-sensitive


def pytest_addoption(parser):
    parser.addoption("--clock-ahead-days", type=int, default=0,
                     help="run with this process's wall clock moved ahead by so many days (scripts/test: 365)")


def pytest_configure(config):
    """``--clock-ahead-days N``: every wall-clock read in this process (``time.time``, ``datetime.now``, in every
    thread: the functions, the identity provider, the Stripe stand-in, the tests) is N days ahead, ticking on.
    Monotonic time is untouched. A test that pins a calendar date fails here, not on the day that date goes by."""
    days = config.getoption("--clock-ahead-days")
    if days:
        from datetime import datetime, timedelta, timezone

        import time_machine

        time_machine.travel(datetime.now(timezone.utc) + timedelta(days=days), tick=True).start()


def pytest_collection_modifyitems(config, items):
    """Whole folders are ``clock`` tests; an integration module opts in with ``pytestmark = pytest.mark.clock``."""
    for item in items:
        if item.path.parent.name in CLOCK_SENSITIVE_FOLDERS:
            item.add_marker(pytest.mark.clock)


@pytest.fixture(scope="session")
def mongo_uri() -> str:
    """The MongoDB under test; skips the test when ``MONGO_URI`` is unset (run through ``scripts/test``)."""
    uri = os.environ.get("MONGO_URI")
    if not uri and os.environ.get("CI"):
        pytest.fail("MONGO_URI is not set in CI: .ci/run must start the store stand-in")
    if not uri:
        pytest.skip("MONGO_URI is not set: run through scripts/test (starts the stand-in) or point it at a MongoDB")
    return uri


@pytest.fixture(scope="session")
def mongo_client(mongo_uri):
    """A tz-aware pymongo client (datetimes come back as aware UTC, as runtime.store's client does)."""
    from pymongo import MongoClient

    client = MongoClient(mongo_uri, tz_aware=True, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000)
    yield client
    client.close()


def unique_db_name(nodeid: str) -> str:
    """A database name unique to this test run (MongoDB allows at most 63 characters, no ``/\\. "$``)."""
    base = re.sub(r"[^A-Za-z0-9_]+", "_", nodeid.rsplit("::", 1)[-1])[:40].strip("_") or "test"
    return f"t_{base}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def mongo_db(request, mongo_client):
    """A fresh database of its own for this test, dropped afterwards."""
    name = unique_db_name(request.node.nodeid)
    db = mongo_client[name]
    yield db
    mongo_client.drop_database(name)


@pytest.fixture
def verifier(idp):
    """A fresh verifier per test against the ``idp`` fixture of the test's folder (no JWKS cache leaks)."""
    from runtime.auth import TokenVerifier

    return TokenVerifier(idp.issuer, idp.idp.audience)


@pytest.fixture
def closed_port():
    """A loopback port nothing listens on."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
