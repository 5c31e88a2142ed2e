"""What waits where: per event-triggered function its queue and dead-letter queue on RabbitMQ, per group the
outbox lag in MongoDB (entries committed but not yet confirmed by the broker, and how long the oldest has waited).

Queues follow the local runner's and the OpenFaaS connector's naming, ``<exchange>.<function>`` and
``<exchange>.<function>.dlq`` (``localrunner.bus``); Knative's Triggers name their own, which show as not declared.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from localrunner.bus import RabbitBus
from runtime.contract import EventTrigger
from runtime.dates import aware
from runtime.outbox import OUTBOX, PENDING
from runtime.store import mongo_client

from .target import Target

IN_MEMORY_BUS_NOTE = ("no AMQP_URL: the local runner uses its in-memory bus, whose queues and dead letters live "
                      "inside the runner's process and cannot be seen from here; start it with AMQP_URL to "
                      "inspect them")


@dataclass(frozen=True)
class QueueDepth:
    function: str
    queue: str
    waiting: int | None  # ready in the function's queue; None: the queue is not declared
    dead_letters: int | None  # in <queue>.dlq; None: not declared


@dataclass(frozen=True)
class OutboxLag:
    group: str
    database: str
    unpublished: int  # outbox entries not yet confirmed by the broker
    documents: int  # documents holding them
    oldest_seconds: float | None  # how long the oldest has waited; None when there is none


@dataclass(frozen=True)
class Status:
    queues: list[QueueDepth] | None  # None: the in-memory bus (see note)
    outboxes: list[OutboxLag]
    note: str | None = None


def event_functions(specs, only: str | None = None) -> list:
    chosen = [spec for spec in specs if isinstance(spec.trigger, EventTrigger)]
    if only is not None:
        chosen = [spec for spec in chosen if spec.name == only]
        if not chosen:
            names = ", ".join(spec.name for spec in specs if isinstance(spec.trigger, EventTrigger))
            raise ValueError(f"{only} is not an event-triggered function; these are: {names}")
    return chosen


def queue_depths(target: Target, specs) -> list[QueueDepth]:
    bus = RabbitBus(target.amqp_url, target.exchange)
    names = [bus.queue_name(spec) for spec in specs]
    depths = bus.depths([q for name in names for q in (name, f"{name}.dlq")])
    return [QueueDepth(spec.name, name, depths[name], depths[f"{name}.dlq"]) for spec, name in zip(specs, names)]


def outbox_lag(db, now: datetime) -> tuple[int, int, float | None]:
    """``(entries, documents, oldest age in seconds)`` of the outboxes in ``db``, every collection swept as the
    relay sweeps them (``runtime.outbox.sweep``)."""
    entries = documents = 0
    oldest = None
    for name in sorted(db.list_collection_names()):
        for doc in db[name].find({PENDING: True}, {OUTBOX: 1}):
            pending = doc.get(OUTBOX) or []
            if not pending:
                continue
            documents += 1
            entries += len(pending)
            first = min(aware(entry.get("queued_at") or entry["time"]) for entry in pending)
            oldest = first if oldest is None else min(oldest, first)
    return entries, documents, (now - oldest).total_seconds() if oldest is not None else None


def outbox_lags(target: Target, groups, now: datetime) -> list[OutboxLag]:
    client = mongo_client(target.require_store())
    lags = []
    for group in groups:
        database = target.database(group)
        entries, documents, oldest = outbox_lag(client[database], now)
        lags.append(OutboxLag(group, database, entries, documents, oldest))
    return lags


def collect(target: Target, specs, now: datetime, only: str | None = None) -> Status:
    """The status of every event function (or ``only`` that one) and of every group's outbox."""
    consumers = event_functions(specs, only)
    groups = sorted({spec.group for spec in (consumers if only else specs)})
    outboxes = outbox_lags(target, groups, now)
    if target.in_memory_bus:
        return Status(None, outboxes, IN_MEMORY_BUS_NOTE)
    return Status(queue_depths(target, consumers), outboxes)
