"""The notifications group's Socket.IO service (``realtime/``), an always-on server rather than a function:

- ``knative/notifications-realtime.yaml``: a cluster-local Knative Service that keeps at least one instance
  (``min-scale 1``), whose requests (hence websockets) last up to ``REQUEST_TIMEOUT_SECONDS`` (Knative's default cap;
  clients then reconnect), plus an HTTPRoute sending ``notifications.<DOMAIN>/socket.io/`` to it through Knative's
  local gateway, as the functions' routes do (deploy/routes.py). Knative has no session affinity, so across replicas
  only the websocket transport works there (the SPA tries it first).
- ``openfaas/notifications-realtime.yaml``: OpenFaaS CE's gateway cannot proxy a websocket (it drops ``Upgrade``:
  docs/deploy.md), so beside ``stack.yml`` a plain Kubernetes Deployment, a Service with client-IP affinity (so
  long-polling sessions stay on their replica) and an HTTPRoute straight to that Service, all in ``NAMESPACE``.
- ``realtime/requirements.txt``: the service image's pins (the runtime's, plus the Socket.IO stack).

Both run the same image with ``python -m realtime``, the settings every function reads (``SHARED_ENV``) and the
connection secrets mounted where runtime.config reads them.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deploy.choices import (
    CONNECTION_SECRETS,
    DOMAIN,
    GATEWAY,
    HEADER,
    KNATIVE_LOCAL_GATEWAY,
    NAMESPACE,
    REGISTRY_DEFAULT,
    ROUTE_TIMEOUT,
    SECRETS_DIR,
    SECURITY_CONTEXT,
    SHARED_ENV,
    TAG_DEFAULT,
)
from deploy.common import dump, labels
from deploy.routes import host_of, knative_host

NAME = "notifications-realtime"
GROUP = "notifications"
PATH = "/socket.io/"
COMMAND = ["python", "-m", "realtime", "--port", "8080"]
IMAGE = f"{REGISTRY_DEFAULT}/{NAME}:{TAG_DEFAULT}"
IMAGE_UID = 65534  # realtime/Dockerfile's USER
MIN_SCALE, MAX_SCALE, OPENFAAS_REPLICAS = 1, 10, 2
REQUEST_TIMEOUT_SECONDS = 600  # Knative's default max-revision-timeout-seconds: a socket lives at most this long
# The service's own settings (realtime/settings.py); the SPA's origins for CORS with credentials.
OWN_ENV = [("PRESENCE_HEARTBEAT_SECONDS", "5"), ("PRESENCE_TTL_SECONDS", "15"),
           ("SOCKETIO_CORS_ORIGINS", f"https://{DOMAIN},http://{DOMAIN}")]
REQUIREMENTS = ("python-socketio", "python-engineio", "aio-pika", "uvicorn", "wsproto")
RESOURCES = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}


def metadata() -> dict[str, Any]:
    return {"name": NAME, "namespace": NAMESPACE, "labels": labels(GROUP)}


def environment(transports: str) -> list[dict[str, str]]:
    own = [*OWN_ENV, ("PYTHONPATH", "/app"), ("SOCKETIO_TRANSPORTS", transports)]
    return [{"name": k, "value": v} for k, v in sorted([*SHARED_ENV, *own])]


def container(transports: str = "polling,websocket") -> dict[str, Any]:
    """The MongoDB and RabbitMQ URIs come from the same secrets as the functions', mounted where runtime.config
    reads them."""
    return {"name": "realtime", "image": IMAGE, "command": list(COMMAND), "env": environment(transports),
            "ports": [{"containerPort": 8080}], "readinessProbe": {"httpGet": {"path": "/health"}},
            "resources": {k: dict(v) for k, v in RESOURCES.items()},
            "securityContext": {**SECURITY_CONTEXT, "runAsUser": IMAGE_UID},
            "volumeMounts": [{"name": "secrets", "mountPath": SECRETS_DIR, "readOnly": True}]}


def pod(transports: str = "polling,websocket") -> dict[str, Any]:
    return {"containers": [container(transports)],
            "volumes": [{"name": "secrets", "projected": {"sources": [
                {"secret": {"name": s, "items": [{"key": s, "path": s}]}} for s in CONNECTION_SECRETS]}}]}


def route(backend: dict[str, Any], rewrite_host: bool) -> dict[str, Any]:
    """``notifications.<DOMAIN>/socket.io/`` (every method: polling GETs and POSTs, the websocket upgrade) to the
    service; no CORS filter: Engine.IO answers CORS itself (it reflects an allowed origin, with credentials)."""
    rule: dict[str, Any] = {"matches": [{"path": {"type": "PathPrefix", "value": PATH}}],
                            "backendRefs": [backend], "timeouts": {"request": ROUTE_TIMEOUT}}
    if rewrite_host:  # Knative: through its local gateway under the Service's cluster-local name (deploy/routes.py)
        rule["filters"] = [{"type": "URLRewrite", "urlRewrite": {"hostname": knative_host(NAME)}}]
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": metadata(),
        "spec": {"parentRefs": [dict(GATEWAY)], "hostnames": [host_of(GROUP)], "rules": [rule]},
    }


def knative_service() -> dict[str, Any]:
    service_metadata = metadata()
    service_metadata["labels"]["networking.knative.dev/visibility"] = "cluster-local"  # reached through the route
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": service_metadata,
        "spec": {"template": {
            "metadata": {"annotations": {"autoscaling.knative.dev/min-scale": str(MIN_SCALE),
                                         "autoscaling.knative.dev/max-scale": str(MAX_SCALE)},
                         "labels": labels(GROUP)},
            # containerConcurrency 0: no limit (each open socket is a request in flight for the autoscaler)
            # websocket only: without session affinity a long-polling session breaks on another replica
            "spec": {"containerConcurrency": 0, "timeoutSeconds": REQUEST_TIMEOUT_SECONDS, **pod("websocket")},
        }},
    }


def deployment() -> dict[str, Any]:
    selector = {"app.kubernetes.io/name": NAME}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(),
        "spec": {"replicas": OPENFAAS_REPLICAS, "selector": {"matchLabels": selector},
                 "template": {"metadata": {"labels": {**labels(GROUP), **selector}}, "spec": pod()}},
    }


def service() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(),
        "spec": {"selector": {"app.kubernetes.io/name": NAME}, "sessionAffinity": "ClientIP",
                 "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]},
    }


def requirements(pins: Mapping[str, list[str]]) -> str:
    by_dist = {line.split("==")[0].split("[")[0].lower(): line for line in pins["all"]}
    lines = list(pins["base"]) + [by_dist[name] for name in REQUIREMENTS]
    return HEADER + "".join(line + "\n" for line in lines)


def render_realtime(pins: Mapping[str, list[str]]) -> dict[str, str]:
    local_gateway = {"name": KNATIVE_LOCAL_GATEWAY["name"], "namespace": KNATIVE_LOCAL_GATEWAY["namespace"],
                     "port": KNATIVE_LOCAL_GATEWAY["port"]}
    return {
        f"knative/{NAME}.yaml": dump([knative_service(), route(local_gateway, rewrite_host=True)]),
        f"openfaas/{NAME}.yaml": dump([deployment(), service(), route({"name": NAME, "port": 80}, rewrite_host=False)]),
        "realtime/requirements.txt": requirements(pins),
    }
