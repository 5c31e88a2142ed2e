"""The cost of the idempotency ledger on a state-changing invocation.

A bench-local function (``events-bench-ledger``, declared below, not under functions/) commits one document with
``ctx.commit``. It is called in-process through the real pipeline, ``runtime.invoke.invoke(spec, RawHttp, runtime)``,
five ways, interleaved call by call so drift in the store hits all of them alike:

- ``ledger``: a fresh Idempotency-Key per call: decode, claim the key (an insert), main + commit (whose receipt
  records the completion: no third command);
- ``no ledger``: the same function declared ``state_changing=False``: the pipeline and the commit, no claim;
- ``update_one``: the floor: a bare pymongo ``update_one`` upsert of one document, no pipeline;
- ``insert_one``: a bare insert of a ledger-sized record into a collection growing like the ledger: what the claim
  adds on a store where creating a record costs what it costs (the stand-in scans the collection on every insert);
- ``replay``: a key the ``ledger`` variant already completed: the stored reply comes back (from the commit's
  receipt), main does not run.

Prints the median and p99 in microseconds, the MongoDB commands per call (pymongo command monitoring) and ratios.
Everything lives in a fresh database (``bench_ledger_<run>``) that is dropped at the end. Settings:
``BENCH_LEDGER_CALLS`` (default 300 per variant), ``MONGO_URI``.
"""
from __future__ import annotations

import dataclasses
import sys
import time
import uuid

import benchlib
from benchlib import median, percentile, ratio, table
from pymongo import monitoring

from runtime.config import Config
from runtime.contract import Response, function, http
from runtime.invoke import REPLAY_HEADER, RawHttp, invoke
from runtime.process import Runtime
from runtime.store import mongo_client


class CommandCounter(monitoring.CommandListener):
    """Counts the commands every pymongo client of this process sends (registered before any client exists)."""

    count = 0

    def started(self, event):
        CommandCounter.count += 1

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


monitoring.register(CommandCounter())


@function("events-bench-ledger", http("POST", "/bench"), single_commit=True)
def bench_main(event, ctx):
    """Upsert one document keyed by the event id (the Idempotency-Key) in a collection named after the function."""
    doc_id = event.get_id()
    return ctx.commit(f"docs_{ctx.spec.name}", {"_id": doc_id}, {"$set": {"value": event.get_data()["value"]}},
                      reply=Response(201, {"id": doc_id}), upsert=True)


def request(key: str) -> RawHttp:
    return RawHttp("POST", "/bench", {"Idempotency-Key": key, "Content-Type": "application/json"}, "",
                   b'{"value": 1}')


def timed(call) -> tuple[float, int]:
    """(µs, MongoDB commands) of one call."""
    commands = CommandCounter.count
    start = time.perf_counter_ns()
    call()
    return (time.perf_counter_ns() - start) / 1000, CommandCounter.count - commands


def make_variants(runtime: Runtime, database: str):
    """The five callables, each taking the call's index; ``ledger`` keys are remembered for ``replay``."""
    with_ledger = bench_main
    without_ledger = dataclasses.replace(with_ledger, name="events-bench-noledger", state_changing=False)
    bare = mongo_client(runtime.config.mongo_uri)[database]["docs_update_one"]
    done: list[str] = []

    def ledger(i):
        key = f"bench-{uuid.uuid4().hex}"
        response = invoke(with_ledger, request(key), runtime)
        assert response.status == 201 and REPLAY_HEADER not in response.headers, response
        done.append(key)

    def no_ledger(i):
        response = invoke(without_ledger, request(f"bench-{uuid.uuid4().hex}"), runtime)
        assert response.status == 201, response

    def update_one(i):
        bare.update_one({"_id": f"bench-{uuid.uuid4().hex}"}, {"$set": {"value": 1}}, upsert=True)

    records = mongo_client(runtime.config.mongo_uri)[database]["records_insert_one"]

    def insert_one(i):
        records.insert_one({"_id": f"events-bench-ledger:bench-{uuid.uuid4().hex}", "status": "IN_PROGRESS",
                            "owner": uuid.uuid4().hex, "version": 1, "attempts": 1, "payload_hash": "0" * 64})

    def replay(i):
        response = invoke(with_ledger, request(done[i]), runtime)
        assert response.status == 201 and response.headers.get(REPLAY_HEADER) == "true", response

    return {"ledger": ledger, "no ledger": no_ledger, "update_one": update_one, "insert_one": insert_one,
            "replay": replay}


def measure(variants, calls: int, warmup: int) -> dict[str, list[tuple[float, int]]]:
    """Warm every variant (connections, indexes), then ``calls`` rounds of one call each, in turn."""
    for i in range(warmup):
        for call in variants.values():
            call(i)
    samples: dict[str, list[tuple[float, int]]] = {name: [] for name in variants}
    for i in range(warmup, warmup + calls):
        for name, call in variants.items():
            samples[name].append(timed(lambda: call(i)))
    return samples


def report(samples: dict[str, list[tuple[float, int]]]) -> None:
    medians = {name: median(us for us, _ in runs) for name, runs in samples.items()}
    rows = [[name, f"{medians[name]:.0f}", f"{percentile([us for us, _ in runs], 99):.0f}",
             f"{median(n for _, n in runs):.0f}", ratio(medians[name], medians["update_one"]),
             ratio(medians[name], medians["no ledger"])] for name, runs in samples.items()]
    print(table(["variant", "median µs", "p99 µs", "mongo cmds/call", "vs update_one", "vs no ledger"], rows))
    print(f"\nledger overhead per fresh invocation: {medians['ledger'] - medians['no ledger']:.0f} µs "
          f"(median ledger - median no ledger; a bare insert of its record: {medians['insert_one']:.0f} µs); "
          f"replay answers in {ratio(medians['replay'], medians['ledger'])} of a fresh invocation's time")


def main() -> int:
    calls = benchlib.env_int("BENCH_LEDGER_CALLS", 300)
    prefix = f"bench_ledger_{benchlib.run_id()}_"
    runtime = Runtime(Config({"MONGO_URI": benchlib.mongo_uri(), "AMQP_URL": "memory://bench",
                              "LOG_LEVEL": "WARNING", "DATABASE_PREFIX": prefix}))
    database = runtime.config.database(bench_main.group)
    started = time.monotonic()
    try:
        samples = measure(make_variants(runtime, database), calls, warmup=20)
        print(f"idempotency ledger: {calls} calls per variant, interleaved, in-process invoke() against "
              f"{runtime.config.mongo_uri.split('?')[0]} (database {database})\n")
        report(samples)
        print(f"took {time.monotonic() - started:.0f} s")
    finally:
        benchlib.drop_quietly(runtime.config.mongo_uri, database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
