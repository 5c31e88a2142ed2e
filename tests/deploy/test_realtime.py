"""The Socket.IO service's manifests (deploy/realtime.py): an always-on Knative Service and, for OpenFaaS (whose CE
gateway cannot carry a websocket), a plain Deployment + Service beside stack.yml; both behind an HTTPRoute for
``notifications.<DOMAIN>/socket.io/``; the image's pinned requirements."""
from __future__ import annotations

import os
import re

import yaml

from deploy import realtime
from deploy.choices import DOMAIN, GATEWAY, KNATIVE_LOCAL_GATEWAY, NAMESPACE, SECRETS_DIR, SHARED_ENV
from deploy.files import load_pins
from manifests_support import ROOT, all_errors
from runtime.contract import HttpTrigger
from runtime.registry import discover

KNATIVE_FILE, OPENFAAS_FILE = "knative/notifications-realtime.yaml", "openfaas/notifications-realtime.yaml"


def documents(path: str) -> list[dict]:
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def test_knative_keeps_one_instance_always_and_routes_the_socketio_path_through_the_local_gateway():
    service, route = documents(KNATIVE_FILE)
    assert all_errors(service) == [] and all_errors(route) == []
    assert service["metadata"]["namespace"] == route["metadata"]["namespace"] == NAMESPACE
    annotations = service["spec"]["template"]["metadata"]["annotations"]
    assert annotations["autoscaling.knative.dev/min-scale"] == "1"
    pod = service["spec"]["template"]["spec"]
    assert pod["timeoutSeconds"] == 600  # Knative's default cap: sockets are cut then and clients reconnect
    assert pod["containers"][0]["command"] == ["python", "-m", "realtime", "--port", "8080"]
    # reached only through the route, like the HTTP functions
    assert service["metadata"]["labels"]["networking.knative.dev/visibility"] == "cluster-local"
    assert route["spec"]["parentRefs"] == [GATEWAY]
    assert route["spec"]["hostnames"] == [f"notifications.{DOMAIN}"]
    [rule] = route["spec"]["rules"]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/socket.io/"}}]  # every method
    assert rule["filters"] == [{"type": "URLRewrite", "urlRewrite": {
        "hostname": f"notifications-realtime.{NAMESPACE}.svc.cluster.local"}}]
    assert rule["backendRefs"] == [KNATIVE_LOCAL_GATEWAY]
    assert rule["timeouts"] == {"request": "0s"}  # a websocket outlives any request timeout the Gateway would set


def test_openfaas_gets_a_plain_deployment_service_and_route_beside_the_stack():
    deployment, service, route = documents(OPENFAAS_FILE)
    assert [all_errors(d) for d in (deployment, service, route)] == [[], [], []]
    assert {d["metadata"]["namespace"] for d in (deployment, service, route)} == {NAMESPACE}
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["selector"]["matchLabels"].items() <= \
        deployment["spec"]["template"]["metadata"]["labels"].items()
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["sessionAffinity"] == "ClientIP"  # long-polling sessions stay on their replica
    assert service["spec"]["ports"][0]["targetPort"] == 8080
    [rule] = route["spec"]["rules"]
    assert rule["backendRefs"] == [{"name": "notifications-realtime", "port": 80}] and "filters" not in rule
    assert route["spec"]["hostnames"] == documents(KNATIVE_FILE)[1]["spec"]["hostnames"]
    with open(os.path.join(ROOT, "stack.yml"), encoding="utf-8") as f:
        assert "notifications-realtime" not in (yaml.safe_load(f)["functions"])


def test_the_connection_secrets_are_mounted_where_the_runtime_reads_them():
    for pod in (documents(KNATIVE_FILE)[0]["spec"]["template"]["spec"],
                documents(OPENFAAS_FILE)[0]["spec"]["template"]["spec"]):
        [mount] = pod["containers"][0]["volumeMounts"]
        assert mount == {"name": "secrets", "mountPath": SECRETS_DIR, "readOnly": True}
        [volume] = pod["volumes"]
        assert {source["secret"]["name"] for source in volume["projected"]["sources"]} == {"mongo-uri", "amqp-url"}
        assert pod["containers"][0]["securityContext"]["runAsNonRoot"] is True


def test_both_platforms_run_one_image_with_the_functions_settings():
    knative = documents(KNATIVE_FILE)[0]["spec"]["template"]["spec"]["containers"][0]
    openfaas = documents(OPENFAAS_FILE)[0]["spec"]["template"]["spec"]["containers"][0]
    knative_env = {e["name"]: e["value"] for e in knative["env"]}
    openfaas_env = {e["name"]: e["value"] for e in openfaas["env"]}
    assert knative_env.pop("SOCKETIO_TRANSPORTS") == "websocket"  # no session affinity on Knative
    assert openfaas_env.pop("SOCKETIO_TRANSPORTS") == "polling,websocket"  # the Service has client-IP affinity
    assert knative_env == openfaas_env and {**knative, "env": None} == {**openfaas, "env": None}
    env = knative_env
    assert {k: env[k] for k, _ in SHARED_ENV} == dict(SHARED_ENV)
    assert env["SOCKETIO_CORS_ORIGINS"].split(",") == [f"https://{DOMAIN}", f"http://{DOMAIN}"]
    assert int(env["PRESENCE_TTL_SECONDS"]) > int(env["PRESENCE_HEARTBEAT_SECONDS"])


def test_the_socketio_path_takes_no_function_route_for_get():
    """GET /socket.io/ must reach the service: no notifications function matches it (POST /{id} does: Gateway API
    gives Exact and the longest PathPrefix precedence over a regex only by implementation, docs/deploy.md)."""
    gets = [s for s in discover() if s.group == "notifications" and isinstance(s.trigger, HttpTrigger)
            and s.trigger.method == "GET"]
    assert gets and not any(s.trigger.pattern().match("/socket.io/") for s in gets)


def test_the_image_pins_the_runtime_and_the_socketio_stack():
    with open(os.path.join(ROOT, "realtime", "requirements.txt"), encoding="utf-8") as f:
        lines = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    pins = load_pins()
    assert lines[: len(pins["base"])] == pins["base"]
    extra = {re.split(r"==", line)[0] for line in lines[len(pins["base"]):]}
    assert extra == {"python-socketio", "python-engineio", "aio-pika", "uvicorn", "wsproto"}
    assert all(line in pins["all"] for line in lines)


def test_the_service_is_rendered_only_with_the_notifications_group():
    from deploy.generate import render

    files = render([s for s in discover() if s.group != "notifications"], {t: {} for t in _catalogue()})
    assert OPENFAAS_FILE not in files and KNATIVE_FILE not in files
    assert realtime.NAME == "notifications-realtime"


def _catalogue():
    from events import catalogue

    return catalogue()
