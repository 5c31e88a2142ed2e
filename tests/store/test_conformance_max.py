"""Store conformance (docs/store.md), continued beside ``test_conformance.py``, which is at the module size limit:
``$max`` on dotted paths, which the chat group's counters and read markers rely on. Runs unchanged against the CI
stand-in and a real MongoDB."""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

import moments

if not os.environ.get("MONGO_URI"):
    pytest.skip("MONGO_URI is not set: run through scripts/test (starts the MongoDB stand-in) "
                "or point MONGO_URI at a MongoDB", allow_module_level=True)

WRITERS = 8


def test_max_on_dotted_paths_only_moves_forward_under_concurrent_writers(mongo_db):
    """``sent.<id>`` / ``read.<id>`` move with ``$max``: created when absent, never moved back, the greatest of
    concurrent writes wins; dates compare as dates."""
    c, later = mongo_db.conversations, moments.days_ahead(1)
    c.insert_one({"_id": "c1", "updatedAt": later})
    barrier = threading.Barrier(WRITERS)

    def write(i):
        barrier.wait()
        c.update_one({"_id": "c1"}, {"$max": {"sent.u1": i + 1, "read.u2": WRITERS - 1 - i}})

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(write, range(WRITERS)))
    c.update_one({"_id": "c1"}, {"$max": {"sent.u1": 3, "updatedAt": later - timedelta(hours=1)}})

    doc = c.find_one({"_id": "c1"})
    assert doc["sent"] == {"u1": WRITERS} and doc["read"] == {"u2": WRITERS - 1}
    assert doc["updatedAt"] == later


def test_max_on_an_absent_document_field_in_an_upsert(mongo_db):
    """A conversation's first message: the upsert creates ``sent.<id>`` and ``updatedAt`` from ``$max``."""
    c, now = mongo_db.conversations, moments.now()

    c.update_one({"_id": "c2"}, {"$max": {"sent.u1": 1, "updatedAt": now}, "$setOnInsert": {"createdAt": now}},
                 upsert=True)

    assert c.find_one({"_id": "c2"}) == {"_id": "c2", "sent": {"u1": 1}, "updatedAt": now, "createdAt": now}
