"""Knative documents: every committed one valid against its kind's schema, the concrete Services, Triggers,
PingSources and broker rendered from the sample declarations, and the schemas rejecting bad documents."""
from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml

from deploy import generate
from deploy.generate import render
from manifests_support import (
    all_errors,
    container_of,
    docs_of,
    repo_files,
    repo_specs,
    sample_files,
    schema_errors,
    stack_errors,
    substitute,
)

# ---- schemas over the committed manifests ---------------------------------------------------------------------

def test_every_knative_document_is_valid_against_the_project_schemas():
    files = repo_files()
    knative = [p for p in files if p.startswith("knative/")]
    assert "knative/broker.yaml" in knative
    errors = []
    for path in knative:
        for doc in yaml.safe_load_all(files[path]):
            errors += [f"{path}: {e}" for e in schema_errors(doc)]
    assert errors == []  # the upstream CRDs: test_upstream.py


# ---- render: concrete values ----------------------------------------------------------------------------------

def test_render_with_zero_functions_emits_the_broker():
    files = render([], {})
    assert sorted(files) == ["events/asyncapi.yaml", "knative/broker.yaml", "knative/routing.yaml",
                             "openfaas/network-policy.yaml", "openfaas/openfaas-values.yaml",
                             "openfaas/rabbitmq-connector-values.yaml", "openfaas/rabbitmq.yaml",
                             "openfaas/routes.yaml", "stack.yml"]
    assert [d["kind"] for d in docs_of(files, "knative/broker.yaml")] == ["RabbitmqBrokerConfig", "Broker", "Service"]
    stack = yaml.safe_load(substitute(files["stack.yml"]))
    assert stack["functions"] == {} and stack_errors(stack) == []
    assert [e for d in docs_of(files, "knative/broker.yaml") for e in all_errors(d)] == []


def test_render_event_function_with_two_types():
    files = sample_files()
    stack = yaml.safe_load(files["stack.yml"])
    fn = stack["functions"]["notifications-on-social"]
    assert fn["annotations"]["topic"] == "eventonight.notifications-on-social"  # its queue: no delimiter needed
    assert fn["annotations"]["com.eventonight.events"] == "event.published,user.followed"
    assert [fn["environment"][k] for k in ("exec_timeout", "read_timeout", "write_timeout")] == ["20s", "22s", "22s"]
    assert "FUNCTION_TIMEOUT_SECONDS" not in fn["environment"]  # nothing reads it any more
    docs = docs_of(files, "knative/notifications.yaml")
    triggers = [d for d in docs if d["kind"] == "Trigger"]
    assert [t["spec"]["filter"] for t in triggers] == [{"attributes": {"type": "event.published"}},
                                                       {"attributes": {"type": "user.followed"}}]
    assert [t["metadata"]["name"] for t in triggers] == ["notifications-on-social-event-published",
                                                         "notifications-on-social-user-followed"]
    for t in triggers:
        assert t["spec"]["broker"] == "eventonight"
        assert t["spec"]["subscriber"] == {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service",
                                                   "name": "notifications-on-social"}}
        assert t["spec"]["delivery"] == {"retry": 5, "backoffPolicy": "exponential", "backoffDelay": "PT1S",
                                         "timeout": "PT22S", "deadLetterSink": {"ref": {
                                             "apiVersion": "serving.knative.dev/v1", "kind": "Service",
                                             "name": "eventonight-dead-letters"}}}
        assert "filters" not in t["spec"]
    service = next(d for d in docs if d["kind"] == "Service")
    assert service["metadata"]["labels"]["networking.knative.dev/visibility"] == "cluster-local"
    assert service["spec"]["template"]["spec"]["timeoutSeconds"] == 20
    container = container_of(service)
    assert container["command"] == ["python", "-m", "runtime.adapters.knative_main"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["PYTHONPATH"] == "/home/app/function" and env["FUNCTION_NAME"] == "notifications-on-social"
    assert "MONGO_URI" not in env and "AMQP_URL" not in env  # credentials come from mounted secrets
    assert "${" not in "".join(env.values())
    assert container["readinessProbe"] == {"httpGet": {"path": "/health/readiness"}}
    assert not [d for d in docs if d["kind"] == "HTTPRoute"]
    assert not [d for d in docs if d["kind"] == "PingSource"]


def test_every_triggers_retries_outlast_its_functions_lease():
    """A redelivery after a crashed attempt meets the key in progress (409) until the lease lapses: the retries
    (exponential from 1 s: 2**retry - 1 s in all) must reach the take-over, not the dead letters."""
    leases = {spec.name: spec.lease_seconds for spec in repo_specs() if spec.state_changing}
    files = repo_files()
    short, longer = [], 0
    for path in [p for p in files if p.startswith("knative/")]:
        for doc in yaml.safe_load_all(files[path]):
            if doc and doc["kind"] == "Trigger" and doc["spec"]["subscriber"]["ref"]["name"] in leases:
                delivery, lease = doc["spec"]["delivery"], leases[doc["spec"]["subscriber"]["ref"]["name"]]
                assert (delivery["backoffPolicy"], delivery["backoffDelay"]) == ("exponential", "PT1S")
                if 2 ** delivery["retry"] - 1 <= lease:
                    short.append(doc["metadata"]["name"])
                longer += delivery["retry"] > 5
    assert short == [] and longer > 0  # the 30 s and 60 s functions (35 s, 65 s leases) get 6 and 7


def test_render_scheduled_function():
    files = sample_files()
    stack = yaml.safe_load(files["stack.yml"])
    fn = stack["functions"]["ticketing-release-expired"]
    assert fn["annotations"]["topic"] == "cron-function"
    assert fn["annotations"]["schedule"] == "*/5 * * * *"
    assert fn["secrets"] == ["amqp-url", "event-signing-keys", "mongo-uri", "stripe"]  # it emits: it signs
    docs = docs_of(files, "knative/ticketing.yaml")
    (ping,) = [d for d in docs if d["kind"] == "PingSource"]
    assert ping["apiVersion"] == "sources.knative.dev/v1"
    assert ping["spec"]["schedule"] == "*/5 * * * *"
    assert ping["spec"]["sink"]["ref"]["name"] == "ticketing-release-expired"
    service = next(d for d in docs if d["kind"] == "Service")
    pod = service["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "secrets", "projected": {"sources": [
        {"secret": {"name": s, "items": [{"key": s, "path": s}]}} for s in fn["secrets"]]}}]
    assert container_of(service)["volumeMounts"] == [{"name": "secrets", "mountPath": "/var/openfaas/secrets",
                                                       "readOnly": True}]


def test_long_trigger_names_stay_dns_labels():
    name = generate.trigger_name("notifications-on-a-very-long-function-name", "payments.order.confirmed.v1")
    assert len(name) <= 63 and re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", name)


# ---- the schemas reject bad manifests -------------------------------------------------------------------------

def _sample_doc(kind: str, name: str | None = None) -> dict[str, Any]:
    files = sample_files()
    docs = [d for p in files if p.startswith("knative/") for d in docs_of(files, p)]
    return copy.deepcopy(next(d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)))


@pytest.mark.parametrize("kind, breakage", [
    ("Trigger", lambda d: d["spec"].update(filtr=d["spec"].pop("filter"))),
    ("Trigger", lambda d: d["spec"]["delivery"].update(backoffPolicy="sideways")),
    ("Trigger", lambda d: d["spec"].update(filters=[{"prefix": {"type": "user."}}])),
    ("Trigger", lambda d: d["spec"]["delivery"].update(timeout="30s")),
    ("Trigger", lambda d: d["spec"]["delivery"].update(backoffDelay="PT")),
    ("Trigger", lambda d: d["metadata"]["annotations"].update({"rabbitmq.eventing.knative.dev/parallelism": "1001"})),
    ("Trigger", lambda d: d["metadata"]["annotations"].update({"rabbitmq.eventing.knative.dev/parallelism": "0"})),
    ("Trigger", lambda d: d["spec"]["delivery"].update(retry=-1)),
    ("Trigger", lambda d: d["metadata"].update(name="Bad_Name")),
    ("Trigger", lambda d: d["spec"]["subscriber"]["ref"].update(nmae="x")),
    ("Broker", lambda d: d["metadata"]["annotations"].update({"eventing.knative.dev/broker.class": "MTChannelBasedBroker"})),
    ("Broker", lambda d: d["metadata"].pop("annotations")),
    ("Broker", lambda d: d["spec"]["delivery"].update(backoffPolicy="sideways")),
    ("RabbitmqBrokerConfig", lambda d: d["spec"].update(queueType="lazy")),
    ("RabbitmqBrokerConfig", lambda d: d["spec"].update(queue_type="quorum")),
    ("Service", lambda d: d["spec"]["template"]["spec"].update(timeoutSecond=10)),
    ("Service", lambda d: container_of(d).update(imagePullPolicy="Always")),
    ("Service", lambda d: container_of(d)["env"].append({"name": "X", "value": "${X:-y}"})),
    ("Service", lambda d: container_of(d)["env"].append({"name": "X", "value": 5})),
    ("Service", lambda d: d["spec"]["template"]["metadata"]["annotations"]
     .update({"autoscaling.knative.dev/min-scale": "zero"})),
    ("PingSource", lambda d: d["spec"].update(schedule="every five minutes")),
    ("PingSource", lambda d: d["spec"].update(sinc=d["spec"].pop("sink"))),
    ("HTTPRoute", lambda d: d["spec"]["rules"][0]["matches"][0]["path"].update(type="Regex")),
    ("HTTPRoute", lambda d: d["spec"]["rules"][0]["matches"][0].update(method="FETCH")),
    ("HTTPRoute", lambda d: d["spec"].update(hostnames=["Events.Example"])),
    ("HTTPRoute", lambda d: d["spec"]["rules"].extend([copy.deepcopy(d["spec"]["rules"][0])] * 16)),
    ("HTTPRoute", lambda d: d["spec"]["rules"][0]["filters"][0].update(type="CORS")),
    ("HTTPRoute", lambda d: d["spec"]["rules"][0]["backendRefs"][0].pop("port")),
    ("Service", lambda d: container_of(d).pop("securityContext")),
    ("Service", lambda d: container_of(d)["securityContext"].update(allowPrivilegeEscalation=True)),
])
def test_schemas_reject_bad_knative_manifests(kind, breakage):
    doc = _sample_doc(kind, "users-register" if kind == "Service" else None)
    assert all_errors(doc) == []
    breakage(doc)
    assert all_errors(doc) != []
