"""Store conformance suite (docs/store.md, shared docs mongo.md §2).

The MongoDB semantics the project's code relies on, checked with pymongo against ``MONGO_URI``: the CI stand-in
(mongoeco wire server, started by scripts/test) and, unchanged, a real MongoDB. A failure here is a finding about
the stand-in or about our assumptions, never something to work around in the functions.

Every test gets its own database (fixture ``mongo_db``), dropped afterwards. Collections stay small: the stand-in
scans a collection on insert.
"""
from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

import moments

if not os.environ.get("MONGO_URI"):
    pytest.skip("MONGO_URI is not set: run through scripts/test (starts the MongoDB stand-in) "
                "or point MONGO_URI at a MongoDB", allow_module_level=True)

from pymongo import ASCENDING, DESCENDING, GEOSPHERE, ReturnDocument  # noqa: E402
from pymongo.errors import DuplicateKeyError  # noqa: E402

THREADS = 8


@pytest.fixture(scope="module")
def is_standin(mongo_client) -> bool:
    """True when the server is the mongoeco stand-in: its hello reply carries gitVersion "mongoeco" (a real
    mongod's hello has no gitVersion; the stand-in does not implement buildInfo)."""
    return mongo_client.admin.command("hello").get("gitVersion") == "mongoeco"


def run_threads(fn, n: int = THREADS) -> list:
    """Run ``fn(i)`` in ``n`` threads released together by a barrier; returns the results in order."""
    barrier = threading.Barrier(n)

    def go(i):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(go, range(n)))


# --- unique keys -------------------------------------------------------------------------------------------------

def test_unique_single_field_index_rejects_duplicates(mongo_db):
    users = mongo_db.users
    users.create_index("email", unique=True)
    users.insert_one({"email": "a@x.io"})
    with pytest.raises(DuplicateKeyError):
        users.insert_one({"email": "a@x.io"})
    users.insert_one({"email": "b@x.io"})
    assert users.count_documents({}) == 2


def test_unique_compound_index_rejects_duplicate_pairs_only(mongo_db):
    likes = mongo_db.likes
    likes.create_index([("user", ASCENDING), ("event", DESCENDING)], unique=True)
    likes.insert_one({"user": "u1", "event": "e1"})
    likes.insert_one({"user": "u1", "event": "e2"})  # same user, other event: fine
    likes.insert_one({"user": "u2", "event": "e1"})  # same event, other user: fine
    with pytest.raises(DuplicateKeyError):
        likes.insert_one({"user": "u1", "event": "e1"})
    # An update that would create a duplicate pair is rejected too.
    with pytest.raises(DuplicateKeyError):
        likes.update_one({"user": "u2", "event": "e1"}, {"$set": {"user": "u1"}})
    assert likes.count_documents({}) == 3


def test_duplicate_id_insert_rejected(mongo_db):
    mongo_db.c.insert_one({"_id": "x", "v": 1})
    with pytest.raises(DuplicateKeyError):
        mongo_db.c.insert_one({"_id": "x", "v": 2})
    assert mongo_db.c.find_one({"_id": "x"})["v"] == 1


# --- upserts -----------------------------------------------------------------------------------------------------

def test_find_one_and_update_upsert_set_on_insert_set_inc(mongo_db):
    c = mongo_db.records
    now = moments.now()

    def claim(owner):
        return c.find_one_and_update(
            {"_id": "fn:key"},
            {"$set": {"owner": owner, "status": "IN_PROGRESS"}, "$inc": {"version": 1, "attempts": 1},
             "$setOnInsert": {"created_at": now}},
            upsert=True, return_document=ReturnDocument.AFTER)

    first = claim("a")
    assert first == {"_id": "fn:key", "owner": "a", "status": "IN_PROGRESS", "version": 1, "attempts": 1,
                     "created_at": now}
    second = claim("b")
    assert second["owner"] == "b" and second["version"] == 2 and second["attempts"] == 2
    assert second["created_at"] == now  # $setOnInsert not re-applied on update
    before = c.find_one_and_update({"_id": "fn:key"}, {"$set": {"owner": "c"}},
                                   return_document=ReturnDocument.BEFORE)
    assert before["owner"] == "b"
    assert c.find_one_and_update({"_id": "missing"}, {"$set": {"x": 1}}) is None  # no upsert: nothing created
    assert c.count_documents({}) == 1


def test_upsert_race_on_same_filter_creates_one_document(mongo_db):
    c = mongo_db.claims
    c.create_index("key", unique=True)

    def claim(i):
        try:
            doc = c.find_one_and_update({"key": "k1"}, {"$setOnInsert": {"first": i}, "$inc": {"n": 1}},
                                        upsert=True, return_document=ReturnDocument.AFTER)
            return "ok", doc
        except DuplicateKeyError:
            return "dup", None

    outcomes = run_threads(claim)
    oks = [doc for kind, doc in outcomes if kind == "ok"]
    assert len(oks) >= 1
    assert c.count_documents({}) == 1
    doc = c.find_one({"key": "k1"})
    assert doc["n"] == len(oks)  # every successful call applied exactly once
    assert doc["first"] in range(THREADS)


def test_claim_inserts_and_an_existing_record_is_taken_over_by_version(mongo_db):
    """runtime.idempotency.claim: insert_one of a new record (DuplicateKeyError when it exists, never a second
    record); a take-over is an update conditional on the version read."""
    c = mongo_db.records
    c.insert_one({"_id": "fn:k", "status": "IN_PROGRESS", "version": 1})
    with pytest.raises(DuplicateKeyError):
        c.insert_one({"_id": "fn:k", "status": "IN_PROGRESS", "version": 1})
    taken = c.update_one({"_id": "fn:k", "version": 1}, {"$set": {"owner": "b"}, "$inc": {"version": 1}})
    late = c.update_one({"_id": "fn:k", "version": 1}, {"$set": {"owner": "c"}, "$inc": {"version": 1}})
    assert taken.matched_count == 1 and late.matched_count == 0
    assert c.find_one({"_id": "fn:k"})["owner"] == "b" and c.count_documents({}) == 1


def test_guarded_upsert_with_and_filter(mongo_db):
    """runtime.store.commit: find_one_and_update({$and: [filter, {"_receipts.key": {$ne: key}}]}) with upsert,
    $push $each $slice, returning the document as it was (None when the upsert created it)."""
    c = mongo_db.docs

    def commit(key, value):
        guarded = {"$and": [{"_id": "d1"}, {"_receipts.key": {"$ne": key}}]}
        update = {"$set": {"value": value},
                  "$push": {"_receipts": {"$each": [{"key": key, "fn": "f"}], "$slice": -3}}}
        try:
            before = c.find_one_and_update(guarded, update, {"_receipts": 1}, upsert=True,
                                           return_document=ReturnDocument.BEFORE)
        except DuplicateKeyError:
            return "dup"
        return "upserted" if before is None else [r["key"] for r in before["_receipts"]]

    assert commit("k1", 1) == "upserted"
    assert c.find_one({"_id": "d1"})["_receipts"] == [{"key": "k1", "fn": "f"}]
    assert commit("k1", 99) == "dup"  # same key again: the guard fails, the upsert meets _id d1
    assert commit("k2", 2) == ["k1"]
    assert [commit(k, 3) for k in ("k3", "k4")] == [["k1", "k2"], ["k1", "k2", "k3"]]  # k4's push evicts k1
    doc = c.find_one({"_id": "d1"})
    assert [r["key"] for r in doc["_receipts"]] == ["k2", "k3", "k4"]  # $slice -3 keeps the last three
    assert doc["value"] == 3
    found = c.find_one({"_receipts": {"$elemMatch": {"key": "k3", "fn": "f"}}}, {"_receipts": 1})
    assert found["_id"] == "d1" and c.find_one({"_receipts": {"$elemMatch": {"key": "k3", "fn": "g"}}}) is None


# --- conditional updates under concurrency -----------------------------------------------------------------------

@pytest.mark.parametrize("take", [1, 3])
def test_conditional_inc_never_oversells(mongo_db, take):
    c = mongo_db.ticket_types
    c.insert_one({"_id": "tt1", "avail": 50, "sold": 0})
    tries_per_thread = 10

    def buy(_):
        won = 0
        for _ in range(tries_per_thread):
            r = c.update_one({"_id": "tt1", "avail": {"$gte": take}}, {"$inc": {"avail": -take, "sold": take}})
            won += r.modified_count
        return won

    wins = sum(run_threads(buy))
    doc = c.find_one({"_id": "tt1"})
    assert wins == 50 // take
    assert doc["avail"] == 50 - wins * take >= 0
    assert doc["sold"] == wins * take


def test_version_fenced_update(mongo_db):
    """runtime.idempotency.complete: an update fenced on version matches nothing once a newer claim took over."""
    c = mongo_db.records
    c.insert_one({"_id": "r", "version": 2, "status": "IN_PROGRESS", "owner": "o", "lease": 1})
    stale = c.update_one({"_id": "r", "version": 1, "status": "IN_PROGRESS"}, {"$set": {"status": "COMPLETED"}})
    assert stale.matched_count == 0
    fresh = c.update_one({"_id": "r", "version": 2, "status": "IN_PROGRESS"},
                         {"$set": {"status": "COMPLETED"}, "$unset": {"owner": "", "lease": "", "absent": ""}})
    assert fresh.matched_count == 1 and fresh.modified_count == 1
    assert c.find_one({"_id": "r"}) == {"_id": "r", "version": 2, "status": "COMPLETED"}


# --- array operators ---------------------------------------------------------------------------------------------

def test_push_each_slice(mongo_db):
    c = mongo_db.c
    c.insert_one({"_id": 1, "arr": [1, 2]})
    c.update_one({"_id": 1}, {"$push": {"arr": {"$each": [3, 4, 5], "$slice": -4}}})
    assert c.find_one({"_id": 1})["arr"] == [2, 3, 4, 5]
    c.update_one({"_id": 1}, {"$push": {"arr": {"$each": [6], "$slice": 2}}})
    assert c.find_one({"_id": 1})["arr"] == [2, 3]
    c.update_one({"_id": 2}, {"$push": {"arr": {"$each": [7, 8], "$slice": -1}}}, upsert=True)
    assert c.find_one({"_id": 2})["arr"] == [8]


def test_pull_by_subdocument_field_in(mongo_db):
    c = mongo_db.c
    c.insert_one({"_id": 1, "outbox": [{"id": "e1"}, {"id": "e2"}, {"id": "e3"}]})
    c.update_one({"_id": 1}, {"$pull": {"outbox": {"id": {"$in": ["e1", "e3", "nope"]}}}})
    assert c.find_one({"_id": 1})["outbox"] == [{"id": "e2"}]


def test_positional_update(mongo_db):
    c = mongo_db.c
    c.insert_one({"_id": 1, "arr": [{"id": "e0", "sent": False}, {"id": "e1", "sent": False}]})
    r = c.update_one({"_id": 1, "arr.id": "e1"}, {"$set": {"arr.$.sent": True}})
    assert r.modified_count == 1
    assert c.find_one({"_id": 1})["arr"] == [{"id": "e0", "sent": False}, {"id": "e1", "sent": True}]


def test_size_zero_filter(mongo_db):
    c = mongo_db.c
    c.insert_many([{"_id": 1, "arr": []}, {"_id": 2, "arr": [1]}, {"_id": 3}])
    assert [d["_id"] for d in c.find({"arr": {"$size": 0}})] == [1]
    r = c.update_one({"_id": 2, "arr": {"$size": 0}}, {"$set": {"pending": False}})
    assert r.matched_count == 0


def test_ne_on_array_of_subdocuments(mongo_db):
    c = mongo_db.c
    c.insert_many([{"_id": 1, "arr": [{"k": "a"}, {"k": "b"}]}, {"_id": 2, "arr": [{"k": "c"}]},
                   {"_id": 3, "arr": []}, {"_id": 4}])
    assert sorted(d["_id"] for d in c.find({"arr.k": {"$ne": "a"}})) == [2, 3, 4]
    assert sorted(d["_id"] for d in c.find({"arr.k": "b"})) == [1]


# --- queries -----------------------------------------------------------------------------------------------------

def test_sort_two_keys_skip_limit_is_stable(mongo_db):
    c = mongo_db.events
    docs = [{"_id": f"e{i:02d}", "day": i % 4, "score": (i * 7) % 5} for i in range(24)]
    c.insert_many(docs)
    order = [("day", ASCENDING), ("score", DESCENDING), ("_id", ASCENDING)]
    expected = [d["_id"] for d in sorted(docs, key=lambda d: (d["day"], -d["score"], d["_id"]))]
    full = [d["_id"] for d in c.find({}, {"_id": 1}).sort(order)]
    assert full == expected
    pages = []
    for page in range(5):
        pages += [d["_id"] for d in c.find({}).sort(order).skip(page * 5).limit(5)]
    assert pages == expected
    assert [d["_id"] for d in c.find({"day": 1}).sort(order).skip(2).limit(2)] == \
        [i for i in expected if int(i[1:]) % 4 == 1][2:4]
    assert c.count_documents({"day": {"$in": [0, 3]}}) == 12


def test_in_regex_exists(mongo_db):
    c = mongo_db.users
    c.insert_many([{"_id": 1, "name": "Alice", "tags": ["a", "b"]}, {"_id": 2, "name": "alina", "bio": None},
                   {"_id": 3, "name": "Bob", "bio": "hi"}])
    assert sorted(d["_id"] for d in c.find({"_id": {"$in": [1, 3, 9]}})) == [1, 3]
    assert sorted(d["_id"] for d in c.find({"tags": {"$in": ["b", "z"]}})) == [1]
    assert sorted(d["_id"] for d in c.find({"name": {"$regex": "^al", "$options": "i"}})) == [1, 2]
    assert sorted(d["_id"] for d in c.find({"name": {"$regex": "^AL"}})) == []
    assert sorted(d["_id"] for d in c.find({"bio": {"$exists": True}})) == [2, 3]  # null counts as present
    assert sorted(d["_id"] for d in c.find({"bio": {"$exists": False}})) == [1]
    assert c.find_one({"_id": 1}, {"name": 1, "_id": 0}) == {"name": "Alice"}


def test_datetimes_round_trip_tz_aware_and_compare(mongo_db):
    c = mongo_db.c
    base = moments.now().replace(microsecond=123000)  # BSON dates keep milliseconds
    c.insert_many([{"_id": i, "at": base + timedelta(hours=i)} for i in range(5)])
    got = c.find_one({"_id": 0})["at"]
    assert got == base and got.tzinfo is not None and got.utcoffset() == timedelta(0)
    cut = base + timedelta(hours=2)
    assert sorted(d["_id"] for d in c.find({"at": {"$lt": cut}})) == [0, 1]
    assert sorted(d["_id"] for d in c.find({"at": {"$gte": cut}})) == [2, 3, 4]
    # An aware datetime in another zone is the same instant.
    cet = timezone(timedelta(hours=1))
    assert c.count_documents({"at": {"$lte": cut.astimezone(cet)}}) == 3


def test_aggregation_match_group_sort_limit(mongo_db):
    c = mongo_db.tickets
    c.insert_many([{"event": f"e{i % 3}", "status": "SOLD" if i % 4 else "REFUNDED", "price": 10 + i}
                   for i in range(12)])
    pipeline = [
        {"$match": {"status": "SOLD"}},
        {"$group": {"_id": "$event", "count": {"$sum": 1}, "revenue": {"$sum": "$price"}}},
        {"$sort": {"count": -1, "_id": 1}},
        {"$limit": 2},
    ]
    rows = list(c.aggregate(pipeline))
    sold = [(f"e{i % 3}", 10 + i) for i in range(12) if i % 4]
    totals = {}
    for event, price in sold:
        n, s = totals.get(event, (0, 0))
        totals[event] = (n + 1, s + price)
    expected = sorted(({"_id": e, "count": n, "revenue": s} for e, (n, s) in totals.items()),
                      key=lambda r: (-r["count"], r["_id"]))[:2]
    assert rows == expected


def test_list_collections_projection_limit(mongo_db):
    mongo_db.a.insert_many([{"_id": i, "pending": i % 2 == 0, "big": "x" * 10} for i in range(6)])
    mongo_db.b.insert_one({"_id": 1})
    assert sorted(mongo_db.list_collection_names()) == ["a", "b"]
    got = list(mongo_db.a.find({"pending": True}, {"_id": 1}).limit(2))
    assert len(got) == 2 and all(set(d) == {"_id"} for d in got)


# --- indexes -----------------------------------------------------------------------------------------------------

def test_ttl_index_accepted(mongo_db):
    c = mongo_db.records
    name = c.create_index("expires_at", expireAfterSeconds=0, name="expires_at_ttl")
    assert name == "expires_at_ttl"
    assert c.create_index("expires_at", expireAfterSeconds=0, name="expires_at_ttl") == name  # idempotent
    info = c.index_information()
    assert info["expires_at_ttl"]["expireAfterSeconds"] == 0
    c.create_index("seen_at", expireAfterSeconds=3600)
    assert c.index_information()["seen_at_1"]["expireAfterSeconds"] == 3600
    c.insert_one({"_id": 1, "expires_at": datetime.now(timezone.utc) + timedelta(days=1)})
    assert c.count_documents({}) == 1  # expiry itself is not awaited here


def test_sparse_index_and_dotted_index(mongo_db):
    """runtime.store._prepare declares these on every commit collection."""
    c = mongo_db.docs
    c.create_index("_receipts.key", name="receipts_key")
    c.create_index("_outbox_pending", name="outbox_pending", sparse=True)
    c.insert_many([{"_id": 1, "_receipts": [{"key": "k"}], "_outbox_pending": True}, {"_id": 2}])
    assert c.find_one({"_receipts.key": "k"})["_id"] == 1
    assert {"receipts_key", "outbox_pending"} <= set(c.index_information())


def test_2dsphere_near(mongo_db, is_standin, request):
    if is_standin:
        request.applymarker(pytest.mark.xfail(
            strict=False, reason="mongoeco 4.11 wire stand-in: accepts the 2dsphere index and $near, but the "
                   "query neither sorts by distance nor applies $maxDistance (all documents, insertion order)"))
    c = mongo_db.venues
    c.create_index([("loc", GEOSPHERE)])
    c.insert_many([
        {"_id": "bologna", "loc": {"type": "Point", "coordinates": [11.3426, 44.4949]}},
        {"_id": "cesena", "loc": {"type": "Point", "coordinates": [12.2431, 44.1391]}},
        {"_id": "milano", "loc": {"type": "Point", "coordinates": [9.1900, 45.4642]}},
    ])
    near = {"loc": {"$near": {"$geometry": {"type": "Point", "coordinates": [12.24, 44.14]},
                              "$maxDistance": 100_000}}}
    assert [d["_id"] for d in c.find(near)] == ["cesena", "bologna"]


# --- throughput (recorded in docs/store.md) -------------------------------------------------------------------------

def test_throughput_is_usable(mongo_db, record_property):
    """Measures 200 inserts and 200 conditional updates; asserts only a floor so CI stays honest, not flaky."""
    c = mongo_db.perf
    t0 = time.perf_counter()
    for i in range(200):
        c.insert_one({"_id": i, "avail": 5})
    inserts = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(200):
        c.update_one({"_id": i, "avail": {"$gte": 1}}, {"$inc": {"avail": -1}})
    updates = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(200):
        c.find_one({"_id": i})
    reads = time.perf_counter() - t0
    record_property("insert_200_s", round(inserts, 3))
    record_property("cond_update_200_s", round(updates, 3))
    record_property("find_one_200_s", round(reads, 3))
    print(f"\nstore throughput: 200 inserts {inserts:.2f}s ({200 / inserts:.0f}/s), "
          f"200 conditional updates {updates:.2f}s ({200 / updates:.0f}/s), "
          f"200 find_one by _id {reads:.2f}s ({200 / reads:.0f}/s)")
    assert c.count_documents({"avail": 4}) == 200
    assert 200 / inserts > 5 and 200 / updates > 5
