"""Cold start as a scaled-from-zero instance sees it: process start -> first answered request (``bench/cold_start``).

A Knative Service scaled to zero starts a container when a request arrives; the activator holds the request until
the pod accepts it. Here: a fresh ``python -m runtime.adapters.knative_main`` (deploy.choices.KNATIVE_COMMAND) for
``events-create-event`` (the image's layout: a directory whose ``function`` package is the function folder, the
repo on ``PYTHONPATH``), with its environment pointing at the bench's store, RabbitMQ and a development identity
provider. The client tries to connect every 2 ms from the moment the process is spawned, then sends an
authenticated ``POST /`` (a draft event: token verified against the JWKS, fetched on first use; the idempotency
claim and the commit on the store, connected on first use; ``event.created`` published with a confirm, the broker
connected on first use). Times, from the spawn: the port accepting, the first answer (201), and a second request
on the warm process. Baselines, fresh interpreters in the same rounds: ``python -c pass``; the bare client imports
(pika, pymongo, jwt, pydantic, cloudevents); and those imports plus one round trip to each dependency (a MongoDB
ping, a confirmed AMQP channel, a JWKS GET): the floor of "start and connect to everything".
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import benchlib

FUNCTION_FOLDER = ("events", "create_event")
CONNECT = """
import sys, time, json, urllib.request
t0 = time.perf_counter()
import pika, pymongo, jwt, pydantic, cloudevents.core.v1.event, cloudevents.core.bindings.http
imported = time.perf_counter()
mongo, amqp, jwks = sys.argv[1:4]
client = pymongo.MongoClient(mongo, serverSelectionTimeoutMS=3000); client.admin.command("ping")
connection = pika.BlockingConnection(pika.URLParameters(amqp)); channel = connection.channel()
channel.confirm_delivery()
urllib.request.urlopen(jwks, timeout=3).read()
print(json.dumps({"import_ms": (imported - t0) * 1000}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request_until_answered(port: int, body: bytes, headers: dict, deadline: float) -> tuple[float, float, int]:
    """(seconds until a connection was accepted, seconds until the answer, status), from now on."""
    start = time.perf_counter()
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.connect()
            break
        except OSError:
            if time.perf_counter() > deadline:
                raise TimeoutError("the function process never accepted a connection") from None
            time.sleep(0.002)
    accepted = time.perf_counter() - start
    connection.request("POST", "/", body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return accepted, time.perf_counter() - start, response.status


def function_env(base: dict[str, str], image_dir: str, port: int, issuer: str, run: str) -> dict[str, str]:
    env = dict(base)
    env.update({"PYTHONPATH": f"{image_dir}{os.pathsep}{benchlib.REPO_ROOT}", "LISTEN_ADDRESS": f"127.0.0.1:{port}",
                "MONGO_URI": benchlib.mongo_uri(), "AMQP_URL": benchlib.amqp_url(), "OIDC_ISSUER": issuer,
                "DATABASE_PREFIX": f"bench_cold_{run}_", "EVENT_EXCHANGE": f"bench-cold-{run}",
                "SECRET_EVENT_SIGNING_KEYS": "bench:" + "k" * 32, "LOG_LEVEL": "WARNING",
                # a draft's default poster URL is built from the media settings (nothing is stored)
                "S3_ENDPOINT_URL": "http://127.0.0.1:8333", "SECRET_S3_ACCESS_KEY": "bench",
                "SECRET_S3_SECRET_KEY": "bench"})
    return env


def first_request(env: dict[str, str], image_dir: str, port: int, token: str) -> dict[str, float]:
    """Spawn the function process, answer one request cold and one warm, stop it; milliseconds from the spawn."""
    def headers():
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                "Idempotency-Key": uuid.uuid4().hex}

    body = json.dumps({"title": "Cold start"}).encode()
    spawned = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "runtime.adapters.knative_main"], env=env, cwd=image_dir,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    try:
        accepted, answered, status = request_until_answered(port, body, headers(), spawned + 60)
        offset = time.perf_counter() - spawned - answered  # the spawn itself, before the first connect attempt
        if status != 201:
            raise AssertionError(f"first request answered {status}: {diagnose(process)}")
        _, warm, status = request_until_answered(port, body, headers(), time.perf_counter() + 10)
        assert status == 201, f"warm request answered {status}"
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=20)
    if process.returncode not in (0, -15):
        print(errors.decode(errors="replace")[-2000:], file=sys.stderr)
    return {"accepting": (offset + accepted) * 1000, "first answer": (offset + answered) * 1000,
            "warm request": warm * 1000}


def diagnose(process) -> str:
    """The end of the function process's log (stopped first)."""
    process.terminate()
    return process.communicate(timeout=20)[1].decode(errors="replace")[-1500:]


def timed_python(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], env=env, check=True, capture_output=True, timeout=60)
    return (time.perf_counter() - start) * 1000


def measure(base_env: dict[str, str], repeats: int) -> dict[str, list[float]]:
    """Interleaved rounds of every variant; returns milliseconds per variant."""
    from localrunner import idp as idp_module
    from runtime.store import mongo_client

    run = benchlib.run_id()
    provider = idp_module.serve()
    image_dir = tempfile.mkdtemp(prefix="bench-image-")
    os.symlink(os.path.join(benchlib.REPO_ROOT, "functions", *FUNCTION_FOLDER), os.path.join(image_dir, "function"))
    token = provider.mint({"user_id": str(uuid.uuid4()), "realm_access": {"roles": ["organization"]}})
    jwks = f"{provider.issuer}/protocol/openid-connect/certs"
    results: dict[str, list[float]] = {}
    try:
        for _ in range(repeats):
            results.setdefault("python -c pass", []).append(timed_python(["-c", "pass"], base_env))
            results.setdefault("client imports", []).append(timed_python(
                ["-c", "import pika, pymongo, jwt, pydantic, cloudevents.core.v1.event, "
                       "cloudevents.core.bindings.http"], base_env))
            results.setdefault("client imports + connect store, broker, JWKS", []).append(timed_python(
                ["-c", CONNECT, benchlib.mongo_uri(), benchlib.amqp_url(), jwks], base_env))
            env = function_env(base_env, image_dir, free_port(), provider.issuer, run)
            for label, ms in first_request(env, image_dir, int(env["LISTEN_ADDRESS"].rsplit(":", 1)[1]),
                                           token).items():
                results.setdefault(f"function: {label}", []).append(ms)
    finally:
        provider.stop()
        os.unlink(os.path.join(image_dir, "function"))
        os.rmdir(image_dir)
        benchlib.drop_quietly(benchlib.mongo_uri(), f"bench_cold_{run}_events")
        try:
            import pika

            connection = pika.BlockingConnection(pika.URLParameters(benchlib.amqp_url()))
            connection.channel().exchange_delete(f"bench-cold-{run}")
            connection.close()
        except Exception as exc:  # noqa: BLE001 - clean-up must not hide the numbers
            print(f"could not delete exchange bench-cold-{run}: {exc.__class__.__name__}", file=sys.stderr)
        mongo_client(benchlib.mongo_uri()).close()
    return results


def report(results: dict[str, list[float]]) -> None:
    from benchlib import median, ratio, table

    base = median(results["client imports"])
    rows = [[label, f"{median(values):.0f}", f"{min(values):.0f}-{max(values):.0f}", ratio(median(values), base)]
            for label, values in results.items()]
    print(table(["from process spawn", "ms (median)", "range", "vs client imports"], rows))
