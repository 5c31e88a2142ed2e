"""Cold start: what a function container pays to import its handler before it can answer the first request.

For every function folder (``runtime.registry.function_folders``) a fresh interpreter imports
``functions.<group>.<folder>.handler`` and reports the import time and the resident memory afterwards. Design §3
asks for this with compiled bytecode, as an image ships, so the bytecode is written beforehand into a private
``PYTHONPYCACHEPREFIX`` (``compileall`` of the repo's packages, then one warm-up run per target for the libraries)
and the measured runs are started without ``PYTHONDONTWRITEBYTECODE``.

Baselines, measured in the same run, the same way:

- ``empty``: the interpreter and this probe alone (the RSS floor);
- ``clients``: the bare import of the client libraries a function uses: pika, pymongo, jwt, pydantic and the
  cloudevents SDK modules the runtime imports (``import cloudevents`` alone loads nothing);
- ``clients+stripe+boto3``: the same plus the heavy SDKs, which handlers must import lazily (design §3).

Each handler run also reports which of stripe, boto3 and httpx ended up in ``sys.modules`` (they must not: lazy
imports) and which client libraries it loaded. Finally all handlers at once, compiled vs from source, shows what
bytecode saves. Then the whole of a scaled-from-zero start: process spawn -> first answered authenticated
request, connections included, against the same baselines (``bench/first_request.py``; needs ``MONGO_URI`` and
RabbitMQ). Repeats: ``BENCH_COLD_REPEATS`` (default 7); targets are interleaved per round to spread noise.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import benchlib
import first_request
from benchlib import REPO_ROOT, median, ratio, table

from runtime.registry import function_folders

LAZY = ("stripe", "boto3", "httpx")
CLIENTS = ("pika", "pymongo", "jwt", "pydantic", "cloudevents")
CLIENT_MODULES = ("pika", "pymongo", "jwt", "pydantic", "cloudevents.core.v1.event",
                  "cloudevents.core.bindings.http", "cloudevents.core.bindings.rabbitmq")
HEAVY_MODULES = ("stripe", "boto3")

# Runs in the fresh interpreter: import the modules named in argv, report time, RSS and what got loaded.
PROBE = r"""
import importlib, json, sys, time
names = sys.argv[1:]
start = time.perf_counter()
for name in names:
    importlib.import_module(name)
elapsed = time.perf_counter() - start
with open("/proc/self/status") as status:
    fields = dict(line.split(":", 1) for line in status if ":" in line)
print(json.dumps({"ms": elapsed * 1000, "rss_kib": int(fields["VmRSS"].split()[0]),
                  "loaded": sorted(m for m in %r + %r if m in sys.modules)}))
""" % (LAZY, CLIENTS)


def targets() -> dict[str, list[str]]:
    """Label -> modules to import, baselines first."""
    handlers = {f"{g}/{f}": [f"functions.{g}.{f}.handler"] for g, f in function_folders()}
    return {"empty": [], "clients": list(CLIENT_MODULES),
            "clients+stripe+boto3": list(CLIENT_MODULES + HEAVY_MODULES), **handlers}


def probe_env(pycache: str | None) -> dict[str, str]:
    """The environment of a measured run: bytecode read from ``pycache`` (None: compile from source)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    env["PYTHONPATH"] = REPO_ROOT
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def run_probe(modules: list[str], env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, *modules], env=env, cwd=REPO_ROOT, check=True,
                         capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout.strip().splitlines()[-1])


def count_pyc(root: str) -> int:
    return sum(name.endswith(".pyc") for _, _, files in os.walk(root) for name in files)


def compile_bytecode(pycache: str, all_targets: dict[str, list[str]]) -> tuple[int, int]:
    """compileall the repo's packages into ``pycache``, then warm every target once so the libraries' bytecode is
    there too. Returns the .pyc count after warming and how many a second warm pass added (0: all cached)."""
    env = probe_env(pycache)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "runtime", "functions", "events"], env=env,
                   cwd=REPO_ROOT, check=True)
    everything = sorted({m for modules in all_targets.values() for m in modules})
    run_probe(everything, env)
    first = count_pyc(pycache)
    run_probe(everything, env)
    return first, count_pyc(pycache) - first


def measure(all_targets: dict[str, list[str]], env: dict[str, str], repeats: int) -> dict[str, list[dict]]:
    """``repeats`` rounds; each round runs every target once, in order, each in a fresh interpreter."""
    results: dict[str, list[dict]] = {label: [] for label in all_targets}
    for _ in range(repeats):
        for label, modules in all_targets.items():
            results[label].append(run_probe(modules, env))
    return results


def summarize(results: dict[str, list[dict]]) -> None:
    base = results["clients"]
    base_ms, base_rss = median(r["ms"] for r in base), median(r["rss_kib"] for r in base)
    rows = []
    for label, runs in results.items():
        ms, rss = median(r["ms"] for r in runs), median(r["rss_kib"] for r in runs) / 1024
        loaded = runs[-1]["loaded"]
        lazy_hits = [m for m in LAZY if m in loaded]
        clients = ",".join(m for m in CLIENTS if m in loaded) or "-"
        lazy = "-" if label in ("empty", "clients", "clients+stripe+boto3") else ("LOADED " + ",".join(lazy_hits)
                                                                                 if lazy_hits else "none (ok)")
        rows.append([label, f"{ms:.1f}", ratio(ms, base_ms), f"{rss:.1f}", ratio(rss * 1024, base_rss), lazy,
                     clients])
    print(table(["target", "import ms (median)", "vs clients", "RSS MiB", "vs clients", "stripe/boto3/httpx",
                 "client libs loaded"], rows))


def import_breakdown(module: str, env: dict[str, str], top: int = 8) -> list[tuple[str, float]]:
    """The direct imports of ``module`` by cumulative time, from one ``-X importtime`` run (compiled)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], env=env, cwd=REPO_ROOT,
                         check=True, capture_output=True, text=True, timeout=60)
    rows = []  # (indent, name, cumulative us), children before their parent as -X importtime prints them
    for line in out.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if match:
            rows.append((len(match.group(3)), match.group(4), int(match.group(2))))
    # The module's own line is the most indented one with its name (the outer ones are its packages' imports).
    root = max((i for i, row in enumerate(rows) if row[1] == module), key=lambda i: rows[i][0])
    depth, children = rows[root][0], []
    for indent, name, cumulative in reversed(rows[:root]):
        if indent <= depth:
            break
        if indent == depth + 2:
            children.append((name, cumulative / 1000))
    return sorted(children, key=lambda c: -c[1])[:top]


def main() -> int:
    repeats = benchlib.env_int("BENCH_COLD_REPEATS", 7)
    all_targets = targets()
    handler_labels = [label for label in all_targets if "/" in label]
    pycache = tempfile.mkdtemp(prefix="bench-pycache-")
    started = time.monotonic()
    try:
        pyc, added = compile_bytecode(pycache, all_targets)
        print(f"cold start: {len(handler_labels)} handlers, {repeats} fresh interpreters each, Python "
              f"{sys.version.split()[0]}; bytecode prefix holds {pyc} .pyc, a second warm pass added {added}")
        compiled = probe_env(pycache)
        results = measure(all_targets, compiled, repeats)
        print()
        summarize(results)

        everything = sorted({m for label in handler_labels for m in all_targets[label]})
        together = {"all handlers, compiled": measure({"all": everything}, compiled, repeats)["all"],
                    "all handlers, repo from source (PYTHONDONTWRITEBYTECODE=1)": measure({"all": everything}, probe_env(None), repeats)["all"]}
        print()
        base = median(together["all handlers, compiled"][i]["ms"] for i in range(repeats))
        print(table(["all handlers in one interpreter", "import ms (median)", "vs compiled"],
                    [[label, f"{median(r['ms'] for r in runs):.1f}", ratio(median(r["ms"] for r in runs), base)]
                     for label, runs in together.items()]))
        slowest = max(handler_labels, key=lambda label: median(r["ms"] for r in results[label]))
        module = all_targets[slowest][0]
        print(f"\nwhere the slowest handler's import goes ({module}, one -X importtime run, cumulative ms):")
        print(table(["direct import", "ms"], [[name, f"{ms:.1f}"] for name, ms in import_breakdown(module, compiled)]))
        print(f"\nfirst request of a scaled-from-zero instance ({'/'.join(first_request.FUNCTION_FOLDER)}, "
              f"python -m runtime.adapters.knative_main, compiled bytecode, {repeats} rounds, interleaved):")
        first_request.report(first_request.measure(compiled, repeats))
        leaks = [label for label in handler_labels
                 if any(m in run["loaded"] for run in results[label] for m in LAZY)]
        print(f"\nlazy imports: {'FAILED for ' + ', '.join(leaks) if leaks else 'ok'} "
              f"(no handler import loaded {', '.join(LAZY)})")
        print(f"took {time.monotonic() - started:.0f} s")
        return 1 if leaks else 0
    finally:
        shutil.rmtree(pycache, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
