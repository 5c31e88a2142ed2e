"""Every generated Kubernetes object against its upstream CRD as the API server applies it (crd_validation.py), and
the platform checks (manifests_platform_check.py) catching each problem issue 13 §2 found."""
from __future__ import annotations

import copy
import functools

import pytest
import yaml

from crd_validation import crd_errors, crds, defaulted
from events import catalogue as real_catalogue
from manifests_platform_check import platform_check
from manifests_support import HELM_VALUES, all_errors, load, repo_files, repo_specs, sample_files, sample_manifests


@functools.lru_cache(maxsize=1)
def _repo_objects() -> tuple[tuple[str, dict], ...]:
    files = repo_files()
    return tuple((path, doc) for path in files if path.startswith(("knative/", "openfaas/")) and path not in HELM_VALUES
                 for doc in yaml.safe_load_all(files[path]) if doc)


def test_every_committed_object_is_valid_against_its_upstream_crd_or_schema():
    objects = _repo_objects()
    kinds = {doc["kind"] for _, doc in objects}
    assert {"Service", "Trigger", "PingSource", "Broker", "RabbitmqBrokerConfig", "HTTPRoute", "ReferenceGrant",
            "NetworkPolicy", "Queue", "Binding", "Exchange"} <= kinds
    assert [f"{path}: {e}" for path, doc in objects for e in all_errors(doc)] == []


def test_every_custom_kind_has_an_upstream_crd():
    core = {("networking.k8s.io/v1", "NetworkPolicy"), ("apps/v1", "Deployment"), ("v1", "Service")}
    custom = {(doc["apiVersion"], doc["kind"]) for _, doc in _repo_objects()} - core
    assert custom <= set(crds())


def test_sample_objects_are_valid_too():
    files = sample_files()
    docs = [d for p in files if p.startswith(("knative/", "openfaas/")) and p not in HELM_VALUES
            for d in yaml.safe_load_all(files[p]) if d]
    assert [e for d in docs for e in all_errors(d)] == []


def _sample(kind: str, namespace: str | None = None) -> dict:
    """The first sample object of ``kind`` (in ``namespace``); namespace "router" is the OpenFaaS router's route."""
    files = sample_files()
    docs = [d for p in files if p.startswith(("knative/", "openfaas/")) and p not in HELM_VALUES
            for d in yaml.safe_load_all(files[p]) if d]
    if namespace == "router":
        return copy.deepcopy(next(d for d in docs if d["metadata"]["name"].startswith("openfaas-functions")))
    return copy.deepcopy(next(d for d in docs if d["kind"] == kind
                              and (namespace is None or d["metadata"].get("namespace") == namespace)))


@pytest.mark.parametrize("kind, namespace, breakage, message", [
    # the CEL rule that makes the OpenFaaS router a second hop: a prefix rewrite needs exactly one PathPrefix match
    ("HTTPRoute", "router", lambda d: d["spec"]["rules"][-1]["matches"][0].update(
        path={"type": "RegularExpression", "value": "^/x$"}), "exactly one PathPrefix match"),
    ("HTTPRoute", "eventonight", lambda d: d["spec"]["rules"][0]["matches"][0].update(
        path={"type": "Exact", "value": "/a//b"}), "must not contain '//'"),
    ("HTTPRoute", "eventonight", lambda d: d["spec"]["rules"][0].update(filtres=[]), "unknown field"),
    ("HTTPRoute", "eventonight", lambda d: d["spec"]["rules"][0]["backendRefs"][0].pop("port"), "port"),
    ("HTTPRoute", "eventonight", lambda d: d["spec"]["rules"][0].update(
        timeouts={"request": "10s", "backendRequest": "20s"}), "backendRequest timeout cannot be longer"),
    ("HTTPRoute", "eventonight", lambda d: d["spec"]["rules"][0]["filters"].append(
        d["spec"]["rules"][0]["filters"][0]), "ResponseHeaderModifier filter cannot be repeated"),
    ("Service", None, lambda d: d["spec"]["template"]["spec"].update(timeoutSecond=10), "unknown field"),
    ("Service", None, lambda d: d["spec"]["template"]["spec"]["containers"][0]["securityContext"].update(
        runAsNonRoot="yes"), "where the schema wants boolean"),
    ("Trigger", None, lambda d: d["spec"].update(broker=5), "where the schema wants string"),
    ("Queue", None, lambda d: d["spec"].pop("rabbitmqClusterReference"), "required field"),
    ("ReferenceGrant", None, lambda d: d["spec"]["from"][0].update(kind="Bad Kind"), "does not match"),
    ("RabbitmqBrokerConfig", None, lambda d: d["spec"].update(queueType="lazy"), "not one of"),
    ("Service", None, lambda d: d["metadata"].pop("namespace"), "namespace"),
])
def test_the_upstream_crds_reject_what_the_api_server_would(kind, namespace, breakage, message):
    doc = _sample(kind, namespace)
    assert crd_errors(doc) == []
    breakage(doc)
    errors = crd_errors(doc)
    assert any(message in e for e in errors), errors


def test_defaults_are_applied_before_validation():
    route = _sample("HTTPRoute", "eventonight")
    route["spec"]["rules"][0]["matches"][0].pop("path")
    assert defaulted(route)["spec"]["rules"][0]["matches"][0]["path"] == {"type": "PathPrefix", "value": "/"}
    config = _sample("RabbitmqBrokerConfig")
    config["spec"].pop("queueType")
    assert defaulted(config)["spec"]["queueType"] == "quorum"


def test_the_committed_manifests_pass_the_platform_checks():
    assert platform_check(load(repo_files(), repo_specs(), real_catalogue())) == []


def _service(m, name):
    return next(d for d in m.docs if d["kind"] == "Service" and d["metadata"]["name"] == name)


def _knative_rule(m, host_prefix):
    return next(rule for d in m.docs if d["kind"] == "HTTPRoute" for rule in d["spec"]["rules"]
                if any(f.get("urlRewrite", {}).get("hostname", "").startswith(host_prefix) for f in rule["filters"]))


def _public_openfaas_rule(m):
    return next(d for d in m.openfaas if d["kind"] == "HTTPRoute" and d["spec"].get("hostnames")
                and d["metadata"]["name"] != "notifications-realtime")["spec"]["rules"][1]


@pytest.mark.parametrize("breakage, expected", [
    # the Knative Service's own (ExternalName) Service as the backend, as before
    (lambda m: _knative_rule(m, "events-get-event.").update(backendRefs=[{"name": "events-get-event", "port": 80}]),
     "is not Knative's local gateway"),
    (lambda m: _knative_rule(m, "events-get-event.").update(filters=_knative_rule(m, "events-get-event.")
                                                            ["filters"][:1]), "which is not an HTTP function"),
    (lambda m: _knative_rule(m, "events-get-event.")["filters"][1]["urlRewrite"].update(
        hostname="notifications-on-social.eventonight.svc.cluster.local"), "'notifications-on-social', which is not"),
    (lambda m: _public_openfaas_rule(m)["filters"][1]["requestHeaderModifier"]["set"][0].update(
        value="ticketing-release-expired"), "'ticketing-release-expired', which is not an HTTP function"),
    (lambda m: _knative_rule(m, "events-update-event.")["matches"][0]["path"].update(value="/events/[^/]+/details"),
     "is not anchored"),
    (lambda m: _knative_rule(m, "events-get-event.")["filters"].pop(0), "without the CORS headers"),
    (lambda m: m.stack["functions"]["notifications-on-social"]["annotations"].update(
        topic="event.published,user.followed"), "needs a delimiter"),
    (lambda m: m.openfaas.remove(next(d for d in m.openfaas if d["kind"] == "Binding")), "bound to"),
    (lambda m: m.stack["functions"]["users-register"]["environment"].update(write_timeout="15s"), "of-watchdog"),
    (lambda m: m.values["openfaas/openfaas-values.yaml"]["gateway"].update(upstreamTimeout="20s"),
     "not below the gateway's upstream"),
    (lambda m: m.values["openfaas/openfaas-values.yaml"]["gateway"].update(writeTimeout="30s"),
     "OpenFaaS gateway timeouts"),
    (lambda m: _service(m, "users-register")["spec"]["template"]["spec"]["containers"][0].pop("securityContext"),
     "is not the restricted one"),
    (lambda m: _service(m, "users-register")["metadata"]["labels"].pop("networking.knative.dev/visibility"),
     "not cluster-local"),
    (lambda m: _service(m, "users-register")["spec"]["template"]["metadata"]["annotations"].update(
        {"autoscaling.knative.dev/min-scale": "0"}), "Knative autoscaling"),
    (lambda m: m.stack["functions"]["users-register"]["labels"].pop("com.openfaas.scale.max"), "OpenFaaS scale"),
    (lambda m: m.stack["functions"]["users-register"].update(limits={"memory": "1Gi"}), "requests/limits"),
    (lambda m: m.docs.remove(next(d for d in m.docs if d["kind"] == "ReferenceGrant")), "ReferenceGrant"),
    (lambda m: next(d for d in m.openfaas if d["kind"] == "NetworkPolicy")["spec"]["ingress"][0]["from"].append(
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "default"}}}), "NetworkPolicy admits"),
    (lambda m: _service(m, "users-register")["spec"]["template"]["spec"]["containers"][0]["env"].append(
        {"name": "PORT", "value": "1"}), "reserved by Knative"),
])
def test_the_platform_checks_catch_each_problem(breakage, expected):
    m = sample_manifests()
    assert platform_check(m) == []
    breakage(m)
    problems = platform_check(m)
    assert any(expected in p for p in problems), problems
