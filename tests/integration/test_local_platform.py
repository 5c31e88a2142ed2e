"""The local runner's platform as a part of a process: what it sets up it takes down again."""
from __future__ import annotations

import os
import uuid

from localrunner.app import LocalPlatform, Settings, free_port


def test_a_stopped_platform_leaves_the_environment_as_it_found_it(mongo_uri, monkeypatch):
    # One platform's settings (the fault suite's "no Stripe retries", say) once outlived it and changed the next.
    monkeypatch.setenv("STRIPE_MAX_NETWORK_RETRIES", "2")
    monkeypatch.delenv("CHECKOUT_SESSION_GRACE_SECONDS", raising=False)
    before = dict(os.environ)
    settings = Settings(namespace=f"env{uuid.uuid4().hex[:8]}", mongo_uri=mongo_uri, port=free_port(),
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
