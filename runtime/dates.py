"""The two date forms on the wire, written once.

- *Stored dates* of events: the SPA's UTC wall time without a zone (``2026-07-15T20:00:00``), kept as that string,
  which sorts chronologically, so searches compare like the reference did.
- *Instants* in JSON views: ISO 8601 in UTC with a ``Z`` (``2026-07-15T20:00:00.123000Z``).
"""
from __future__ import annotations

from datetime import datetime, timezone

STORED_FORMAT = "%Y-%m-%dT%H:%M:%S"


def aware(moment: datetime) -> datetime:
    """``moment`` with its zone; a naive one (as some drivers hand back) is UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def to_store_precision(moment: datetime) -> datetime:
    """``moment`` cut to whole milliseconds, what a BSON date keeps: an instant a function computes (``ctx.now``,
    an event's ``time`` published straight from memory) then equals the one it reads back from the store."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def stored_date(moment: datetime) -> str:
    """An event's date as stored and compared: UTC wall time, whole seconds, no zone."""
    return aware(moment).astimezone(timezone.utc).strftime(STORED_FORMAT)


def iso(moment: datetime | None) -> str | None:
    """An instant as JSON views show it (``…Z``); ``None`` stays ``None``."""
    if moment is None:
        return None
    return aware(moment).astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
