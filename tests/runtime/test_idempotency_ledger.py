"""The idempotency ledger against the store under test: claims, replays, conflicts, fencing, expiry."""
from datetime import timedelta

import pytest

import moments
from runtime.errors import InProgress, LeaseLost, PayloadMismatch
from runtime.idempotency import COMPLETED, FAILED, IN_PROGRESS, Lease, Ledger, Replay, payload_hash

T0 = moments.now()  # the store's TTL monitor runs on the wall clock: records must be fresh by it
LEASE = 15


@pytest.fixture
def ledger(mongo_db):
    ledger = Ledger(mongo_db)
    ledger.ensure_indexes()
    return ledger


def test_first_claim_takes_a_lease_and_completion_is_replayed(ledger):
    lease = ledger.claim("users-register", "k1", "h1", T0, LEASE)
    assert isinstance(lease, Lease) and lease.version == 1 and lease.attempts == 1
    ledger.complete(lease, {"status": 201, "body": {"id": "u1"}, "headers": {}}, T0)

    again = ledger.claim("users-register", "k1", "h1", T0 + timedelta(seconds=1), LEASE)

    assert again == Replay({"status": 201, "body": {"id": "u1"}, "headers": {}})


def test_a_running_claim_answers_in_progress_asking_to_retry_soon(ledger):
    ledger.claim("f", "k", "h", T0, LEASE)

    with pytest.raises(InProgress) as raised:
        ledger.claim("f", "k", "h", T0 + timedelta(seconds=5), LEASE)

    assert raised.value.status == 409 and raised.value.retry_after_seconds == 1  # not the 10 s left on the lease


def test_the_same_key_with_another_payload_is_refused(ledger):
    lease = ledger.claim("f", "k", "h1", T0, LEASE)
    ledger.complete(lease, {"status": 200}, T0)

    with pytest.raises(PayloadMismatch) as raised:
        ledger.claim("f", "k", "h2", T0, LEASE)
    assert raised.value.status == 422


def test_keys_are_scoped_per_function(ledger):
    assert isinstance(ledger.claim("f1", "k", "h", T0, LEASE), Lease)
    assert isinstance(ledger.claim("f2", "k", "h", T0, LEASE), Lease)


def test_a_stale_lease_cannot_overwrite_the_newer_completed_record(ledger, mongo_db):
    stale = ledger.claim("f", "k", "h", T0, LEASE)
    # The first worker hangs past its lease; a retry takes over and completes.
    fresh = ledger.claim("f", "k", "h", T0 + timedelta(seconds=LEASE + 1), LEASE)
    assert fresh.version == stale.version + 1 and fresh.attempts == 2
    ledger.complete(fresh, {"status": 200, "body": "new"}, T0 + timedelta(seconds=LEASE + 2))

    with pytest.raises(LeaseLost):
        ledger.complete(stale, {"status": 200, "body": "old"}, T0 + timedelta(seconds=LEASE + 3))
    assert ledger.fail(stale, {"status": 500}, T0 + timedelta(seconds=LEASE + 3)) is False

    record = mongo_db["idempotency"].find_one({"_id": "f:k"})
    assert record["status"] == COMPLETED and record["reply"]["body"] == "new" and record["version"] == 2


def test_a_failure_keeps_its_record_and_the_key_can_be_retried(ledger, mongo_db):
    lease = ledger.claim("f", "k", "h", T0, LEASE)
    assert ledger.fail(lease, {"status": 503, "error": "unavailable"}, T0)
    record = mongo_db["idempotency"].find_one({"_id": "f:k"})
    assert record["status"] == FAILED and record["error"]["error"] == "unavailable"

    retry = ledger.claim("f", "k", "h", T0 + timedelta(seconds=1), LEASE)

    assert retry.attempts == 2 and mongo_db["idempotency"].find_one({"_id": "f:k"})["status"] == IN_PROGRESS


def test_an_expired_record_is_forgotten_at_read_time_even_before_the_ttl_monitor(ledger):
    lease = ledger.claim("f", "k", "h1", T0, LEASE)
    ledger.complete(lease, {"status": 200}, T0)

    later = ledger.claim("f", "k", "h2", T0 + timedelta(days=2), LEASE)

    assert isinstance(later, Lease)


def test_the_ttl_index_is_declared(ledger, mongo_db):
    indexes = mongo_db["idempotency"].index_information()
    assert indexes["expires_at_ttl"]["expireAfterSeconds"] == 0


def test_concurrent_claims_grant_exactly_one_lease(ledger):
    from concurrent.futures import ThreadPoolExecutor

    def claim(_):
        try:
            return ledger.claim("f", "hot", "h", T0, LEASE)
        except InProgress:
            return "busy"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(claim, range(8)))

    assert sum(isinstance(r, Lease) for r in results) == 1 and results.count("busy") == 7


def test_payload_hash_is_canonical():
    assert payload_hash({"a": 1, "b": [1, 2]}) == payload_hash({"b": [1, 2], "a": 1})
    assert payload_hash({"a": 1}) != payload_hash({"a": 2})
    assert payload_hash({"raw": b"x"}) == payload_hash({"raw": b"x"})
