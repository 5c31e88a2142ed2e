"""The idempotency ledger (design §5): one record per ``(function, key)`` in the group's database.

Lease timeline of one record (``version`` is the fencing token, bumped by every claim)::

    claim ──▶ IN_PROGRESS(owner, version=n, lease_expires_at, receipt_is_answer)
                 │   single_commit function commits under the key: the document's receipt {key, fn, reply} is
                 │   the answer (no further command; the record stays IN_PROGRESS until it expires)
                 ├──complete(n)──▶ COMPLETED(reply)      every other function, after main returned
                 ├──fail(n)──▶ FAILED(error) ──claim──▶ IN_PROGRESS(n+1)
                 └── lease lapses, no receipt ──claim──▶ IN_PROGRESS(n+1); complete(n) → LeaseLost

A function declared ``single_commit`` (its one write is one ``ctx.commit`` under its key, whose reply is its
answer) costs two store commands, the claim (an insert) and its commit. A duplicate that finds its record
IN_PROGRESS looks for the receipt in the collections the function commits to (``homes``): found, it replays that
reply; not found, the first attempt has not committed yet (409 ``in_progress``) or died before it (the lease lapsed:
take over). Any other function completes its record explicitly (three commands): a receipt cannot stand as the
answer of an invocation that writes after it, since a crash between the two writes would make a redelivery replay
the receipt and skip the rest (a deletion's cascade, say). Two rules keep the receipt trustworthy:

- a ``single_commit`` function that writes again through ``ctx`` after its commit fails loudly (a declaration bug,
  found by its tests), instead of leaving work a duplicate would skip;
- receipts are bounded per document; a commit that pushes an answering receipt out first completes that receipt's
  record here (``settle_evicted``), so the answer outlives the receipt.

Unlike AWS Powertools' utility: the key is mandatory, failures keep their record (with attempts and the error),
complete/fail are conditional on the lease version so a stale worker can never overwrite a newer outcome, an
in-progress duplicate answers 409 with ``Retry-After``, and a reused key with another payload answers 422.
Expiry is enforced twice: a TTL index on ``expires_at`` and the read-time conditions below.
"""
from __future__ import annotations

import hashlib
import json
import math
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .errors import InProgress, InternalError, LeaseLost, PayloadMismatch

COLLECTION = "idempotency"
HOMES = "homes:"  # _id prefix of the record listing where a function's receipts are (never a record id: no ':')
COMPLETED_TTL = timedelta(hours=24)  # as long as Stripe keeps its keys
MAX_KEY_LENGTH = 255
IN_PROGRESS_RETRY_SECONDS = 1  # what an in-progress duplicate is told to wait before asking again

IN_PROGRESS, COMPLETED, FAILED = "IN_PROGRESS", "COMPLETED", "FAILED"


@dataclass(frozen=True)
class Lease:
    """A granted claim: only the holder of this exact version may complete or fail the record.
    ``receipt_is_answer``: a first claim of a ``single_commit`` function, whose own commit's receipt stands as its
    answer (a take-over always completes explicitly: an earlier attempt's receipt may be there already)."""

    record_id: str
    owner: str
    version: int
    attempts: int
    receipt_is_answer: bool = False


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
        self.db = db
        self.records = db[COLLECTION]
        self._homes: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def ensure_indexes(self) -> None:
        self.records.create_index("expires_at", expireAfterSeconds=0, name="expires_at_ttl")

    # ---- claiming -------------------------------------------------------------------------------------------

    def claim(self, function: str, key: str, digest: str, now: datetime, lease_seconds: int, *,
              receipt_is_answer: bool = False) -> Lease | Replay:
        """Take the lease for ``(function, key)``, or say why not (Replay, InProgress, PayloadMismatch).
        ``receipt_is_answer``: the function is ``single_commit``, its commit's receipt will complete the record."""
        from pymongo.errors import DuplicateKeyError

        record_id = f"{function}:{key}"
        owner = uuid.uuid4().hex
        fresh = {"_id": record_id, "function": function, "key": key, "status": IN_PROGRESS, "owner": owner,
                 "version": 1, "attempts": 1, "payload_hash": digest, "receipt_is_answer": receipt_is_answer,
                 "lease_expires_at": now + timedelta(seconds=lease_seconds), "expires_at": now + COMPLETED_TTL,
                 "created_at": now, "updated_at": now}
        for _ in range(3):  # a record can vanish (TTL) or change between the failed insert and the read
            try:
                self.records.insert_one(fresh)  # the common case: a key never seen
                return Lease(record_id, owner, 1, 1, receipt_is_answer=receipt_is_answer)
            except DuplicateKeyError:
                existing = self.records.find_one({"_id": record_id})
            if existing is None:
                continue
            if existing["expires_at"] > now:  # a forgotten record is claimable whatever it held
                replay = self._verdict(existing, function, key, digest, now)
                if replay is not None:
                    return replay
            lease = self._take_over(existing, owner, digest, now, lease_seconds)
            if lease is not None:
                return lease
        raise InProgress("The idempotency record is changing; retry.", retry_after_seconds=1)

    def _verdict(self, existing: dict[str, Any], function: str, key: str, digest: str,
                 now: datetime) -> Replay | None:
        """What a live record says to a new attempt: the reply to replay, a refusal (raised), or ``None`` when it
        may be taken over (FAILED, or a lapsed lease without an answering receipt)."""
        if existing["payload_hash"] != digest:
            raise PayloadMismatch("This Idempotency-Key was already used with a different request; "
                                  "use a new key for a new request.")
        if existing["status"] == COMPLETED:
            return Replay(existing["reply"])
        if existing["status"] != IN_PROGRESS:
            return None
        if existing.get("receipt_is_answer"):
            reply = self.receipt_reply(function, key)
            if reply is not None:
                return Replay(reply)
        if existing["lease_expires_at"] > now:
            # Most invocations take milliseconds: ask again soon, not when the lease would run out.
            remaining = math.ceil((existing["lease_expires_at"] - now).total_seconds())
            raise InProgress("A request with this Idempotency-Key is still being processed.",
                             retry_after_seconds=max(1, min(IN_PROGRESS_RETRY_SECONDS, remaining)))
        return None

    def _take_over(self, existing: dict[str, Any], owner: str, digest: str, now: datetime,
                   lease_seconds: int) -> Lease | None:
        """A newer attempt for a failed, lapsed or forgotten record; ``None`` if someone else changed it first."""
        result = self.records.update_one(
            {"_id": existing["_id"], "version": existing["version"]},
            {"$set": {"status": IN_PROGRESS, "owner": owner, "payload_hash": digest, "receipt_is_answer": False,
                      "lease_expires_at": now + timedelta(seconds=lease_seconds),
                      "expires_at": now + COMPLETED_TTL, "updated_at": now},
             "$inc": {"version": 1, "attempts": 1}, "$unset": {"reply": "", "error": ""}})
        if result.matched_count == 0:
            return None
        return Lease(existing["_id"], owner, existing["version"] + 1, existing.get("attempts", 0) + 1,
                     receipt_is_answer=False)

    # ---- receipts as answers --------------------------------------------------------------------------------

    def note_home(self, function: str, collection: str) -> None:
        """Remember (once per process) that ``function`` leaves receipts in ``collection``; done before its first
        commit there, so a receipt is never where a duplicate would not look."""
        if (function, collection) in self._homes:
            return
        self.records.update_one({"_id": HOMES + function}, {"$addToSet": {"collections": collection}}, upsert=True)
        with self._lock:
            self._homes.add((function, collection))

    def receipt_reply(self, function: str, key: str) -> dict[str, Any] | None:
        """The reply ``function`` committed under ``key``, from the receipt in whichever document holds it."""
        homes = self.records.find_one({"_id": HOMES + function}) or {}
        mine = {"key": key, "fn": function}
        for collection in homes.get("collections", []):
            doc = self.db[collection].find_one({"_receipts": {"$elemMatch": mine}}, {"_receipts": 1})
            for receipt in (doc or {}).get("_receipts", []):
                if receipt.get("key") == key and receipt.get("fn") == function:
                    return receipt["reply"]
        return None

    def settle_evicted(self, receipts: Iterable[dict[str, Any]], now: datetime) -> None:
        """Receipts a commit is about to push out of a document: the records they answer are completed with their
        replies first (records that were completed, reopened or taken over are left alone)."""
        from pymongo import UpdateOne

        updates = [UpdateOne({"_id": f"{r['fn']}:{r['key']}", "status": IN_PROGRESS, "receipt_is_answer": True},
                             {"$set": {"status": COMPLETED, "reply": r["reply"], "updated_at": now},
                              "$unset": {"owner": "", "lease_expires_at": ""}})
                   for r in receipts if r.get("fn")]
        if updates:
            self.records.bulk_write(updates, ordered=False)

    def answer(self, function: str, key: str) -> dict[str, Any] | None:
        """The reply of a finished invocation, wherever it is recorded (the record or the receipt); ``None`` while
        it runs, after it failed, or if there was none. For operators' tools and tests."""
        record = self.records.find_one({"_id": f"{function}:{key}"})
        if record is None or record["status"] == FAILED:
            return None
        if record["status"] == COMPLETED:
            return record["reply"]
        return self.receipt_reply(function, key) if record.get("receipt_is_answer") else None

    # ---- outcomes -------------------------------------------------------------------------------------------

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



@dataclass
class Attempt:
    """One ledgered invocation as its commits see it: whether its own commit's receipt stands as its answer.

    ``answer`` is the reply record of the commit under the invocation's own key, once it applied."""

    ledger: Ledger
    lease: Lease
    function: str
    key: str
    answer: dict[str, Any] | None = None

    def before_write(self, now: datetime) -> None:
        if self.lease.receipt_is_answer and self.answer is not None:
            raise InternalError(f"{self.function} is declared single_commit but writes again after its commit: a "
                                "duplicate would take that commit's receipt for the whole answer")

    def committed(self, key: str, reply: dict[str, Any] | None) -> None:
        """After a commit: ``reply`` is its reply record if it applied now (``None``: matched nothing, or an earlier
        attempt had committed already)."""
        if reply is not None and key == self.key:
            self.answer = reply

    def answered_by_receipt(self, reply: dict[str, Any]) -> bool:
        """True when the invocation's answer is already recorded by its commit's receipt (no ``complete``)."""
        return self.lease.receipt_is_answer and self.answer == reply
