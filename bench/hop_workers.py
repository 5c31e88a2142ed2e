"""Worker processes for ``bench/hop_latency.py``: the hop's function served by N processes that consume its one
queue, as replicas of a scaled-out function do (each: ``localrunner.bus.RabbitBus`` with its consumer threads, the
Knative delivery, its own runtime; all share the store and the broker). Independent of the local runner's own
multi-worker mode; ``python bench/hop_workers.py <run>`` is one worker (stops when its stdin closes).

``BENCH_HOP_PROCESSES`` (e.g. ``1,2``) makes ``hop_latency`` measure, for each count: the paced latency at
``BENCH_HOP_RATE``, and the throughput of a burst of ``BENCH_HOP_BURST`` events (default 600) published at once:
events/s from the first send to the last ``event.completed`` at the tap.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import benchlib


def serve(run: str) -> None:
    import hop_latency

    from localrunner.bus import RabbitBus
    from localrunner.platforms import platform

    hop_latency.configure_environment()
    hop_latency.use_namespace(run)
    spec = hop_latency.declare_function(run)
    knative = platform("knative")
    bus = RabbitBus(benchlib.amqp_url(), hop_latency.exchange_of(run))
    bus.start([spec], lambda spec, message: knative.deliver(spec, message)[0])
    print("ready", flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    bus.stop()


class Workers:
    """``count`` worker processes for ``run``, started together and ready when entered."""

    def __init__(self, run: str, count: int):
        self.run, self.count, self.processes = run, count, []

    def __enter__(self):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([benchlib.REPO_ROOT,
                                                             os.path.join(benchlib.REPO_ROOT, "local-runner")])}
        for _ in range(self.count):
            self.processes.append(subprocess.Popen(  # noqa: S603 - our own interpreter and script
                [sys.executable, os.path.abspath(__file__), self.run], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                env=env, cwd=os.path.dirname(os.path.abspath(__file__))))
        for process in self.processes:
            line = process.stdout.readline().decode().strip()
            if line != "ready":
                raise RuntimeError(f"a hop worker did not start (said {line!r})")
        return self

    def __exit__(self, *exc):
        for process in self.processes:
            process.stdin.close()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def burst_rate(run: str, prefix: str, count: int, tap, deadline_seconds: float = 120) -> tuple[float, int]:
    """Publish ``count`` events back to back (confirmed); events/s from the first send to the last completion at
    the tap, and how many never arrived."""
    import hop_latency

    from runtime.broker import Publisher

    publisher = Publisher(benchlib.amqp_url(), hop_latency.exchange_of(run))
    ids = [f"{prefix}-{i}" for i in range(count)]
    first = time.perf_counter()
    try:
        for event_id in ids:
            publisher.publish(hop_latency.updated_event(event_id))
    finally:
        publisher.close_quietly()
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline and not all(e in tap.received for e in ids):
        time.sleep(0.05)
    got = [tap.received[e] for e in ids if e in tap.received]
    return (len(got) / (max(got) - first) if got else 0.0), count - len(got)


def measure(run: str, counts: list[int], rate: float, paced: int, burst: int, tap) -> list[list[str]]:
    """For each worker count: paced latency p50/p99 and the burst's events/s (rows for the report)."""
    import hop_latency
    from benchlib import percentile, ratio

    from localrunner.bus import RabbitBus

    rows, rates = [], {}
    try:
        for n in counts:
            with Workers(run, n):
                latencies, lost = hop_latency.run_phase(f"p{n}", run, paced, rate, tap)
                rates[n], burst_lost = burst_rate(run, f"burst{n}-{run}", burst, tap)
            rows.append([f"{n} worker process{'es' if n > 1 else ''}", f"{percentile(latencies, 50):.2f}",
                         f"{percentile(latencies, 99):.2f}", lost, f"{rates[n]:.0f}", burst_lost,
                         ratio(rates[n], rates[counts[0]])])
    finally:
        bus = RabbitBus(benchlib.amqp_url(), hop_latency.exchange_of(run))
        hop_latency.delete_queues(hop_latency.function_queues(hop_latency.declare_function(run), bus))
        benchlib.drop_quietly(benchlib.mongo_uri(), f"bench_hop_{run}_events")
    return rows


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    serve(sys.argv[1])
