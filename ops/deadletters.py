"""Dead letters: what an event function refused for good (a final 4xx) or kept failing past its retries, parked in
``<exchange>.<function>.dlq`` with the function's last answer in its headers (``localrunner.bus``).

Listing consumes nothing (``RabbitBus.peek_dead_letters``); replaying moves them back to the function's queue with
their retry count reset (``RabbitBus.replay_dead_letters``), where the function's idempotency ledger drops a copy
it has handled already. Both take at most ``limit`` messages in all, function by function in name order.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from localrunner.bus import RabbitBus

from .status import event_functions
from .target import Target, TargetError

DATA_PREVIEW_CHARS = 80


@dataclass(frozen=True)
class DeadLetter:
    function: str
    message_id: str
    type: str
    answer: str  # why it was parked: the function's last HTTP status, or "delivery limit" (it crashed the consumer)
    source: str
    time: str
    data: str  # the CloudEvent's data, compact and cut to DATA_PREVIEW_CHARS


@dataclass(frozen=True)
class Replayed:
    function: str
    message_ids: list[str]


def _bus(target: Target) -> RabbitBus:
    if target.in_memory_bus:
        raise TargetError("no AMQP_URL: the local runner's in-memory bus keeps its dead letters inside the runner's "
                          "process; start it with AMQP_URL to list and replay them")
    return RabbitBus(target.amqp_url, target.exchange)


def _waiting(bus: RabbitBus, specs) -> list[tuple[object, int]]:
    """The functions whose DLQ holds something, with how much (one connection for all of them)."""
    dlqs = {spec.name: f"{bus.queue_name(spec)}.dlq" for spec in specs}
    depths = bus.depths(dlqs.values())
    return [(spec, depths[dlqs[spec.name]]) for spec in specs if depths[dlqs[spec.name]]]


def list_dead_letters(target: Target, specs, *, function: str | None = None, limit: int | None = None) \
        -> list[DeadLetter]:
    bus = _bus(target)
    found: list[DeadLetter] = []
    for spec, _ in _waiting(bus, event_functions(specs, function)):
        if limit is not None and len(found) >= limit:
            break
        rest = None if limit is None else limit - len(found)
        found += [describe(spec.name, message) for message in bus.peek_dead_letters(spec, rest)]
    return found


def replay(target: Target, specs, *, function: str | None = None, limit: int | None = None) -> list[Replayed]:
    bus = _bus(target)
    done: list[Replayed] = []
    count = 0
    for spec, _ in _waiting(bus, event_functions(specs, function)):
        if limit is not None and count >= limit:
            break
        ids = bus.replay_dead_letters(spec, None if limit is None else limit - count)
        count += len(ids)
        done.append(Replayed(spec.name, ids))
    return done


def describe(function: str, message) -> DeadLetter:
    headers = dict(message.headers or {})
    try:
        event = json.loads(message.body)
    except ValueError:
        event = {}
    if not isinstance(event, dict):
        event = {}
    status = headers.get("ce-knativeerrorcode") or headers.get("x-last-status")
    answer = str(status) if status is not None else ("delivery limit" if headers.get("x-death") else "?")
    data = json.dumps(event.get("data"), separators=(",", ":"), ensure_ascii=False)
    if len(data) > DATA_PREVIEW_CHARS:
        data = data[:DATA_PREVIEW_CHARS - 1] + "…"
    return DeadLetter(function=function, message_id=message.message_id or str(event.get("id", "")),
                      type=str(event.get("type") or headers.get("x-original-routing-key") or "?"), answer=answer,
                      source=str(event.get("source", "")), time=str(event.get("time", "")), data=data)
