"""A commit's receipt as the ledger's completion record: every path an invocation can take through ``invoke``.

A function declared ``single_commit`` (its one write is a commit under its own key) costs two store commands (the
claim and the commit); duplicates find the receipt and replay it. Everything else (no commit, an error, a function
that writes after its commit, a take-over) completes or fails the record explicitly.
"""
import json
import threading
from datetime import timedelta

import pytest
from pymongo import monitoring

import moments
from runtime.config import Config
from runtime.contract import Response, function, http
from runtime.errors import Conflict
from runtime.idempotency import COMPLETED, FAILED, IN_PROGRESS, Attempt, Ledger
from runtime.invoke import REPLAY_HEADER, RawHttp, invoke
from runtime.process import Runtime
from runtime.store import RECEIPTS_KEPT

RUNS: list[str] = []


class Commands(monitoring.CommandListener):
    """Commands sent to one database (the test's group database), by name."""

    database = None
    seen: list[str] = []

    def started(self, event):
        if event.database_name == Commands.database:
            Commands.seen.append(event.command_name)

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


monitoring.register(Commands())


class Clock:
    def __init__(self):
        self.now = moments.now()

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def runtime(mongo_uri, mongo_db, mongo_client, clock):
    RUNS.clear()
    rt = Runtime(Config({"MONGO_URI": mongo_uri, "AMQP_URL": "memory://none", "DATABASE_PREFIX": f"{mongo_db.name}_",
                         "LOG_LEVEL": "WARNING"}), clock=clock)
    Commands.database = f"{mongo_db.name}_events"
    yield rt
    Commands.database = None
    mongo_client.drop_database(f"{mongo_db.name}_events")


@function("events-test-create", http("POST", "/things"), single_commit=True)
def create(event, ctx):
    RUNS.append(ctx.key)
    return ctx.commit("things", {"_id": ctx.derived_id()}, {"$set": {"n": event.get_data()["n"]}}, upsert=True,
                      reply=Response(201, {"id": ctx.derived_id()}))


@function("events-test-bump", http("POST", "/bump"), single_commit=True)
def bump(event, ctx):
    """Every call commits on the one shared document (a hot document)."""
    RUNS.append(ctx.key)
    return ctx.commit("things", {"_id": "hot"}, {"$inc": {"n": 1}}, upsert=True, reply=Response(200, {"bumped": 1}))


@function("events-test-noop", http("POST", "/noop"))
def noop(event, ctx):
    RUNS.append(ctx.key)
    return Response(200, {"changed": False})


@function("events-test-refuse", http("POST", "/refuse"))
def refuse(event, ctx):
    RUNS.append(ctx.key)
    raise Conflict("not now")


AFTER_COMMIT = threading.Event()
GO_ON = threading.Event()


@function("events-test-two-steps", http("POST", "/two"))
def two_steps(event, ctx):
    """A commit followed by more work (as a mirror's deletion and its cascade): the receipt is not the answer."""
    RUNS.append(ctx.key)
    reply = ctx.commit("things", {"_id": f"a-{ctx.key}"}, {"$set": {"step": 1}}, upsert=True, reply=Response(201))
    AFTER_COMMIT.set()
    GO_ON.wait(10)
    ctx.purge("things", {"_id": f"gone-{ctx.key}"})
    return reply


@function("events-test-misdeclared", http("POST", "/misdeclared"), single_commit=True)
def misdeclared(event, ctx):
    """Declared single_commit, yet writes after its commit."""
    RUNS.append(ctx.key)
    reply = ctx.commit("things", {"_id": f"m-{ctx.key}"}, {"$set": {"step": 1}}, upsert=True, reply=Response(201))
    ctx.purge("things", {"_id": f"gone-{ctx.key}"})
    return reply


def call(runtime, spec, path, key, body=None):
    headers = {"Idempotency-Key": key, "Content-Type": "application/json"}
    return invoke(spec, RawHttp("POST", path, headers, "", json.dumps(body or {"n": 1}).encode()), runtime)


def record(runtime, spec, key):
    return runtime.store(spec).db["idempotency"].find_one({"_id": f"{spec.name}:{key}"})


def ledger(runtime, spec) -> Ledger:
    return runtime.ledger(runtime.store(spec))


def test_a_committing_invocation_costs_the_claim_and_the_commit_and_its_receipt_answers_duplicates(runtime):
    assert call(runtime, create, "/things", "warm").status == 201  # indexes, the receipts' home: once per process
    Commands.seen.clear()

    first = call(runtime, create, "/things", "k1")

    assert first.status == 201 and Commands.seen == ["insert", "findAndModify"]
    assert record(runtime, create, "k1")["status"] == IN_PROGRESS  # no third command: the receipt is the record
    again = call(runtime, create, "/things", "k1")
    assert again.status == 201 and again.body == first.body and again.headers[REPLAY_HEADER] == "true"
    assert RUNS == ["warm", "k1"]  # the duplicate did not run main
    assert ledger(runtime, create).answer(create.name, "k1") == first.to_record()


def test_an_answer_without_a_commit_is_completed_in_the_ledger(runtime):
    first = call(runtime, noop, "/noop", "k")

    assert record(runtime, noop, "k")["status"] == COMPLETED
    again = call(runtime, noop, "/noop", "k")
    assert again.body == first.body and again.headers[REPLAY_HEADER] == "true" and RUNS == ["k"]


def test_a_refusal_after_the_claim_is_recorded_as_failed_and_may_be_retried(runtime):
    assert call(runtime, refuse, "/refuse", "k").status == 409
    assert record(runtime, refuse, "k")["status"] == FAILED

    assert call(runtime, refuse, "/refuse", "k").status == 409
    assert RUNS == ["k", "k"] and record(runtime, refuse, "k")["attempts"] == 2


def test_work_after_the_commit_keeps_duplicates_waiting_until_the_record_is_completed(runtime):
    AFTER_COMMIT.clear()
    GO_ON.clear()
    answers = []
    worker = threading.Thread(target=lambda: answers.append(call(runtime, two_steps, "/two", "k")))
    worker.start()
    try:
        assert AFTER_COMMIT.wait(10)
        assert record(runtime, two_steps, "k")["receipt_is_answer"] is False  # not declared single_commit
        assert ledger(runtime, two_steps).answer(two_steps.name, "k") is None  # committed, but not finished
        duplicate = call(runtime, two_steps, "/two", "k")
        assert duplicate.status == 409 and duplicate.body["error"] == "in_progress"
    finally:
        GO_ON.set()
        worker.join(10)
    assert answers[0].status == 201 and record(runtime, two_steps, "k")["status"] == COMPLETED
    assert RUNS == ["k"]


def test_a_crash_between_the_commit_and_the_work_after_it_is_finished_by_a_take_over(runtime, clock):
    """A receipt standing as the answer here would make the redelivery replay it and skip the rest for good."""
    things = runtime.store(two_steps).db["things"]
    things.insert_one({"_id": "gone-k"})
    lease = claim(runtime, two_steps, "k", clock())
    commit_under(runtime, two_steps, "k", lease, clock, doc_id="a-k")  # then the process dies

    assert call(runtime, two_steps, "/two", "k").body["error"] == "in_progress"  # the lease still runs
    clock.now += timedelta(seconds=two_steps.timeout_seconds + 6)
    GO_ON.set()
    again = call(runtime, two_steps, "/two", "k")

    assert again.status == 201 and RUNS == ["k"]  # re-run: its commit found the first receipt, the rest done
    assert things.find_one({"_id": "gone-k"}) is None and things.find_one({"_id": "a-k"})["n"] == 1
    assert record(runtime, two_steps, "k")["status"] == COMPLETED and record(runtime, two_steps, "k")["attempts"] == 2


def test_a_single_commit_function_that_writes_again_fails_loudly(runtime):
    runtime.store(misdeclared).db["things"].insert_one({"_id": "gone-k"})

    assert call(runtime, misdeclared, "/misdeclared", "k").status == 500
    assert record(runtime, misdeclared, "k")["status"] == FAILED  # a duplicate runs it again, never skips the rest
    assert runtime.store(misdeclared).db["things"].find_one({"_id": "gone-k"}) is not None


def digest(spec, key):
    """The payload hash ``invoke`` computes for ``call(runtime, spec, <its path>, key)``."""
    from runtime.idempotency import payload_hash
    from runtime.invoke import _payload, decode

    event, request = decode(spec, RawHttp("POST", spec.trigger.path, {"Idempotency-Key": key,
                                                               "Content-Type": "application/json"}, "", b'{"n": 1}'))
    return payload_hash(_payload(spec, event, request, None))


def claim(runtime, spec, key, when):
    led = ledger(runtime, spec)
    led.ensure_indexes()
    return led.claim(spec.name, key, digest(spec, key), when, spec.timeout_seconds + 5,
                     receipt_is_answer=spec.single_commit)


def commit_under(runtime, spec, key, lease, clock, doc_id=None):
    """``create``'s commit as the attempt holding ``lease`` makes it (a worker the test stops wherever it likes)."""
    from runtime.context import Context
    from runtime.logs import invocation_log

    ctx = Context(spec=spec, config=runtime.config, now=clock(), log=invocation_log(spec.name, "t"), key=key,
                  store=runtime.store(spec), runtime=runtime, attempt=Attempt(ledger(runtime, spec), lease, spec.name, key))
    reply = ctx.commit("things", {"_id": doc_id or ctx.derived_id()}, {"$set": {"n": 1}}, upsert=True,
                       reply=Response(201, {"id": ctx.derived_id()}))
    return reply, ctx.attempt


def test_a_crash_right_after_the_commit_leaves_an_answer_that_duplicates_replay(runtime, clock):
    first, _ = commit_under(runtime, create, "k", claim(runtime, create, "k", clock()), clock)  # then the process dies

    again = call(runtime, create, "/things", "k")

    assert again.status == 201 and again.body == first.body and again.headers[REPLAY_HEADER] == "true"
    assert RUNS == []
    clock.now += timedelta(minutes=5)  # long after the lease: still the receipt's answer, never a re-run
    assert call(runtime, create, "/things", "k").headers[REPLAY_HEADER] == "true" and RUNS == []


def test_a_crash_before_the_commit_is_taken_over_once_the_lease_lapses(runtime, clock):
    claim(runtime, create, "k", clock())  # then the process dies

    assert call(runtime, create, "/things", "k").status == 409
    clock.now += timedelta(seconds=create.timeout_seconds + 6)
    assert call(runtime, create, "/things", "k").status == 201 and RUNS == ["k"]
    assert record(runtime, create, "k")["status"] == COMPLETED  # a take-over always completes explicitly


def test_a_receipt_pushed_out_of_a_hot_document_leaves_its_answer_in_the_ledger(runtime):
    first = call(runtime, bump, "/bump", "first")
    for i in range(RECEIPTS_KEPT):
        call(runtime, bump, "/bump", f"later-{i}")

    hot = runtime.store(bump).db["things"].find_one({"_id": "hot"})
    assert "first" not in [r["key"] for r in hot["_receipts"]] and hot["n"] == RECEIPTS_KEPT + 1
    assert record(runtime, bump, "first")["status"] == COMPLETED
    again = call(runtime, bump, "/bump", "first")
    assert again.headers[REPLAY_HEADER] == "true" and again.body == first.body
    assert runtime.store(bump).db["things"].find_one({"_id": "hot"})["n"] == RECEIPTS_KEPT + 1  # not applied twice


def test_a_stale_attempt_committing_after_a_take_over_fences_the_newer_one(runtime, clock):
    """The first commit under the key wins whoever holds the lease; the newer attempt reports that reply."""
    stale = claim(runtime, create, "k", clock())
    clock.now += timedelta(seconds=create.timeout_seconds + 6)  # the stale worker hangs past its lease
    newer = claim(runtime, create, "k", clock())
    assert newer.version == stale.version + 1 and not newer.receipt_is_answer

    stale_reply, stale_attempt = commit_under(runtime, create, "k", stale, clock)  # lands first
    newer_reply, newer_attempt = commit_under(runtime, create, "k", newer, clock)

    assert newer_reply == stale_reply and newer_attempt.answer is None  # matched nothing: the first reply
    assert not newer_attempt.answered_by_receipt(newer_reply.to_record())  # so the newer attempt completes
    ledger(runtime, create).complete(newer, newer_reply.to_record(), clock())
    assert runtime.store(create).db["things"].count_documents({}) == 1
    assert call(runtime, create, "/things", "k").body == stale_reply.body and RUNS == []
