"""The stand-in's state in a data directory (``scripts/run``: ``.data/stripe/state.json``): Checkout Sessions and
their line items, payments (charges by payment intent), refunds, events, idempotency keys and the webhook
deliveries still owed, so a session created before a restart is there after it and a webhook not yet delivered is
delivered then, as Stripe's own retries outlive any one process. Test diagnostics (``deliveries``, ``requests``)
and failure switches are not state. Saved by :class:`~localrunner.datadir.Autosave`.
"""
from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

from ..datadir import Autosave

STATE_FILE = "state.json"
FORMAT_VERSION = 1


def standin_state(standin) -> dict[str, Any]:
    """A copy taken under the stand-in's lock: requests change these dicts while the copy is being encoded."""
    with standin._lock:
        return copy.deepcopy({
            "version": FORMAT_VERSION, "sessions": standin.sessions, "line_items": standin.line_items,
            "events": standin.events, "refunds": standin.refunds, "charges": standin.charges,
            "idempotency": standin._idempotency,
            "owed_deliveries": sorted([event_id, attempt] for _, event_id, attempt in standin._queue)})


def restore_standin(standin, state: dict[str, Any], origin: Path) -> None:
    if state.get("version") != FORMAT_VERSION:
        raise ValueError(f"{origin} is in format {state.get('version')}, not {FORMAT_VERSION}: move it away or start "
                         f"afresh (scripts/run --fresh)")
    with standin._wake:
        standin.sessions.update(state["sessions"])
        for session_id, session in standin.sessions.items():  # the hosted page answers where the stand-in is now
            session["url"] = f"{standin.url}/c/pay/{session_id}"
        standin.line_items.update(state["line_items"])
        standin.events.update(state["events"])
        standin.refunds.update(state["refunds"])
        standin.charges.update(state["charges"])
        standin._idempotency.update({key: tuple(seen) for key, seen in state["idempotency"].items()})
        now = time.monotonic()
        standin._queue.extend((now, event_id, attempt) for event_id, attempt in state["owed_deliveries"]
                              if event_id in standin.events)
        standin._wake.notify_all()


def persist(standin, directory: Path) -> Autosave:
    """Load ``directory``'s state into ``standin`` (when there is one) and keep saving it there."""
    path = directory / STATE_FILE
    return Autosave(path, lambda: standin_state(standin), holder="Stripe stand-in",
                    restore=lambda state: restore_standin(standin, state, path)).start()
