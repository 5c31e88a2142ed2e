"""The clock-ahead pass really moves the clock (a guard that silently did nothing would prove nothing)."""
from datetime import datetime, timedelta, timezone

import pytest


def test_the_wall_clock_is_as_far_ahead_as_asked(request, mongo_client):
    days = request.config.getoption("--clock-ahead-days")
    if not days:
        pytest.skip("runs in the clock-ahead pass (scripts/test, --clock-ahead-days)")
    server = mongo_client.admin.command("hello")["localTime"].replace(tzinfo=timezone.utc)  # the real clock

    ahead = datetime.now(timezone.utc) - server

    assert timedelta(days=days) - timedelta(minutes=5) < ahead < timedelta(days=days) + timedelta(minutes=5)
