"""Small helpers the bench scripts share: import paths, statistics, settings from the environment, a table printer.

Every bench script prints its own baseline measured in the same run, so numbers from a noisy machine still compare.
"""
from __future__ import annotations

import math
import os
import statistics
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for path in (REPO_ROOT, os.path.join(REPO_ROOT, "local-runner")):
    if path not in sys.path:
        sys.path.insert(0, path)

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def mongo_uri() -> str:
    uri = os.environ.get("MONGO_URI")
    if not uri:
        sys.exit("MONGO_URI is not set: run through bench/run (starts the store stand-in) or export it")
    return uri


def amqp_url() -> str:
    return os.environ.get("AMQP_URL", DEFAULT_AMQP_URL)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def median(values) -> float:
    return statistics.median(values)


def percentile(values, p: float) -> float:
    """Nearest-rank percentile (p in 0..100): an observed value, no interpolation."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline else "n/a"


def table(headers: list[str], rows: list[list[object]]) -> str:
    """A plain aligned text table (first column left-aligned, the rest right-aligned)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out += [line(row) for row in cells[1:]]
    return "\n".join(out)


def run_id() -> str:
    """A short unique suffix for this run's database, queue and function names."""
    import uuid

    return uuid.uuid4().hex[:8]


def drop_quietly(uri: str, database: str) -> None:
    """Drop the bench's database; a store that went away must not hide the error that ended the bench."""
    from runtime.store import mongo_client

    try:
        mongo_client(uri).drop_database(database)
    except Exception as exc:  # noqa: BLE001
        print(f"could not drop database {database}: {exc.__class__.__name__}", file=sys.stderr)


def signed(keys, event):
    """``event`` signed as a producer of the platform signs it (``runtime.signing``): functions refuse others."""
    from runtime import envelope

    attributes = event.get_attributes()
    extensions = {k: v for k, v in attributes.items()
                  if k not in ("type", "source", "id", "time", "subject", "datacontenttype", "specversion")}
    extensions.update(keys.sign(attributes, event.get_data()))
    return envelope.new_event(event.get_type(), event.get_source(), event.get_data(), event_id=event.get_id(),
                              time=event.get_time(), subject=attributes.get("subject"), extensions=extensions)
