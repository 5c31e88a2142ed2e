"""The generated deployment manifests: no drift, strict schemas, cross-platform consistency (design §9).

The cross-checks run twice: on the committed files with the real declarations, and on the manifests rendered
from a small hand-built set of functions (so they have something to bite on while functions/ is still filling up).
"""
from __future__ import annotations

import copy
import glob
import json
import os
import re
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from deploy import generate
from deploy.generate import HEADER, render, route_path
from events import catalogue as real_catalogue
from runtime.config import LEASE_MARGIN_SECONDS
from runtime.contract import EventTrigger, FunctionSpec, HttpTrigger, ScheduleTrigger, every, function, http, on_event
from runtime.registry import FUNCTIONS_DIR, discover, function_folders

ROOT = generate.REPO_ROOT
SCHEMAS = os.path.join(ROOT, "deploy", "schemas")
KIND_SCHEMAS = {"Service": "service", "Broker": "broker", "RabbitmqBrokerConfig": "rabbitmqbrokerconfig",
                "Trigger": "trigger", "PingSource": "pingsource", "HTTPRoute": "httproute"}


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


def _schemas() -> tuple[Registry, dict[str, Draft202012Validator], Draft202012Validator]:
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

    kinds = {kind: validator(f"knative/{name}.schema.json") for kind, name in KIND_SCHEMAS.items()}
    return registry, kinds, validator("stack.schema.json")


_, KNATIVE_VALIDATORS, STACK_VALIDATOR = _schemas()


def schema_errors(doc: Any) -> list[str]:
    """Every schema violation of one Knative document (by its kind) as readable lines."""
    kind = doc.get("kind") if isinstance(doc, dict) else None
    if kind not in KNATIVE_VALIDATORS:
        return [f"no schema for kind {kind!r}"]
    return [f"{kind} {doc.get('metadata', {}).get('name')}: /{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in KNATIVE_VALIDATORS[kind].iter_errors(doc)]


def stack_errors(stack: Any) -> list[str]:
    return [f"stack.yml /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in STACK_VALIDATOR.iter_errors(stack)]


@dataclass
class Manifests:
    specs: list[FunctionSpec]
    catalogue: dict[str, Any]
    stack: dict[str, Any]  # after ${VAR:-default} substitution with an empty environment
    docs: list[dict[str, Any]]  # every knative/ document
    asyncapi: dict[str, Any]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d.get("kind") == kind]


def load(files: dict[str, str], specs: list[FunctionSpec], catalogue: dict[str, Any]) -> Manifests:
    docs = []
    for path in sorted(p for p in files if p.startswith("knative/")):
        docs += [d for d in yaml.safe_load_all(files[path]) if d is not None]
    return Manifests(specs=specs, catalogue=catalogue, stack=yaml.safe_load(substitute(files["stack.yml"])),
                     docs=docs, asyncapi=yaml.safe_load(files["events/asyncapi.yaml"]))


def repo_files() -> dict[str, str]:
    paths = ["stack.yml", "events/asyncapi.yaml"]
    paths += sorted(os.path.relpath(p, ROOT).replace(os.sep, "/")
                    for p in glob.glob(os.path.join(ROOT, "knative", "**", "*.y*ml"), recursive=True))
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


# ---- cross-checks ---------------------------------------------------------------------------------------------

def _container(service: dict[str, Any]) -> dict[str, Any]:
    return service["spec"]["template"]["spec"]["containers"][0]


def _ref_name(destination: dict[str, Any] | None) -> str | None:
    return ((destination or {}).get("ref") or {}).get("name")


def cross_check(m: Manifests) -> list[str]:
    """Every inconsistency between the declarations, stack.yml, knative/ and the catalogue."""
    problems: list[str] = []
    specs = {s.name: s for s in m.specs}
    stack_fns: dict[str, Any] = m.stack.get("functions") or {}
    services = {d["metadata"]["name"]: d for d in m.of_kind("Service")}
    triggers, pings, routes = m.of_kind("Trigger"), m.of_kind("PingSource"), m.of_kind("HTTPRoute")
    brokers = {d["metadata"]["name"]: d for d in m.of_kind("Broker")}
    configs = {d["metadata"]["name"] for d in m.of_kind("RabbitmqBrokerConfig")}

    # every function on both platforms, one image
    if set(stack_fns) != set(specs):
        problems.append(f"stack.yml functions {sorted(stack_fns)} != declared {sorted(specs)}")
    for name in sorted(set(specs) - set(services)):
        problems.append(f"{name}: no Knative Service")
    for name, fn in sorted(stack_fns.items()):
        if name not in services:
            continue
        container = _container(services[name])
        if fn.get("image") != container.get("image"):
            problems.append(f"{name}: image {fn.get('image')} on OpenFaaS, {container.get('image')} on Knative")
        kenv = {e["name"]: e["value"] for e in container.get("env", [])}
        if kenv != fn.get("environment"):
            problems.append(f"{name}: environment differs between stack.yml and its Knative Service")
        if container.get("command") != generate.KNATIVE_COMMAND:
            problems.append(f"{name}: Knative command {container.get('command')}")
        # secrets: the same names, at the OpenFaaS path
        secrets = sorted(fn.get("secrets") or [])
        pod = services[name]["spec"]["template"]["spec"]
        mounted = sorted(src["secret"]["name"] for v in pod.get("volumes", []) for src in v.get("projected", {})
                         .get("sources", []))
        if secrets != mounted:
            problems.append(f"{name}: secrets {secrets} on OpenFaaS, {mounted} on Knative")
        if secrets and [vm.get("mountPath") for vm in container.get("volumeMounts", [])] != [generate.SECRETS_DIR]:
            problems.append(f"{name}: secrets not mounted at {generate.SECRETS_DIR}")
        spec = specs.get(name)
        if spec is not None:
            if fn.get("handler") != "./" + generate.folder_path(spec):
                problems.append(f"{name}: handler {fn.get('handler')} is not its folder")
            if secrets != sorted(set(spec.secrets)):
                problems.append(f"{name}: secrets {secrets} != declared {sorted(spec.secrets)}")

    # topics == triggers == declarations; schedules; every type in the catalogue
    for trigger in triggers:
        if _ref_name(trigger["spec"].get("subscriber")) not in specs:
            problems.append(f"Trigger {trigger['metadata']['name']} subscribes no declared function")
    for name, spec in sorted(specs.items()):
        annotations = (stack_fns.get(name) or {}).get("annotations") or {}
        topic = annotations.get("topic")
        trigger_types = sorted(t["spec"]["filter"]["attributes"]["type"] for t in triggers
                               if _ref_name(t["spec"].get("subscriber")) == name)
        my_pings = [p for p in pings if _ref_name(p["spec"].get("sink")) == name]
        if len(trigger_types) != len(set(trigger_types)):
            problems.append(f"{name}: two Triggers for one type")
        if isinstance(spec.trigger, EventTrigger):
            declared = sorted(set(spec.trigger.types))
            topics = sorted(topic.split(",")) if topic else []
            if not (topics == sorted(set(trigger_types)) == declared):
                problems.append(f"{name}: topic {topics}, Triggers {trigger_types}, declared {declared}")
        elif isinstance(spec.trigger, ScheduleTrigger):
            if topic != "cron-function" or annotations.get("schedule") != spec.trigger.cron:
                problems.append(f"{name}: cron-connector annotations {topic!r} {annotations.get('schedule')!r}")
            if [p["spec"]["schedule"] for p in my_pings] != [spec.trigger.cron]:
                problems.append(f"{name}: PingSources {[p['spec']['schedule'] for p in my_pings]}")
        if not isinstance(spec.trigger, EventTrigger) and trigger_types:
            problems.append(f"{name}: Triggers {trigger_types} but not event-triggered")
        if not isinstance(spec.trigger, ScheduleTrigger) and my_pings:
            problems.append(f"{name}: a PingSource but not scheduled")
        if isinstance(spec.trigger, HttpTrigger) and topic is not None:
            problems.append(f"{name}: HTTP function with topic {topic!r}")
        loops = sorted(set(spec.emits) & set(trigger_types))
        if loops:
            problems.append(f"{name}: triggered by types it emits {loops} (reply loop)")
        for event_type in sorted({*trigger_types, *spec.emits, *(topic.split(",") if topic and
                                                                  topic != "cron-function" else [])}):
            if event_type not in m.catalogue:
                problems.append(f"{name}: event type {event_type} is not in the catalogue")

    # timeouts agree and stay inside the idempotency lease
    for name, spec in sorted(specs.items()):
        t = spec.timeout_seconds
        env = (stack_fns.get(name) or {}).get("environment") or {}
        seen = {"FUNCTION_TIMEOUT_SECONDS": env.get("FUNCTION_TIMEOUT_SECONDS"),
                "exec_timeout": env.get("exec_timeout"), "read_timeout": env.get("read_timeout"),
                "write_timeout": env.get("write_timeout")}
        want = {"FUNCTION_TIMEOUT_SECONDS": str(t), "exec_timeout": f"{t}s", "read_timeout": f"{t}s",
                "write_timeout": f"{t}s"}
        if seen != want:
            problems.append(f"{name}: of-watchdog timeouts {seen} != {want}")
        if name in services and services[name]["spec"]["template"]["spec"].get("timeoutSeconds") != t:
            problems.append(f"{name}: Knative timeoutSeconds != {t}")
        for trig in triggers:
            if _ref_name(trig["spec"].get("subscriber")) == name and trig["spec"]["delivery"].get("timeout") != f"PT{t}S":
                problems.append(f"{name}: Trigger {trig['metadata']['name']} delivery timeout != PT{t}S")
        if not t < t + LEASE_MARGIN_SECONDS:
            problems.append(f"{name}: timeout {t}s is not inside the idempotency lease")

    # references resolve
    def must_be_service(where: str, destination: dict[str, Any] | None) -> None:
        ref = (destination or {}).get("ref") or {}
        if ref.get("apiVersion") != "serving.knative.dev/v1" or ref.get("kind") != "Service" \
                or ref.get("name") not in services:
            problems.append(f"{where}: {ref} is not a generated Knative Service")

    for bname, broker in sorted(brokers.items()):
        must_be_service(f"Broker {bname} deadLetterSink", broker["spec"]["delivery"].get("deadLetterSink"))
        if broker["spec"]["config"]["name"] not in configs:
            problems.append(f"Broker {bname}: config {broker['spec']['config']['name']} not generated")
    for trig in triggers:
        where = f"Trigger {trig['metadata']['name']}"
        must_be_service(where + " subscriber", trig["spec"].get("subscriber"))
        must_be_service(where + " deadLetterSink", trig["spec"]["delivery"].get("deadLetterSink"))
        if trig["spec"].get("broker") not in brokers:
            problems.append(f"{where}: broker {trig['spec'].get('broker')} not generated")
    for ping in pings:
        must_be_service(f"PingSource {ping['metadata']['name']} sink", ping["spec"].get("sink"))

    # HTTP: exactly one rule per function on its group's host; no (host, method, path) twice
    seen_routes: dict[tuple[str, str, str], str] = {}
    rules_of: dict[str, list[tuple[list[str], dict[str, Any]]]] = {}
    for route in routes:
        hosts = route["spec"]["hostnames"]
        for rule in route["spec"]["rules"]:
            for backend in rule["backendRefs"]:
                if backend["name"] not in services:
                    problems.append(f"HTTPRoute {route['metadata']['name']}: backend {backend['name']} not generated")
                spec = specs.get(backend["name"])
                if spec is not None and any(h.split(".")[0] != spec.group for h in hosts):
                    problems.append(f"HTTPRoute {route['metadata']['name']}: {spec.name} on host {hosts}")
            for match in rule["matches"]:
                if match.get("method") == "OPTIONS":
                    continue  # the CORS preflight rule
                for backend in rule["backendRefs"]:
                    rules_of.setdefault(backend["name"], []).append((hosts, match))
                for host in hosts:
                    key = (host, match.get("method"), match["path"]["value"])
                    if key in seen_routes:
                        problems.append(f"{key} routed to both {seen_routes[key]} and {rule['backendRefs']}")
                    seen_routes[key] = str(rule["backendRefs"])
    for name, spec in sorted(specs.items()):
        found = rules_of.get(name, [])
        if not isinstance(spec.trigger, HttpTrigger):
            if found:
                problems.append(f"{name}: routed over HTTP but not HTTP-triggered")
            continue
        want_host = f"{spec.group}.{generate.DOMAIN}"
        if len(found) != 1:
            problems.append(f"{name}: {len(found)} HTTPRoute matches, want 1")
            continue
        hosts, match = found[0]
        if hosts != [want_host] or match.get("method") != spec.trigger.method \
                or match["path"] != route_path(spec.trigger.path):
            problems.append(f"{name}: route {hosts} {match} != {want_host} {spec.trigger.method} {spec.trigger.path}")
        sample = re.sub(r"\{[^}]+\}", "p1x", spec.trigger.path)
        if match["path"]["type"] == "RegularExpression" and not re.fullmatch(match["path"]["value"], sample):
            problems.append(f"{name}: route regex {match['path']['value']} does not match {sample}")

    # the AsyncAPI document lists the catalogue with the declared producers and consumers
    channels = m.asyncapi.get("channels") or {}
    if sorted(channels) != sorted(m.catalogue):
        problems.append(f"asyncapi channels {sorted(channels)} != catalogue {sorted(m.catalogue)}")
    for event_type, channel in channels.items():
        producers = sorted(s.name for s in m.specs if event_type in s.emits)
        consumers = sorted(s.name for s in m.specs if isinstance(s.trigger, EventTrigger) and event_type in s.trigger.types)
        if channel.get("x-producers") != producers or channel.get("x-consumers") != consumers:
            problems.append(f"asyncapi {event_type}: producers/consumers out of date")
    return problems


# ---- (a) drift ------------------------------------------------------------------------------------------------

def test_committed_files_equal_a_fresh_render():
    files = render(repo_specs(), real_catalogue())
    assert generate.drift(files) == [], "run: python -m deploy.generate"


def test_check_cli_reports_no_drift(capsys):
    assert generate.main(["--check"]) == 0


def test_generated_files_carry_the_header():
    for path, text in render(repo_specs(), real_catalogue()).items():
        assert text.startswith(HEADER), path


# ---- (b) schemas over the committed manifests -----------------------------------------------------------------

def test_stack_yml_is_valid_after_substitution():
    with open(os.path.join(ROOT, "stack.yml"), encoding="utf-8") as f:
        stack = yaml.safe_load(substitute(f.read()))
    assert stack_errors(stack) == []


def test_every_knative_document_is_valid():
    files = repo_files()
    knative = [p for p in files if p.startswith("knative/")]
    assert "knative/broker.yaml" in knative
    errors = []
    for path in knative:
        for doc in yaml.safe_load_all(files[path]):
            errors += [f"{path}: {e}" for e in schema_errors(doc)]
    assert errors == []


def test_asyncapi_lists_the_catalogue():
    with open(os.path.join(ROOT, "events", "asyncapi.yaml"), encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    assert doc["asyncapi"] == "2.6.0"
    assert sorted(doc["channels"]) == sorted(real_catalogue())


# ---- (c) cross-checks -----------------------------------------------------------------------------------------

def test_repo_manifests_are_consistent():
    m = load(repo_files(), repo_specs(), real_catalogue())
    assert cross_check(m) == []


def test_every_handler_folder_is_complete():
    if not os.path.isdir(FUNCTIONS_DIR):
        pytest.skip("no functions/ yet")
    missing = []
    for group, folder in function_folders():
        for name in ("handler.py", "__init__.py", "requirements.txt"):
            if not os.path.isfile(os.path.join(FUNCTIONS_DIR, group, folder, name)):
                missing.append(f"functions/{group}/{folder}/{name}")
    assert missing == []


def test_handler_modules_export_both_entry_points():
    import importlib

    for spec in repo_specs():
        module = importlib.import_module(generate.folder_path(spec).replace("/", ".") + ".handler")
        assert callable(getattr(module, "handle", None)), f"{spec.name}: handler.py must export handle"
        assert getattr(module, "new", None) is not None, f"{spec.name}: handler.py must export new"


def test_sample_manifests_are_valid_and_consistent():
    m = sample_manifests()
    assert stack_errors(m.stack) == []
    assert [e for d in m.docs for e in schema_errors(d)] == []
    assert cross_check(m) == []


@pytest.mark.parametrize("breakage, expected", [
    (lambda m: m.stack["functions"]["notifications-on-social"]["annotations"].update(topic="user.followed"),
     "notifications-on-social: topic"),
    (lambda m: m.docs.remove(next(d for d in m.docs if d["kind"] == "Trigger")), "notifications-on-social: topic"),
    (lambda m: m.stack["functions"]["users-register"]["environment"].update(exec_timeout="60s"), "of-watchdog timeouts"),
    (lambda m: next(d for d in m.docs if d["kind"] == "Service" and d["metadata"]["name"] == "events-get-event")
     ["spec"]["template"]["spec"].update(timeoutSeconds=99), "Knative timeoutSeconds"),
    (lambda m: next(d for d in m.docs if d["kind"] == "Trigger")["spec"]["delivery"].update(timeout="PT99S"),
     "delivery timeout"),
    (lambda m: next(d for d in m.docs if d["kind"] == "Trigger")["spec"]["delivery"]["deadLetterSink"]["ref"]
     .update(name="nowhere"), "deadLetterSink"),
    (lambda m: next(d for d in m.docs if d["kind"] == "Trigger")["spec"]["subscriber"]["ref"]
     .update(name="ghost"), "subscribes no declared function"),
    (lambda m: _container(next(d for d in m.docs if d["kind"] == "Service" and
                               d["metadata"]["name"] == "users-register")).update(image="other:1"), "image"),
    (lambda m: m.stack["functions"].pop("events-get-event"), "stack.yml functions"),
    (lambda m: next(d for d in m.docs if d["kind"] == "HTTPRoute")["spec"]["rules"][1]["matches"][0]
     .update(method="DELETE"), "route"),
    (lambda m: m.catalogue.pop("user.created"), "not in the catalogue"),
    (lambda m: next(d for d in m.docs if d["kind"] == "PingSource")["spec"].update(schedule="0 * * * *"),
     "PingSources"),
    (lambda m: m.stack["functions"]["ticketing-release-expired"].update(secrets=[]), "secrets"),
])
def test_cross_checks_catch_inconsistencies(breakage, expected):
    m = sample_manifests()
    m.catalogue = dict(m.catalogue)
    breakage(m)
    problems = cross_check(m)
    assert any(expected in p for p in problems), problems


def test_cross_checks_catch_a_reply_loop():
    catalogue = dict(SAMPLE_CATALOGUE)
    looping = declare("functions.notifications.echo.handler",
                      function("notifications-echo", on_event("user.followed"), emits=["user.followed"]))
    m = load(render([looping], catalogue), [looping], catalogue)
    assert any("reply loop" in p for p in cross_check(m))


def test_cross_checks_catch_two_functions_on_one_route():
    a = declare("functions.users.a.handler", function("users-a", http("POST", "/register")))
    b = declare("functions.users.b.handler", function("users-b", http("POST", "/register")))
    m = load(render([a, b], {}), [a, b], {})
    assert any("routed to both" in p for p in cross_check(m))


# ---- render: concrete values ----------------------------------------------------------------------------------

def _docs(files: dict[str, str], path: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(files[path]) if d]


def test_render_with_zero_functions_emits_the_broker():
    files = render([], {})
    assert sorted(files) == ["events/asyncapi.yaml", "knative/broker.yaml", "stack.yml"]
    assert [d["kind"] for d in _docs(files, "knative/broker.yaml")] == ["RabbitmqBrokerConfig", "Broker", "Service"]
    stack = yaml.safe_load(substitute(files["stack.yml"]))
    assert stack["functions"] == {} and stack_errors(stack) == []
    assert [e for d in _docs(files, "knative/broker.yaml") for e in schema_errors(d)] == []


def test_render_is_deterministic_and_order_independent():
    specs = sample_specs()
    assert render(specs, SAMPLE_CATALOGUE) == render(list(reversed(specs)), dict(reversed(SAMPLE_CATALOGUE.items())))


def test_render_http_function_with_a_path_param():
    files = sample_files()
    routes = [d for d in _docs(files, "knative/events.yaml") if d["kind"] == "HTTPRoute"]
    assert len(routes) == 1 and routes[0]["spec"]["hostnames"] == ["events.eventonight.example"]
    rules = routes[0]["spec"]["rules"]
    by_backend = {r["backendRefs"][0]["name"]: r for r in rules if r["matches"][0]["method"] != "OPTIONS"}
    assert by_backend["events-get-event"]["matches"] == [
        {"method": "GET", "path": {"type": "RegularExpression", "value": "/events/[^/]+/?"}}]
    assert by_backend["events-update-event"]["matches"][0]["path"] == {
        "type": "RegularExpression", "value": r"/events/[^/]+/details\.json/?"}
    assert by_backend["events-get-event"]["backendRefs"] == [{"name": "events-get-event", "port": 80}]
    get_service = next(d for d in _docs(files, "knative/events.yaml") if d["metadata"]["name"] == "events-get-event")
    assert "networking.knative.dev/visibility" not in get_service["metadata"]["labels"]
    preflight = [r for r in rules if r["matches"][0]["method"] == "OPTIONS"]
    assert len(preflight) == 1 and preflight[0]["matches"][0]["path"] == {"type": "PathPrefix", "value": "/"}
    headers = {h["name"]: h["value"] for h in rules[0]["filters"][0]["responseHeaderModifier"]["set"]}
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Idempotency-Key" in headers["Access-Control-Allow-Headers"]
    users = [d for d in _docs(files, "knative/users.yaml") if d["kind"] == "HTTPRoute"][0]
    assert {"method": "POST", "path": {"type": "Exact", "value": "/register"}} in \
        [m for r in users["spec"]["rules"] for m in r["matches"]]
    stack = yaml.safe_load(files["stack.yml"])
    fn = stack["functions"]["events-get-event"]
    assert fn["annotations"]["com.eventonight.route"] == "GET events.${PUBLIC_HOST:-eventonight.example}/events/{eventId}"
    assert "topic" not in fn["annotations"]
    assert fn["handler"] == "./functions/events/get_event"
    assert fn["lang"] == "python3-http"
    assert fn["image"] == "${REGISTRY:-ghcr.io/eventonight}/events-get-event:${TAG:-latest}"


def test_render_event_function_with_two_types():
    files = sample_files()
    stack = yaml.safe_load(files["stack.yml"])
    fn = stack["functions"]["notifications-on-social"]
    assert fn["annotations"]["topic"] == "event.published,user.followed"
    assert fn["environment"]["exec_timeout"] == "20s" and fn["environment"]["FUNCTION_TIMEOUT_SECONDS"] == "20"
    docs = _docs(files, "knative/notifications.yaml")
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
                                         "timeout": "PT20S", "deadLetterSink": {"ref": {
                                             "apiVersion": "serving.knative.dev/v1", "kind": "Service",
                                             "name": "eventonight-dead-letters"}}}
        assert "filters" not in t["spec"]
    service = next(d for d in docs if d["kind"] == "Service")
    assert service["metadata"]["labels"]["networking.knative.dev/visibility"] == "cluster-local"
    assert service["spec"]["template"]["spec"]["timeoutSeconds"] == 20
    container = _container(service)
    assert container["command"] == ["python", "-m", "runtime.adapters.knative_main"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["PYTHONPATH"] == "/home/app/function" and env["FUNCTION_NAME"] == "notifications-on-social"
    assert env["MONGO_URI"].startswith("mongodb://") and "${" not in "".join(env.values())
    assert container["readinessProbe"] == {"httpGet": {"path": "/health/readiness"}}
    assert not [d for d in docs if d["kind"] == "HTTPRoute"]
    assert not [d for d in docs if d["kind"] == "PingSource"]


def test_render_scheduled_function():
    files = sample_files()
    stack = yaml.safe_load(files["stack.yml"])
    fn = stack["functions"]["ticketing-release-expired"]
    assert fn["annotations"]["topic"] == "cron-function"
    assert fn["annotations"]["schedule"] == "*/5 * * * *"
    assert fn["secrets"] == ["stripe"]
    docs = _docs(files, "knative/ticketing.yaml")
    (ping,) = [d for d in docs if d["kind"] == "PingSource"]
    assert ping["apiVersion"] == "sources.knative.dev/v1"
    assert ping["spec"]["schedule"] == "*/5 * * * *"
    assert ping["spec"]["sink"]["ref"]["name"] == "ticketing-release-expired"
    service = next(d for d in docs if d["kind"] == "Service")
    pod = service["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "secrets", "projected": {"sources": [
        {"secret": {"name": "stripe", "items": [{"key": "stripe", "path": "stripe"}]}}]}}]
    assert _container(service)["volumeMounts"] == [{"name": "secrets", "mountPath": "/var/openfaas/secrets",
                                                    "readOnly": True}]


def test_render_requirements_and_asyncapi():
    files = sample_files()
    req = files["functions/users/register/requirements.txt"]
    assert req.startswith(HEADER)
    lines = [line for line in req.splitlines() if line and not line.startswith("#")]
    assert lines == generate.load_pins()["base"]
    assert "cloudevents==2.2.0" in lines
    api = yaml.safe_load(files["events/asyncapi.yaml"])
    channel = api["channels"]["user.followed"]
    assert channel["x-consumers"] == ["notifications-on-social"] and channel["x-producers"] == []
    assert api["channels"]["user.created"]["x-producers"] == ["users-register"]
    assert channel["bindings"]["amqp"]["exchange"] == {"name": "eventonight", "type": "topic", "durable": True,
                                                       "autoDelete": False, "vhost": "/"}
    assert api["components"]["messages"]["user-followed"]["payload"] == {"type": "object"}


def test_declared_extra_requirements_are_pinned_from_pyproject():
    pins = {"base": ["cloudevents==2.2.0"], "all": ["cloudevents==2.2.0", "mongomock==4.3.0"]}
    spec = declare("functions.media.upload.handler",
                   function("media-upload", http("POST", "/media"), requirements=["mongomock", "cloudevents"]))
    text = render([spec], {}, pins)["functions/media/upload/requirements.txt"]
    assert text == HEADER + "cloudevents==2.2.0\nmongomock==4.3.0\n"
    bad = declare("functions.media.bad.handler", function("media-bad", http("POST", "/x"), requirements=["leftpad"]))
    with pytest.raises(ValueError, match="leftpad"):
        render([bad], {}, pins)


def test_render_refuses_unknown_event_types():
    with pytest.raises(ValueError, match="user.created"):
        render(sample_specs(), {k: v for k, v in SAMPLE_CATALOGUE.items() if k != "user.created"})


def test_many_http_functions_split_into_routes_of_sixteen_rules():
    specs = [declare(f"functions.interactions.f{i}.handler", function(f"interactions-f{i:02d}", http("GET", f"/r{i}")))
             for i in range(20)]
    routes = [d for d in _docs(render(specs, {}), "knative/interactions.yaml") if d["kind"] == "HTTPRoute"]
    assert [r["metadata"]["name"] for r in routes] == ["interactions", "interactions-2"]
    assert [len(r["spec"]["rules"]) for r in routes] == [16, 5]
    assert [e for r in routes for e in schema_errors(r)] == []


def test_long_trigger_names_stay_dns_labels():
    name = generate.trigger_name("notifications-on-a-very-long-function-name", "payments.order.confirmed.v1")
    assert len(name) <= 63 and re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", name)


def test_substitution_follows_envsubst():
    assert substitute("${A:-x}/${B}/$C/${D:-d}", {"A": "a", "C": "c", "D": ""}) == "a//c/d"


# ---- the schemas reject bad manifests -------------------------------------------------------------------------

def _sample_doc(kind: str, name: str | None = None) -> dict[str, Any]:
    files = sample_files()
    docs = [d for p in files if p.startswith("knative/") for d in _docs(files, p)]
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
    ("Service", lambda d: _container(d).update(imagePullPolicy="Always")),
    ("Service", lambda d: _container(d)["env"].append({"name": "X", "value": "${X:-y}"})),
    ("Service", lambda d: _container(d)["env"].append({"name": "X", "value": 5})),
    ("Service", lambda d: d["spec"]["template"]["metadata"]["annotations"]
     .update({"autoscaling.knative.dev/min-scale": "zero"})),
    ("PingSource", lambda d: d["spec"].update(schedule="every five minutes")),
    ("PingSource", lambda d: d["spec"].update(sinc=d["spec"].pop("sink"))),
    ("HTTPRoute", lambda d: d["spec"]["rules"][0]["matches"][0]["path"].update(type="Regex")),
    ("HTTPRoute", lambda d: d["spec"]["rules"][0]["matches"][0].update(method="FETCH")),
    ("HTTPRoute", lambda d: d["spec"].update(hostnames=["Events.Example"])),
    ("HTTPRoute", lambda d: d["spec"]["rules"].extend([copy.deepcopy(d["spec"]["rules"][0])] * 16)),
    ("HTTPRoute", lambda d: d["spec"]["rules"][0]["filters"][0].update(type="CORS")),
])
def test_schemas_reject_bad_knative_manifests(kind, breakage):
    doc = _sample_doc(kind, "users-register" if kind == "Service" else None)
    assert schema_errors(doc) == []
    breakage(doc)
    assert schema_errors(doc) != []


def _sample_stack() -> dict[str, Any]:
    return yaml.safe_load(substitute(sample_files()["stack.yml"]))


@pytest.mark.parametrize("breakage", [
    lambda s: s["functions"]["users-register"].update(enviroment={}),
    lambda s: s.update(version="2.0"),
    lambda s: s["provider"].update(name="faasd"),
    lambda s: s["functions"].update({"Users_Register": s["functions"]["users-register"]}),
    lambda s: s["functions"]["users-register"].update(lang="python3"),
    lambda s: s["functions"]["users-register"]["environment"].update(exec_timeout="10"),
    lambda s: s["functions"]["users-register"]["environment"].update(FUNCTION_TIMEOUT_SECONDS=10),
    lambda s: s["functions"]["users-register"]["environment"].pop("FUNCTION_NAME"),
    lambda s: s["functions"]["users-register"].update(secrets=["Stripe_Key"]),
    lambda s: s["functions"]["ticketing-release-expired"]["annotations"].update(topic="payments.order.expired"),
    lambda s: s["functions"]["notifications-on-social"]["annotations"].update(topic="a, b"),
    lambda s: s["configuration"].update(cpoy=["./runtime"]),
    lambda s: s["configuration"]["templates"][0].update(url="x"),
])
def test_schema_rejects_bad_stack(breakage):
    stack = _sample_stack()
    assert stack_errors(stack) == []
    breakage(stack)
    assert stack_errors(stack) != []
