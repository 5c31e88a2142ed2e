"""The notifications group's Socket.IO service (``realtime/``), an always-on server rather than a function:

- ``knative/notifications-realtime.yaml``: a Knative Service that keeps at least one instance (``min-scale 1``),
  whose requests (hence websockets) last up to ``REQUEST_TIMEOUT_SECONDS`` (Knative's default cap; clients then
  reconnect), plus an HTTPRoute sending ``notifications.<DOMAIN>/socket.io/`` to it. Knative has no session
  affinity, so across replicas only the websocket transport works there (the SPA tries it first).
- ``openfaas/notifications-realtime.yaml``: OpenFaaS CE's gateway cannot proxy a websocket (it drops ``Upgrade``:
  docs/deploy.md), so beside ``stack.yml`` a plain Kubernetes Deployment, a Service with client-IP affinity (so
  long-polling sessions stay on their replica) and the same HTTPRoute.
- ``realtime/requirements.txt``: the service image's pins (the runtime's, plus the Socket.IO stack).

Both run the same image with ``python -m realtime`` and the settings every function reads (``SHARED_ENV``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deploy.choices import DOMAIN, GATEWAY_NAME, HEADER, REGISTRY_DEFAULT, SHARED_ENV, TAG_DEFAULT
from deploy.common import dump, labels

NAME = "notifications-realtime"
GROUP = "notifications"
PATH = "/socket.io/"
COMMAND = ["python", "-m", "realtime", "--port", "8080"]
IMAGE = f"{REGISTRY_DEFAULT}/{NAME}:{TAG_DEFAULT}"
MIN_SCALE, MAX_SCALE, OPENFAAS_REPLICAS = 1, 10, 2
REQUEST_TIMEOUT_SECONDS = 600  # Knative's default max-revision-timeout-seconds: a socket lives at most this long
# The service's own settings (realtime/settings.py); the SPA's origins for CORS with credentials.
OWN_ENV = [("PRESENCE_HEARTBEAT_SECONDS", "5"), ("PRESENCE_TTL_SECONDS", "15"),
           ("SOCKETIO_CORS_ORIGINS", f"https://{DOMAIN},http://{DOMAIN}")]
REQUIREMENTS = ("python-socketio", "python-engineio", "aio-pika", "uvicorn", "wsproto")


def environment(transports: str) -> list[dict[str, str]]:
    own = [*OWN_ENV, ("PYTHONPATH", "/app"), ("SOCKETIO_TRANSPORTS", transports)]
    return [{"name": k, "value": v} for k, v in sorted([*SHARED_ENV, *own])]


def container(transports: str = "polling,websocket") -> dict[str, Any]:
    return {"name": "realtime", "image": IMAGE, "command": list(COMMAND), "env": environment(transports),
            "ports": [{"containerPort": 8080}], "readinessProbe": {"httpGet": {"path": "/health"}}}


def route() -> dict[str, Any]:
    """``notifications.<DOMAIN>/socket.io/`` (every method: polling GETs and POSTs, the websocket upgrade) to the
    service; its own CORS answer passes through (Engine.IO reflects the allowed origin, with credentials)."""
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": NAME, "labels": labels(GROUP)},
        "spec": {"parentRefs": [{"name": GATEWAY_NAME}], "hostnames": [f"{GROUP}.{DOMAIN}"],
                 "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": PATH}}],
                            "backendRefs": [{"name": NAME, "port": 80}]}]},
    }


def knative_service() -> dict[str, Any]:
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": NAME, "labels": labels(GROUP)},
        "spec": {"template": {
            "metadata": {"annotations": {"autoscaling.knative.dev/min-scale": str(MIN_SCALE),
                                         "autoscaling.knative.dev/max-scale": str(MAX_SCALE)},
                         "labels": labels(GROUP)},
            # containerConcurrency 0: no limit (each open socket is a request in flight for the autoscaler)
            # websocket only: without session affinity a long-polling session breaks on another replica
            "spec": {"containerConcurrency": 0, "timeoutSeconds": REQUEST_TIMEOUT_SECONDS,
                     "containers": [container("websocket")]},
        }},
    }


def deployment() -> dict[str, Any]:
    selector = {"app.kubernetes.io/name": NAME}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "labels": labels(GROUP)},
        "spec": {"replicas": OPENFAAS_REPLICAS, "selector": {"matchLabels": selector},
                 "template": {"metadata": {"labels": {**labels(GROUP), **selector}},
                              "spec": {"containers": [container()]}}},
    }


def service() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": NAME, "labels": labels(GROUP)},
        "spec": {"selector": {"app.kubernetes.io/name": NAME}, "sessionAffinity": "ClientIP",
                 "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]},
    }


def requirements(pins: Mapping[str, list[str]]) -> str:
    by_dist = {line.split("==")[0].split("[")[0].lower(): line for line in pins["all"]}
    lines = list(pins["base"]) + [by_dist[name] for name in REQUIREMENTS]
    return HEADER + "".join(line + "\n" for line in lines)


def render_realtime(pins: Mapping[str, list[str]]) -> dict[str, str]:
    return {
        f"knative/{NAME}.yaml": dump([knative_service(), route()]),
        f"openfaas/{NAME}.yaml": dump([deployment(), service(), route()]),
        "realtime/requirements.txt": requirements(pins),
    }
