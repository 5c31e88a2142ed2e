"""OpenFaaS: ``stack.yml``, one python3-http function per declaration (faas-cli substitutes ``${VAR:-default}``).

An event function's ``topic`` is its own queue (deploy.common.queue_of), bound once per event type in
``openfaas/rabbitmq.yaml``; a schedule's is the cron-connector's ``cron-function``; an HTTP function has none and is
reached through ``openfaas/routes.yaml``. Scaling labels, limits and requests follow its kind (choices.SCALING).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from deploy.choices import COPY, DOMAIN, SHARED_ENV, TEMPLATE
from deploy.common import dump, event_types, folder_path, function_env, image_of, kind_of, queue_of, scaling, secrets_of
from runtime.contract import EventTrigger, FunctionSpec, HttpTrigger, ScheduleTrigger


def scale_labels(spec: FunctionSpec) -> dict[str, str]:
    """com.openfaas.scale.*: min/max replicas and the target in-flight requests per replica (type capacity, the
    meaning of Knative's concurrency target); min 0 becomes min 1 with scale-to-zero when idle (OpenFaaS Pro: CE
    ignores the zero and target labels and keeps min)."""
    policy = scaling(spec)
    out = {"com.openfaas.scale.min": str(max(policy["min"], 1)), "com.openfaas.scale.max": str(policy["max"]),
           "com.openfaas.scale.target": str(policy["target"]), "com.openfaas.scale.type": "capacity"}
    if policy["min"] == 0:
        out["com.openfaas.scale.zero"] = "true"
    return out


def stack_function(spec: FunctionSpec) -> dict[str, Any]:
    env = dict(function_env(spec))
    env.update({name: f"${{{name}:-{value}}}" for name, value in SHARED_ENV})
    annotations: dict[str, str] = {"com.eventonight.group": spec.group}
    trigger = spec.trigger
    if isinstance(trigger, HttpTrigger):
        annotations["com.eventonight.route"] = f"{trigger.method} {spec.group}.${{PUBLIC_HOST:-{DOMAIN}}}{trigger.path}"
    elif isinstance(trigger, EventTrigger):
        annotations["topic"] = queue_of(spec)
        annotations["com.eventonight.events"] = ",".join(event_types(spec))
    elif isinstance(trigger, ScheduleTrigger):
        annotations["topic"] = "cron-function"
        annotations["schedule"] = trigger.cron
    if spec.emits:
        annotations["com.eventonight.emits"] = ",".join(sorted(set(spec.emits)))
    policy = scaling(spec)
    return {
        "lang": "python3-http",
        "handler": "./" + folder_path(spec),
        "image": image_of(spec.name, concrete=False),
        "environment": env,
        "annotations": annotations,
        "labels": {"com.eventonight.group": spec.group, "com.eventonight.kind": kind_of(spec), **scale_labels(spec)},
        "requests": dict(policy["requests"]),
        "limits": dict(policy["limits"]),
        "secrets": secrets_of(spec),
    }


def render_stack(specs: Sequence[FunctionSpec]) -> str:
    stack = {
        "version": "1.0",
        "provider": {"name": "openfaas", "gateway": "${OPENFAAS_URL:-http://127.0.0.1:8080}"},
        "configuration": {"templates": [dict(TEMPLATE)], "copy": list(COPY)},
        "functions": {spec.name: stack_function(spec) for spec in specs},
    }
    return dump([stack], multi=False)
