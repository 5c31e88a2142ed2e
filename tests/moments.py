"""Moments relative to the wall clock, so a test means the same on any day it runs (no calendar literals).

Dates the events group stores are UTC wall time without a zone (``YYYY-MM-DDTHH:MM:SS``); ``stored`` writes one.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone


def now() -> datetime:
    """The wall clock in UTC, on a whole millisecond (what BSON dates keep)."""
    moment = datetime.now(timezone.utc)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def days_ahead(days: float, *, hour: int = 20, minute: int = 0) -> datetime:
    """``days`` from today at ``hour:minute`` UTC (negative: in the past)."""
    day = datetime.now(timezone.utc) + timedelta(days=days)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def stored(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


FUTURE = stored(days_ahead(400))  # an evening more than a year ahead: publishable whatever the test does meanwhile
PAST = stored(days_ahead(-400))  # an evening more than a year ago
