"""The MongoDB stand-in's data directory (``mongo_standin.py --data-dir``, what ``scripts/run`` passes): real
processes, real signals. What was written is there again after a SIGTERM and a restart, with its types and its
indexes; after a SIGKILL, everything older than the last snapshot interval is; without a data directory, nothing
is kept (``scripts/test``'s stand-in starts empty)."""
from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from bson import Binary, Int64, ObjectId
from pymongo import ASCENDING, DESCENDING, MongoClient
from pymongo.errors import DuplicateKeyError

REPO_ROOT = Path(__file__).resolve().parents[2]
STORE_PYTHON = REPO_ROOT / ".venv-store" / "bin" / "python"
STANDIN = REPO_ROOT / "local-runner" / "mongo_standin.py"
SNAPSHOT_SECONDS = 0.3

pytestmark = pytest.mark.skipif(not STORE_PYTHON.exists(),
                                reason=".venv-store is missing: scripts/store-standin start creates it")


class StandIn:
    """One stand-in process on a port the kernel picks, its data in ``data_dir`` (None: in memory)."""

    def __init__(self, data_dir: Path | None, snapshot_seconds: float = SNAPSHOT_SECONDS):
        self.data_dir, self.snapshot_seconds = data_dir, snapshot_seconds

    def __enter__(self) -> StandIn:
        command = [str(STORE_PYTHON), str(STANDIN), "--port", "0"]
        if self.data_dir is not None:
            command += ["--data-dir", str(self.data_dir), "--snapshot-seconds", str(self.snapshot_seconds)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()  # "ready <uri>", once it listens (the snapshot loaded)
        if not line.startswith("ready "):
            self.process.kill()
            raise AssertionError(f"stand-in did not start: {line!r} {self.process.stderr.read()}")
        self.client = MongoClient(line.split()[1], tz_aware=True, serverSelectionTimeoutMS=5000)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.client.close()
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=20)
        finally:
            self.process.stdout.close()
            self.process.stderr.close()

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.stop(signal.SIGKILL)


def wait_for_new_snapshot(path: Path, previous: int | None, deadline_seconds: float = 15) -> None:
    """Until the snapshot file has been replaced since ``previous`` (its inode: every save renames a new file)."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_ino != previous:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} was not written within {deadline_seconds} s")


def inode(path: Path) -> int | None:
    return path.stat().st_ino if path.exists() else None


def test_a_restart_keeps_documents_types_and_indexes(tmp_path):
    now = datetime.now(timezone.utc).replace(microsecond=123000)  # BSON keeps milliseconds
    oid = ObjectId()
    document = {"_id": oid, "name": "Opening night", "startsAt": now + timedelta(days=3), "createdAt": now,
                "venue": {"city": "Cesena", "seats": [{"row": 1, "taken": False}], "geo": None},
                "poster": Binary(b"\x00\x01\xff", 0), "card": Binary(uuid.uuid4().bytes, 4), "views": Int64(2**40),
                "ratio": 0.25, "tags": ["party", "live"]}
    with StandIn(tmp_path, snapshot_seconds=3600) as first:  # no interval passes: only the SIGTERM saves
        events = first.client.shop.events
        events.create_index([("slug", ASCENDING), ("day", DESCENDING)], unique=True, name="slug_day")
        events.create_index("expiresAt", expireAfterSeconds=3600, name="expiry")
        events.insert_one({**document, "slug": "opening", "day": 1})
        first.client.shop.create_collection("empty_yet")
        first.client.other.notes.insert_many([{"n": n} for n in range(50)])
        seen_before = events.find_one({"_id": oid})
        assert first.stop(signal.SIGTERM) == 0

    with StandIn(tmp_path) as second:
        events = second.client.shop.events
        seen_after = events.find_one({"_id": oid})
        assert seen_after == seen_before
        assert seen_after["startsAt"] == document["startsAt"] and seen_after["card"] == document["card"]
        assert isinstance(seen_after["views"], Int64) and seen_after["venue"] == document["venue"]
        assert sorted(second.client.shop.list_collection_names()) == ["empty_yet", "events"]
        assert second.client.other.notes.count_documents({}) == 50
        indexes = {ix["name"]: ix for ix in events.list_indexes()}
        assert indexes["slug_day"]["unique"] is True and dict(indexes["slug_day"]["key"]) == {"slug": 1, "day": -1}
        assert indexes["expiry"]["expireAfterSeconds"] == 3600
        with pytest.raises(DuplicateKeyError):
            events.insert_one({"slug": "opening", "day": 1})
        events.insert_one({"slug": "opening", "day": 2})  # the compound key, not one field, is unique
        second.stop()


def test_a_crash_loses_at_most_the_last_interval(tmp_path):
    snapshot = tmp_path / "store.bson"
    with StandIn(tmp_path) as first:
        before = inode(snapshot)
        first.client.shop.orders.insert_one({"_id": "kept", "at": datetime.now(timezone.utc)})
        wait_for_new_snapshot(snapshot, before)  # the write is now older than a snapshot
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL

    with StandIn(tmp_path) as second:
        assert second.client.shop.orders.find_one({"_id": "kept"}) is not None
        second.stop()


def test_reads_alone_write_no_snapshot(tmp_path):
    snapshot = tmp_path / "store.bson"
    with StandIn(tmp_path) as standin:
        standin.client.shop.orders.insert_one({"_id": 1})
        wait_for_new_snapshot(snapshot, None)
        written = snapshot.stat().st_ino
        for _ in range(20):
            standin.client.shop.orders.find_one({"_id": 1})
        time.sleep(SNAPSHOT_SECONDS * 4)  # several intervals in which only reads happened: what must not be saved
        assert snapshot.stat().st_ino == written
        standin.stop()


def test_without_a_data_dir_every_start_is_empty():
    with StandIn(None) as first:
        first.client.shop.orders.insert_one({"_id": 1})
        first.stop()
    with StandIn(None) as second:
        assert "shop" not in second.client.list_database_names()
        second.stop()


def test_a_second_stand_in_on_the_same_data_dir_is_refused(tmp_path):
    with StandIn(tmp_path) as first:
        second = subprocess.run([str(STORE_PYTHON), str(STANDIN), "--port", "0", "--data-dir", str(tmp_path)],
                                capture_output=True, text=True, timeout=30)
        assert second.returncode == 4
        assert "in use by another store stand-in" in second.stderr
        first.stop()


def test_a_damaged_snapshot_stops_the_start_with_a_clear_message(tmp_path):
    (tmp_path / "store.bson").write_bytes(b"not bson at all")
    result = subprocess.run([str(STORE_PYTHON), str(STANDIN), "--port", "0", "--data-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 4
    assert "store.bson" in result.stderr and "--fresh" in result.stderr
    assert os.path.exists(tmp_path / "store.bson")  # left for the developer to look at, never overwritten
