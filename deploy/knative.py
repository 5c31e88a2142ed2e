"""Knative: ``knative/broker.yaml`` (RabbitmqBrokerConfig, Broker, dead-letter Service), ``knative/routing.yaml``
(the ReferenceGrant the routes need) and ``knative/<group>.yaml`` (one Service per function, one Trigger per (event
function, type), one PingSource per scheduled function, and the group's HTTPRoutes from deploy.routes). Everything
lives in choices.NAMESPACE; every Service is cluster-local (HTTP ones are reached only through the routes)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from deploy.choices import (
    BROKER_CONFIG_NAME,
    BROKER_NAME,
    DEAD_LETTER_IMAGE,
    DEAD_LETTER_SERVICE,
    DELIVERY_BACKOFF_DELAY,
    DELIVERY_BACKOFF_POLICY,
    DELIVERY_RETRY,
    KNATIVE_COMMAND,
    NAMESPACE,
    RABBITMQ_CLUSTER,
    SECRETS_DIR,
    SECURITY_CONTEXT,
    SHARED_ENV,
    TRIGGER_PARALLELISM,
)
from deploy.common import (
    dump,
    event_types,
    function_env,
    image_of,
    k8s_name,
    labels,
    scaling,
    secrets_of,
    watchdog_timeouts,
)
from deploy.routes import knative_httproutes, knative_reference_grant
from runtime.contract import FunctionSpec, HttpTrigger, ScheduleTrigger

CLUSTER_LOCAL = {"networking.knative.dev/visibility": "cluster-local"}


def metadata(name: str, group: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": NAMESPACE, "labels": labels(group), **extra}


def service_ref(name: str) -> dict[str, Any]:
    return {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": name}}


def trigger_name(function_name: str, event_type: str) -> str:
    return k8s_name(function_name, event_type)


def knative_service(spec: FunctionSpec) -> dict[str, Any]:
    env = [{"name": name, "value": value} for name, value in function_env(spec)]
    env += [{"name": name, "value": value} for name, value in SHARED_ENV]
    policy = scaling(spec)
    container: dict[str, Any] = {
        "name": "function",
        "image": image_of(spec.name, concrete=True),
        "command": list(KNATIVE_COMMAND),
        "env": env,
        "ports": [{"containerPort": 8080}],
        "readinessProbe": {"httpGet": {"path": "/health/readiness"}},
        "resources": {"requests": dict(policy["requests"]), "limits": dict(policy["limits"])},
        "securityContext": dict(SECURITY_CONTEXT),
    }
    pod: dict[str, Any] = {
        "containerConcurrency": policy["target"],
        "timeoutSeconds": watchdog_timeouts(spec)[0],
        "containers": [container],
    }
    secrets = secrets_of(spec)
    if secrets:
        # One projected volume at the OpenFaaS secrets path: each secret's key <name> becomes the file
        # /var/openfaas/secrets/<name>, exactly what OpenFaaS mounts and runtime.config reads.
        container["volumeMounts"] = [{"name": "secrets", "mountPath": SECRETS_DIR, "readOnly": True}]
        pod["volumes"] = [{"name": "secrets", "projected": {"sources": [
            {"secret": {"name": s, "items": [{"key": s, "path": s}]}} for s in secrets]}}]
    # Never exposed by Knative itself: event and schedule functions are called by dispatchers and PingSources only,
    # HTTP ones through the generated HTTPRoutes (host rewritten to their cluster-local name).
    service_metadata = metadata(spec.name, spec.group)
    service_metadata["labels"].update(CLUSTER_LOCAL)
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": service_metadata,
        "spec": {"template": {
            "metadata": {"annotations": {"autoscaling.knative.dev/min-scale": str(policy["min"]),
                                         "autoscaling.knative.dev/max-scale": str(policy["max"]),
                                         "autoscaling.knative.dev/target": str(policy["target"])},
                         "labels": labels(spec.group)},
            "spec": pod,
        }},
    }


def retries_past_lease(spec: FunctionSpec) -> int:
    """``DELIVERY_RETRY``, or more when a function's ledger lease outlasts them: exponential retries from 1 s wait
    2**n - 1 s in all, and a redelivery after a crashed attempt meets its key in progress until the lease lapses,
    so it must get to the take-over instead of the dead letters (as ``localrunner.bus.retry_schedule``)."""
    retries = DELIVERY_RETRY
    while spec.state_changing and 2 ** retries - 1 <= spec.lease_seconds:
        retries += 1
    return retries


def delivery(timeout_seconds: int | None = None, retry: int = DELIVERY_RETRY) -> dict[str, Any]:
    out: dict[str, Any] = {"retry": retry, "backoffPolicy": DELIVERY_BACKOFF_POLICY,
                           "backoffDelay": DELIVERY_BACKOFF_DELAY, "deadLetterSink": service_ref(DEAD_LETTER_SERVICE)}
    if timeout_seconds is not None:
        out["timeout"] = f"PT{timeout_seconds}S"
    return out


def knative_triggers(spec: FunctionSpec) -> list[dict[str, Any]]:
    return [{
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": metadata(trigger_name(spec.name, event_type), spec.group,
                             annotations={"rabbitmq.eventing.knative.dev/parallelism": str(TRIGGER_PARALLELISM)}),
        "spec": {"broker": BROKER_NAME, "filter": {"attributes": {"type": event_type}},
                 "subscriber": service_ref(spec.name), "delivery": delivery(watchdog_timeouts(spec)[1], retries_past_lease(spec))},
    } for event_type in event_types(spec)]


def knative_pingsource(spec: FunctionSpec) -> dict[str, Any]:
    assert isinstance(spec.trigger, ScheduleTrigger)
    return {
        "apiVersion": "sources.knative.dev/v1",
        "kind": "PingSource",
        "metadata": metadata(k8s_name(spec.name, "schedule"), spec.group),
        "spec": {"schedule": spec.trigger.cron, "timezone": "Etc/UTC", "contentType": "application/json",
                 "data": '{"function": "%s"}' % spec.name, "sink": service_ref(spec.name)},
    }


def render_broker() -> str:
    config = {
        "apiVersion": "eventing.knative.dev/v1alpha1",
        "kind": "RabbitmqBrokerConfig",
        "metadata": metadata(BROKER_CONFIG_NAME),
        "spec": {"rabbitmqClusterReference": dict(RABBITMQ_CLUSTER), "queueType": "quorum"},
    }
    broker = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": metadata(BROKER_NAME, annotations={"eventing.knative.dev/broker.class": "RabbitMQBroker"}),
        "spec": {"config": {"apiVersion": "eventing.knative.dev/v1alpha1", "kind": "RabbitmqBrokerConfig",
                            "name": BROKER_CONFIG_NAME},
                 "delivery": delivery()},
    }
    # Dead letters end in a Service that logs every event it receives (Knative's event_display); its own
    # delivery has no deadLetterSink, so a dead letter that cannot be logged stays in RabbitMQ's DLQ.
    dead_letters = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": metadata(DEAD_LETTER_SERVICE),
        "spec": {"template": {
            "metadata": {"annotations": {"autoscaling.knative.dev/min-scale": "1",
                                         "autoscaling.knative.dev/max-scale": "1"},
                         "labels": labels()},
            "spec": {"containers": [{"name": "dead-letters", "image": DEAD_LETTER_IMAGE,
                                     "ports": [{"containerPort": 8080}],
                                     # a ko image: numeric non-root user of its own
                                     "securityContext": {k: v for k, v in SECURITY_CONTEXT.items()
                                                         if k != "runAsUser"}}]},
        }},
    }
    dead_letters["metadata"]["labels"].update(CLUSTER_LOCAL)
    return dump([config, broker, dead_letters])


def render_routing() -> str:
    return dump([knative_reference_grant()])


def render_group(group: str, specs: Sequence[FunctionSpec]) -> str:
    docs: list[dict[str, Any]] = []
    for spec in specs:
        docs.append(knative_service(spec))
    for spec in specs:
        docs.extend(knative_triggers(spec))
    for spec in specs:
        if isinstance(spec.trigger, ScheduleTrigger):
            docs.append(knative_pingsource(spec))
    http_specs = [s for s in specs if isinstance(s.trigger, HttpTrigger)]
    if http_specs:
        docs.extend(knative_httproutes(group, http_specs))
    return dump(docs)
