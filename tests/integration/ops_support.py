"""Shared helpers of the operators' CLI tests (no tests here): a platform of the test's own, and ``ops`` run
in-process against it, its output captured."""
from __future__ import annotations

import io
import json
import os
import uuid
from dataclasses import dataclass

from rich.console import Console

from integration_support import AMQP_URL
from localrunner.app import LocalPlatform, Settings, free_port
from ops.__main__ import main as ops_main

FAST_BACKOFF_MS = (50, 100, 200)


def start_platform(mongo_uri: str, **overrides) -> LocalPlatform:
    """One platform (knative semantics: ops talks HTTP and AMQP, the same on both) in a namespace of its own."""
    chosen = {"platform": "knative", "namespace": f"t{uuid.uuid4().hex[:12]}", "mongo_uri": mongo_uri,
              "amqp_url": AMQP_URL, "s3_endpoint_url": os.environ.get("S3_ENDPOINT_URL"), "port": 0,
              "idp_port": free_port(), "backoff_ms": FAST_BACKOFF_MS, "retry_past_leases": False, "relay_seconds": 0.5}
    settings = Settings(**{**chosen, **overrides})
    return LocalPlatform(settings).start()


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


def run_ops(platform: LocalPlatform, *args: str, amqp_url: str | None = AMQP_URL) -> Run:
    """``scripts/ops --gateway <platform> --namespace <its namespace> ARGS``, as an operator would type it."""
    environ = {"MONGO_URI": platform.settings.mongo_uri, **({"AMQP_URL": amqp_url} if amqp_url else {})}
    out, err = io.StringIO(), io.StringIO()
    code = ops_main(["--gateway", platform.url, "--namespace", platform.exchange, *args], environ=environ,
                    out=Console(file=out, width=200), err=Console(file=err, width=200))
    return Run(code, out.getvalue(), err.getvalue())
