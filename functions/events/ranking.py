"""Derived figures search ranks and filters by: ticket prices (from ``ticket-type.*``) and popularity.

**Prices.** Each event keeps its ticket types ``[{id, price}]`` (mirrored from the ticketing group) and, derived
from them in the same commit, ``priceList`` (sorted prices), ``minPrice`` and ``isFree``. An event without ticket
types is free: its price list is ``[0]``. The price filter ``min,max`` matches an event with any price in the
range, so ``0,0`` finds free events; ``sortBy=price`` orders by ``minPrice``.

**Popularity** is a time-decayed sum of what happened to an event: publication (recency), likes and confirmed
orders (participations), each worth ``WEIGHTS[kind] * 2 ** (-(now - t) / HALF_LIFE)``. Stored as
``Σ weight * 2 ** ((t - EPOCH) / HALF_LIFE)``, which is the decayed score times ``2 ** ((now - EPOCH) / HALF_LIFE)``,
a factor the same for every event: ordering by the stored value is ordering by the decayed score at any moment,
and each happening is one atomic ``$inc``. Doubles hold it until about ``EPOCH + 19 years`` (2 ** 1023);
before then, rebase (multiply every score by one constant, which keeps the order) and move ``EPOCH``.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
HALF_LIFE = timedelta(days=7)
WEIGHTS = {"published": 5.0, "like": 1.0, "participation": 3.0}


def decayed_weight(kind: str, when: datetime) -> float:
    return WEIGHTS[kind] * 2.0 ** ((when - EPOCH) / HALF_LIFE)


def publication_score(when: datetime) -> float:
    return decayed_weight("published", when)


def price_summary(ticket_types: list[dict[str, Any]]) -> dict[str, Any]:
    prices = sorted(float(t["price"]) for t in ticket_types) or [0.0]
    return {"priceList": prices, "minPrice": prices[0], "isFree": prices[0] == 0}
