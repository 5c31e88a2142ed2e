"""OpenFaaS: ``stack.yml``, one python3-http function per declaration (faas-cli substitutes ``${VAR:-default}``)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from deploy.choices import COPY, DOMAIN, SHARED_ENV, TEMPLATE
from deploy.common import dump, event_types, folder_path, function_env, image_of, secrets_of
from runtime.contract import EventTrigger, FunctionSpec, HttpTrigger, ScheduleTrigger


def stack_function(spec: FunctionSpec) -> dict[str, Any]:
    env = dict(function_env(spec))
    env.update({name: f"${{{name}:-{value}}}" for name, value in SHARED_ENV})
    annotations: dict[str, str] = {"com.eventonight.group": spec.group}
    trigger = spec.trigger
    if isinstance(trigger, HttpTrigger):
        annotations["com.eventonight.route"] = f"{trigger.method} {spec.group}.${{PUBLIC_HOST:-{DOMAIN}}}{trigger.path}"
    elif isinstance(trigger, EventTrigger):
        annotations["topic"] = ",".join(event_types(spec))
    elif isinstance(trigger, ScheduleTrigger):
        annotations["topic"] = "cron-function"
        annotations["schedule"] = trigger.cron
    if spec.emits:
        annotations["com.eventonight.emits"] = ",".join(sorted(set(spec.emits)))
    function: dict[str, Any] = {
        "lang": "python3-http",
        "handler": "./" + folder_path(spec),
        "image": image_of(spec.name, concrete=False),
        "environment": env,
        "annotations": annotations,
        "labels": {"com.eventonight.group": spec.group},
    }
    function["secrets"] = secrets_of(spec)
    return function


def render_stack(specs: Sequence[FunctionSpec]) -> str:
    stack = {
        "version": "1.0",
        "provider": {"name": "openfaas", "gateway": "${OPENFAAS_URL:-http://127.0.0.1:8080}"},
        "configuration": {"templates": [dict(TEMPLATE)], "copy": list(COPY)},
        "functions": {spec.name: stack_function(spec) for spec in specs},
    }
    return dump([stack], multi=False)
