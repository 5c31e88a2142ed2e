"""The idempotency ledger (design §5): one record per ``(function, key)`` in the group's database.

Lease timeline of one record (``version`` is the fencing token, bumped by every claim)::

    claim ──▶ IN_PROGRESS(owner, version=n, lease_expires_at) ──complete(n)──▶ COMPLETED(reply) ──expires_at──▶ gone
                     │                                    └──fail(n)──▶ FAILED(error) ──claim──▶ IN_PROGRESS(n+1)
                     └── lease lapses (worker crashed or hung) ──claim──▶ IN_PROGRESS(n+1); complete(n) → LeaseLost

Unlike AWS Powertools' utility: the key is mandatory, failures keep their record (with attempts and the error),
complete/fail are conditional on the lease version so a stale worker can never overwrite a newer outcome, an
in-progress duplicate answers 409 with ``Retry-After``, and a reused key with another payload answers 422.
Expiry is enforced twice: a TTL index on ``expires_at`` and the read-time conditions below.
"""
from __future__ import annotations

import hashlib
import json
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .errors import InProgress, LeaseLost, PayloadMismatch

COLLECTION = "idempotency"
COMPLETED_TTL = timedelta(hours=24)  # as long as Stripe keeps its keys
MAX_KEY_LENGTH = 255
IN_PROGRESS_RETRY_SECONDS = 1  # what an in-progress duplicate is told to wait before asking again

IN_PROGRESS, COMPLETED, FAILED = "IN_PROGRESS", "COMPLETED", "FAILED"


@dataclass(frozen=True)
class Lease:
    """A granted claim: only the holder of this exact version may complete or fail the record."""

    record_id: str
    owner: str
    version: int
    attempts: int


@dataclass(frozen=True)
class Replay:
    """The key already completed: answer with the stored reply instead of running again."""

    reply: dict[str, Any]


def payload_hash(payload: Any) -> str:
    """SHA-256 over canonical JSON (sorted keys, no whitespace); bytes are hashed as their hex digest."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=_canonical_default)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return {"sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot hash {type(value).__name__}")


class Ledger:
    def __init__(self, db):
        self.records = db[COLLECTION]

    def ensure_indexes(self) -> None:
        self.records.create_index("expires_at", expireAfterSeconds=0, name="expires_at_ttl")

    def claim(self, function: str, key: str, digest: str, now: datetime, lease_seconds: int) -> Lease | Replay:
        """Take the lease for ``(function, key)``, or say why not (Replay, InProgress, PayloadMismatch)."""
        from pymongo import ReturnDocument
        from pymongo.errors import DuplicateKeyError

        record_id = f"{function}:{key}"
        owner = uuid.uuid4().hex
        # Claimable: never seen, forgotten (expired), failed with the same payload, or a lapsed lease.
        claimable = {"_id": record_id, "$or": [
            {"expires_at": {"$lte": now}},
            {"status": FAILED, "payload_hash": digest},
            {"status": IN_PROGRESS, "payload_hash": digest, "lease_expires_at": {"$lte": now}},
        ]}
        update = {
            "$set": {"function": function, "key": key, "status": IN_PROGRESS, "owner": owner,
                     "payload_hash": digest, "lease_expires_at": now + timedelta(seconds=lease_seconds),
                     "expires_at": now + COMPLETED_TTL, "updated_at": now},
            "$inc": {"version": 1, "attempts": 1},
            "$setOnInsert": {"created_at": now},
        }
        for _ in range(3):  # a record can vanish (TTL) between the failed claim and the read
            try:
                record = self.records.find_one_and_update(claimable, update, upsert=True,
                                                          return_document=ReturnDocument.AFTER)
                return Lease(record_id, owner, record["version"], record["attempts"])
            except DuplicateKeyError:
                existing = self.records.find_one({"_id": record_id})
            if existing is None:
                continue
            if existing["payload_hash"] != digest:
                raise PayloadMismatch("This Idempotency-Key was already used with a different request; "
                                      "use a new key for a new request.")
            if existing["status"] == COMPLETED:
                return Replay(existing["reply"])
            if existing["status"] == IN_PROGRESS:
                # Most invocations take milliseconds: ask again soon, not when the lease would run out.
                remaining = math.ceil((existing["lease_expires_at"] - now).total_seconds())
                raise InProgress("A request with this Idempotency-Key is still being processed.",
                                 retry_after_seconds=max(1, min(IN_PROGRESS_RETRY_SECONDS, remaining)))
        raise InProgress("The idempotency record is changing; retry.", retry_after_seconds=1)

    def complete(self, lease: Lease, reply: dict[str, Any], now: datetime) -> None:
        """Store the reply for replays; ``LeaseLost`` if a newer claim took over (the record is left alone)."""
        result = self.records.update_one(
            {"_id": lease.record_id, "version": lease.version, "status": IN_PROGRESS},
            {"$set": {"status": COMPLETED, "reply": reply, "expires_at": now + COMPLETED_TTL, "updated_at": now},
             "$unset": {"owner": "", "lease_expires_at": "", "error": ""}})
        if result.matched_count == 0:
            raise LeaseLost(f"lease {lease.version} on {lease.record_id} was superseded")

    def fail(self, lease: Lease, error: dict[str, Any], now: datetime) -> bool:
        """Record a failure (the key may be retried); False if a newer claim took over."""
        result = self.records.update_one(
            {"_id": lease.record_id, "version": lease.version, "status": IN_PROGRESS},
            {"$set": {"status": FAILED, "error": error, "updated_at": now},
             "$unset": {"owner": "", "lease_expires_at": ""}})
        return result.matched_count == 1
