"""Shared by the tests/deploy modules: loading the manifests (faas-cli style substitution, every knative/ and openfaas/
document), the project's strict schemas and the upstream CRDs as validators, and a small hand-built declaration set
rendered into sample manifests."""
from __future__ import annotations

import glob
import json
import os
import re
from dataclasses import dataclass
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from crd_validation import crd_errors, crds
from deploy.generate import REPO_ROOT, render
from runtime.contract import FunctionSpec, every, function, http, on_event
from runtime.registry import FUNCTIONS_DIR, discover

ROOT = REPO_ROOT
SCHEMAS = os.path.join(ROOT, "deploy", "schemas")
# The project's strict schemas, where they say more than the upstream CRDs (names, ${} in env, the security
# context, parallelism, no spec.filters, the broker class); every CRD kind is also checked against its upstream CRD.
KIND_SCHEMAS = {("serving.knative.dev/v1", "Service"): "knative/service",
                ("eventing.knative.dev/v1", "Broker"): "knative/broker",
                ("eventing.knative.dev/v1alpha1", "RabbitmqBrokerConfig"): "knative/rabbitmqbrokerconfig",
                ("eventing.knative.dev/v1", "Trigger"): "knative/trigger",
                ("sources.knative.dev/v1", "PingSource"): "knative/pingsource",
                ("networking.k8s.io/v1", "NetworkPolicy"): "networkpolicy",
                # core kinds (the Socket.IO service's, deploy/realtime.py): no CRD, so only the project's schema
                ("apps/v1", "Deployment"): "kubernetes/deployment", ("v1", "Service"): "kubernetes/service"}
HELM_VALUES = ("openfaas/openfaas-values.yaml", "openfaas/rabbitmq-connector-values.yaml")


# ---- loading --------------------------------------------------------------------------------------------------

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def substitute(text: str, environ: dict[str, str] | None = None) -> str:
    """``${VAR}``, ``${VAR:-default}`` and ``$VAR`` as faas-cli's envsubst does (unset → empty or the default)."""
    environ = environ or {}

    def one(m: re.Match) -> str:
        name = m.group(1) or m.group(3)
        value = environ.get(name, "")
        if m.group(2) is not None and value == "":
            return m.group(2)
        return value

    return _VAR.sub(one, text)


def _schemas() -> tuple[dict[str, Draft202012Validator], Draft202012Validator]:
    """One validator per (apiVersion, kind), and one for stack.yml; the schemas refer to each other by $id."""
    resources = []
    for path in glob.glob(os.path.join(SCHEMAS, "**", "*.schema.json"), recursive=True):
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        Draft202012Validator.check_schema(schema)
        resources.append((schema["$id"], Resource.from_contents(schema)))
    registry = Registry().with_resources(resources)
    base = "https://eventonight.example/schemas/"

    def validator(rel: str) -> Draft202012Validator:
        return Draft202012Validator(registry.contents(base + rel), registry=registry)

    kinds = {kind: validator(f"{name}.schema.json") for kind, name in KIND_SCHEMAS.items()}
    return kinds, validator("stack.schema.json")


KIND_VALIDATORS, STACK_VALIDATOR = _schemas()


def schema_errors(doc: Any) -> list[str]:
    """Every violation of the project's strict schema for the document's kind, if it has one."""
    key = (doc.get("apiVersion"), doc.get("kind")) if isinstance(doc, dict) else (None, None)
    if key not in KIND_VALIDATORS:
        return [] if key in crds() else [f"no schema for kind {key[1]!r} ({key[0]})"]
    return [f"{key[1]} {doc.get('metadata', {}).get('name')}: /{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in KIND_VALIDATORS[key].iter_errors(doc)]


def all_errors(doc: Any) -> list[str]:
    """The project's schema and, for a custom resource, its upstream CRD as the API server applies it."""
    upstream = crd_errors(doc) if (doc.get("apiVersion"), doc.get("kind")) in crds() else []
    return schema_errors(doc) + upstream


def stack_errors(stack: Any) -> list[str]:
    return [f"stack.yml /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in STACK_VALIDATOR.iter_errors(stack)]


@dataclass
class Manifests:
    specs: list[FunctionSpec]
    catalogue: dict[str, Any]
    stack: dict[str, Any]  # after ${VAR:-default} substitution with an empty environment
    docs: list[dict[str, Any]]  # every knative/ document
    asyncapi: dict[str, Any]
    openfaas: list[dict[str, Any]]  # every openfaas/ object (routes, network policies, RabbitMQ topology)
    values: dict[str, dict[str, Any]]  # the generated Helm values files, by path

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d.get("kind") == kind]

    def openfaas_of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.openfaas if d.get("kind") == kind]


def load(files: dict[str, str], specs: list[FunctionSpec], catalogue: dict[str, Any]) -> Manifests:
    docs, openfaas = [], []
    for path in sorted(p for p in files if p.startswith("knative/")):
        docs += [d for d in yaml.safe_load_all(files[path]) if d is not None]
    for path in sorted(p for p in files if p.startswith("openfaas/") and p not in HELM_VALUES):
        openfaas += [d for d in yaml.safe_load_all(files[path]) if d is not None]
    return Manifests(specs=specs, catalogue=catalogue, stack=yaml.safe_load(substitute(files["stack.yml"])),
                     docs=docs, asyncapi=yaml.safe_load(files["events/asyncapi.yaml"]), openfaas=openfaas,
                     values={p: yaml.safe_load(files[p]) for p in HELM_VALUES if p in files})

def repo_files() -> dict[str, str]:
    paths = ["stack.yml", "events/asyncapi.yaml"]
    for folder in ("knative", "openfaas"):
        paths += sorted(os.path.relpath(p, ROOT).replace(os.sep, "/")
                        for p in glob.glob(os.path.join(ROOT, folder, "**", "*.y*ml"), recursive=True))
    files = {}
    for path in paths:
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            files[path] = f.read()
    return files


def repo_specs() -> list[FunctionSpec]:
    return discover() if os.path.isdir(FUNCTIONS_DIR) else []


# ---- a small hand-built declaration set -----------------------------------------------------------------------

def declare(module: str, decorator) -> FunctionSpec:
    def main(event, ctx):  # pragma: no cover - never invoked here
        return None

    main.__module__ = module
    return decorator(main)


SAMPLE_CATALOGUE = {t: {"type": "object"} for t in
                    ("user.created", "user.followed", "event.published", "notification.created",
                     "payments.order.expired")}


def sample_specs() -> list[FunctionSpec]:
    return [
        declare("functions.users.register.handler",
                function("users-register", http("POST", "/register"), emits=["user.created"],
                         secrets=["keycloak-admin"], timeout_seconds=15)),
        declare("functions.events.get_event.handler",
                function("events-get-event", http("GET", "/events/{eventId}"))),
        declare("functions.events.update_event.handler",
                function("events-update-event", http("PUT", "/events/{eventId}/details.json"), roles=["organization"])),
        declare("functions.notifications.on_social.handler",
                function("notifications-on-social", on_event("user.followed", "event.published"),
                         emits=["notification.created"], timeout_seconds=20)),
        declare("functions.ticketing.release_expired.handler",
                function("ticketing-release-expired", every("*/5 * * * *"), emits=["payments.order.expired"],
                         secrets=["stripe"], timeout_seconds=30)),
    ]


def sample_files() -> dict[str, str]:
    return render(sample_specs(), SAMPLE_CATALOGUE)


def sample_manifests() -> Manifests:
    return load(sample_files(), sample_specs(), SAMPLE_CATALOGUE)


# ---- reading documents ----------------------------------------------------------------------------------------

def container_of(service: dict[str, Any]) -> dict[str, Any]:
    return service["spec"]["template"]["spec"]["containers"][0]


def docs_of(files: dict[str, str], path: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(files[path]) if d]
