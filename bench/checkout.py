"""A hot sale: checkout throughput and latency against the store's raw conditional-update rate, in one run.

``BENCH_CHECKOUT_THREADS`` buyers (default 16) race for a ticket type of ``BENCH_CHECKOUT_STOCK`` units (default
100), ``BENCH_CHECKOUT_CALLS`` checkouts in all (default 300, so most of the sale is sold out), each one ticket.
Each checkout is the real function (``ticketing-create-checkout-session``) called in-process through the pipeline
(``runtime.invoke.invoke``): token verification against a development identity provider, body validation, the
idempotency ledger, the PENDING order, the conditional hold, the Stripe Checkout Session on the stand-in (real
``stripe`` library over loopback HTTP), the order's commit. Then the baseline, in the same run and store: the same
number of threads doing bare ``update_one({_id, available >= 1}, {$inc: {available: -1}})`` on one hot document,
i.e. the one step that decides "sold or not" with nothing around it.

``BENCH_CHECKOUT_ROUNDS`` sales (default 3) alternate with as many baseline rounds (each on a fresh ticket type and a
fresh hot document, which of the two goes first alternating): prints the median calls/s and its range, median and
p99 latency for both, split into sold and sold-out checkouts, the per-round ratios, and checks that nothing was
oversold (sold = accepted checkouts <= stock). Everything lives in a fresh database that is dropped at the end.
Settings: the four above and ``MONGO_URI``.
"""
from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import benchlib
from benchlib import median, percentile, table

from localrunner import idp as idp_module
from localrunner.stripe_standin import DEV_SECRET_KEY, StripeStandIn
from runtime.broker import register_transport
from runtime.config import Config
from runtime.invoke import RawHttp, invoke
from runtime.process import Runtime

FUTURE = (datetime.now(timezone.utc) + timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%S")


class NullPublisher:
    """Events (only compensations emit here) are dropped: the bench measures the store, not the broker."""

    def publish(self, message):
        pass


def race(threads: int, calls: int, action) -> tuple[float, list[tuple[float, object]]]:
    """``calls`` actions over ``threads`` threads started together; answers (wall seconds, [(µs, result)])."""
    results: list[tuple[float, object]] = []
    lock = threading.Lock()
    counter = iter(range(calls))
    barrier = threading.Barrier(threads + 1)

    def work():
        barrier.wait()
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            start = time.perf_counter()
            result = action(i)
            elapsed = (time.perf_counter() - start) * 1e6
            with lock:
                results.append((elapsed, result))

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    started = time.perf_counter()
    for w in workers:
        w.join()
    return time.perf_counter() - started, results


def checkout_round(runtime, spec, db, provider, threads: int, calls: int, stock: int) -> dict:
    """One sale: a fresh event and ticket type of ``stock`` units, ``calls`` checkouts over ``threads`` threads."""
    from functions.ticketing import model

    event_id, type_id = str(uuid.uuid4()), f"ett_{uuid.uuid4()}"
    db[model.EVENTS].insert_one({"_id": event_id, "creatorId": "org", "status": "PUBLISHED", "date": FUTURE,
                                 "title": "Hot sale", "_seq": 1})
    db[model.TICKET_TYPES].insert_one({"_id": type_id, "eventId": event_id, "type": "STANDARD", "price": 20.0,
                                       "currency": "USD", "available": stock, "sold": 0, "holds": [],
                                       "_version": 1})
    buyers = [(user_id, provider.mint({"user_id": user_id}))
              for user_id in (str(uuid.uuid4()) for _ in range(threads * 2))]

    def buy(i):
        user_id, token = buyers[i % len(buyers)]
        body = json.dumps({"userId": user_id, "items": [{"ticketTypeId": type_id, "attendeeName": f"Fan {i}"}],
                           "successUrl": "http://localhost:5173/ok", "cancelUrl": "http://localhost:5173/no"})
        response = invoke(spec, RawHttp("POST", "/checkout-sessions", {
            "Authorization": f"Bearer {token}", "Content-Type": "application/json",
            "Idempotency-Key": f"bench-{uuid.uuid4().hex}"}, "", body.encode()), runtime)
        assert response.status in (201, 409), response
        return response.status

    buy(-1)  # warm: JWKS, connections, the Stripe client (one unit is sold here)
    wall, samples = race(threads, calls, buy)
    doc = db[model.TICKET_TYPES].find_one({"_id": type_id})
    sold = [us for us, status in samples if status == 201]
    assert doc["sold"] == len(sold) + 1 <= stock and doc["available"] == stock - doc["sold"], doc  # no oversell
    return {"rate": len(samples) / wall, "all": [us for us, _ in samples], "sold": sold,
            "refused": [us for us, status in samples if status == 409], "units": doc["sold"]}


def raw_round(db, threads: int, calls: int, stock: int) -> dict:
    """The baseline: bare conditional $inc on one hot document, same threads and calls."""
    hot = db["bench_hot"]
    hot_id = uuid.uuid4().hex
    hot.insert_one({"_id": hot_id, "available": stock})

    def take(i):
        return hot.update_one({"_id": hot_id, "available": {"$gte": 1}}, {"$inc": {"available": -1}}).modified_count

    take(-1)
    wall, samples = race(threads, calls, take)
    assert sum(r for _, r in samples) == stock - 1 and hot.find_one({"_id": hot_id})["available"] == 0  # exact
    return {"rate": len(samples) / wall, "all": [us for us, _ in samples]}


def main() -> int:
    threads = benchlib.env_int("BENCH_CHECKOUT_THREADS", 16)
    calls = benchlib.env_int("BENCH_CHECKOUT_CALLS", 300)
    stock = benchlib.env_int("BENCH_CHECKOUT_STOCK", 100)
    rounds = benchlib.env_int("BENCH_CHECKOUT_ROUNDS", 3)
    uri = benchlib.mongo_uri()
    prefix = f"bench_checkout_{benchlib.run_id()}_"
    database = f"{prefix}ticketing"
    register_transport("nullbus", lambda url, exchange: NullPublisher())
    provider = idp_module.serve()
    stripe = StripeStandIn().start()
    try:
        from functions.ticketing.create_checkout_session.handler import main as spec

        runtime = Runtime(Config({"MONGO_URI": uri, "AMQP_URL": "nullbus://bench", "LOG_LEVEL": "ERROR",
                                  "OIDC_ISSUER": provider.issuer, "STRIPE_API_BASE": stripe.url,
                                  "SECRET_STRIPE_SECRET_KEY": DEV_SECRET_KEY, "PUBLIC_HOST": "localhost:8080",
                                  "DATABASE_PREFIX": prefix}))
        db = runtime.store(spec).db
        runtime.ensure_indexes(spec, runtime.store(spec))
        sales, raws = [], []
        for r in range(rounds):  # interleaved, alternating which goes first, so drift hits both alike
            order = (lambda: sales.append(checkout_round(runtime, spec, db, provider, threads, calls, stock)),
                     lambda: raws.append(raw_round(db, threads, calls, stock)))
            for phase in (order if r % 2 == 0 else order[::-1]):
                phase()

        def row(name, values, rates=None):
            rate = f"{median(rates):.0f} ({min(rates):.0f}-{max(rates):.0f})" if rates else "-"
            return [name, len(values), rate, f"{median(values) / 1000:.1f}", f"{percentile(values, 99) / 1000:.1f}"]

        joined = {k: [v for s in sales for v in s[k]] for k in ("all", "sold", "refused")}
        rows = [row("checkout (all)", joined["all"], [s["rate"] for s in sales]),
                row("  sold (hold + Stripe session)", joined["sold"]),
                row("  sold out (409)", joined["refused"]),
                row("raw conditional $inc", [v for x in raws for v in x["all"]], [x["rate"] for x in raws])]
        ratios = [s["rate"] / x["rate"] for s, x in zip(sales, raws)]
        print(f"hot sale: {rounds} rounds of {calls} checkouts of 1 ticket for {stock} units over {threads} threads, "
              f"interleaved with the raw update, in-process invoke() against {uri.split('?')[0]} "
              f"(database {database}); Stripe stand-in over loopback\n")
        print(table(["what", "calls", "calls/s median (range)", "median ms", "p99 ms"], rows))
        print(f"\ncheckout rate is {median(ratios):.2f}x of the store's raw conditional-update rate (median of "
              f"{rounds} rounds; per round: {', '.join(f'{x:.2f}' for x in ratios)}); sold "
              f"{', '.join(str(s['units']) for s in sales)} of {stock} per round (never more: checked)")
    finally:
        stripe.stop()
        provider.stop()
        benchlib.drop_quietly(uri, database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
