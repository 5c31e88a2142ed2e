"""The event catalogue: every CloudEvent type the platform carries, with a JSON Schema for its ``data``.

One file per type, ``events/schemas/<type>.json``; the type is the routing key on exchange ``eventonight``.
Producers and consumers are not written here: they come from the functions' declarations (``emits`` and event
triggers), and ``events/asyncapi.yaml`` is generated from both.
"""
from __future__ import annotations

import functools
import json
import os
from typing import Any

SCHEMAS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas")


class UnknownEventType(KeyError):
    """When a type is not in the catalogue."""


class InvalidEventData(ValueError):
    """When an event's data does not match its type's schema; ``problems`` lists every violation."""

    def __init__(self, event_type: str, problems: list[str]):
        super().__init__(f"{event_type}: " + "; ".join(problems))
        self.event_type = event_type
        self.problems = problems


@functools.cache
def catalogue() -> dict[str, dict[str, Any]]:
    """``{type: schema}`` for every type in the catalogue."""
    types = {}
    for name in sorted(os.listdir(SCHEMAS_DIR)):
        if name.endswith(".json"):
            with open(os.path.join(SCHEMAS_DIR, name), encoding="utf-8") as f:
                types[name[: -len(".json")]] = json.load(f)
    return types


@functools.cache
def _validator(event_type: str):
    from jsonschema import Draft202012Validator, FormatChecker  # lazy: producers, consumers and tests validate

    try:
        schema = catalogue()[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None
    formats = FormatChecker(["email"])
    formats.checks("date-time", raises=ValueError)(_date_time)  # jsonschema's own needs an extra package
    return Draft202012Validator(schema, format_checker=formats)


def _date_time(value: Any) -> bool:
    """RFC 3339 date-time: a date, a ``T``, a time and a zone (``Z`` or an offset)."""
    if not isinstance(value, str):
        return True  # the type keyword reports it
    from datetime import datetime

    parsed = datetime.fromisoformat(value)  # ValueError when it is not one
    return "T" in value and parsed.tzinfo is not None


def validate(event_type: str, data: Any) -> None:
    """Raise ``InvalidEventData`` listing every violation, or ``UnknownEventType``."""
    problems = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                for e in _validator(event_type).iter_errors(data)]
    if problems:
        raise InvalidEventData(event_type, problems)
