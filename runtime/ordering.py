"""Per-aggregate ordering over an unordered, at-least-once broker (design §4).

Producers put the aggregate's version in the CloudEvents ``sequence`` extension; consumers keep the last applied
version in their copy (``_seq``) and apply an event only if it is newer. Duplicates and late arrivals then change
nothing, whatever order the broker (or parallel deliveries) hands them over in.
"""
from __future__ import annotations

from typing import Any

from .errors import BadRequest

APPLIED = "_seq"


def stamp(version: int) -> dict[str, str]:
    """The extensions a producer adds to an event about an aggregate at ``version``."""
    return {"sequence": str(version)}


def sequence_of(event, *, required: bool = True) -> int | None:
    """The event's version; a missing (when required) or non-integer one is a 400 (dead-lettered, not retried)."""
    raw = event.get_extension("sequence")
    if raw is None and not required:
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise BadRequest("this event needs an integer sequence extension", code="invalid_event") from None


def newer(doc_id: Any, sequence: int) -> dict[str, Any]:
    """A filter matching the copy ``doc_id`` only while it holds an older version than ``sequence`` (or none);
    used with an upsert, an older event then meets the existing document and changes nothing."""
    return {"_id": doc_id, "$or": [{APPLIED: {"$lt": sequence}}, {APPLIED: {"$exists": False}}]}
