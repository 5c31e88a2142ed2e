"""The local runner's platform as a part of a process: what it sets up it takes down again."""
from __future__ import annotations

import os
import uuid

from localrunner.app import LocalPlatform, Settings, free_port
from localrunner.bus import retry_schedule
from runtime import function, on_event


@function("events-test-long", on_event("event.updated"), timeout_seconds=30)
def long_running(event, ctx):
    return None


def test_retries_of_a_function_with_a_ledger_outlast_its_lease():
    # its lease is 35 s: a redelivery after a crashed attempt must reach the take-over, not the dead letters
    assert retry_schedule((1000, 2000, 4000, 8000, 16000), long_running) == (1000, 2000, 4000, 8000, 16000, 32000)
    assert retry_schedule((100, 300), long_running) == (100, 300, 600, 1200, 2400, 4800, 9600, 19200)
    assert sum(retry_schedule((100, 300), long_running)) > long_running.lease_seconds * 1000
    assert retry_schedule((100, 300), long_running, past_leases=False) == (100, 300)
    query = function("events-test-query", on_event("event.updated"), state_changing=False)(long_running.main)
    assert retry_schedule((100, 300), query) == (100, 300)  # no ledger, no lease to wait out


def test_a_stopped_platform_leaves_the_environment_as_it_found_it(mongo_uri, monkeypatch):
    # One platform's settings (the fault suite's "no Stripe retries", say) once outlived it and changed the next.
    monkeypatch.setenv("STRIPE_MAX_NETWORK_RETRIES", "2")
    monkeypatch.delenv("CHECKOUT_SESSION_GRACE_SECONDS", raising=False)
    before = dict(os.environ)
    settings = Settings(namespace=f"env{uuid.uuid4().hex[:8]}", mongo_uri=mongo_uri, port=0,
                        idp_port=free_port(), stripe=False, schedules=False, socket_replicas=0,
                        extra_env={"STRIPE_MAX_NETWORK_RETRIES": "0", "CHECKOUT_SESSION_GRACE_SECONDS": "0"})
    platform = LocalPlatform(settings).start()
    try:
        assert os.environ["STRIPE_MAX_NETWORK_RETRIES"] == "0"
        assert os.environ["CHECKOUT_SESSION_GRACE_SECONDS"] == "0"
        assert os.environ["DATABASE_PREFIX"] == f"{settings.namespace}_"
    finally:
        platform.stop(remove=True)

    assert dict(os.environ) == before
