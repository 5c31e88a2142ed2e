"""What each platform must get, beyond consistency (issue 13 §2), as one list of problems:

- routing: on Knative every HTTP function has exactly one rule on its group's host, whose backend is the local
  gateway's Service (never the Knative Service's own ExternalName Service) and which rewrites the host to the
  function's cluster-local name; on OpenFaaS one public rule naming it in the router header and one router rule
  rewriting to ``/function/<name>/`` on the OpenFaaS gateway; no event or schedule function is reachable by either;
  every host answers CORS preflights and sets the CORS headers; regular expressions are anchored and no two rules
  of one method take the same request with an undefined precedence; the ReferenceGrant and NetworkPolicies exist;
- topics: one topic per event function, no delimiter, equal to its queue, bound once per declared type, declared
  to the connector;
- timeouts: exec < read/write < lease, Knative timeoutSeconds = exec, Trigger timeout = read/write, the OpenFaaS
  gateway's upstream timeout above every function's write_timeout and its read/write above that, the connector's
  above the gateway's;
- scaling and resources: the policy of the function's kind on both platforms;
- Knative admission: one container, no reserved port or env name, the restricted security context, cluster-local.
"""
from __future__ import annotations

import re
from typing import Any

from deploy import choices, realtime
from deploy.common import kind_of, queue_of
from deploy.routes import ambiguities, knative_host, path_matches
from manifests_support import Manifests, container_of
from runtime.config import LEASE_MARGIN_SECONDS
from runtime.contract import EventTrigger, HttpTrigger

RESERVED_PORTS = {8012, 8013, 8022, 9090, 9091}  # Knative's queue-proxy
RESERVED_ENV = {"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"}


def _seconds(value: Any) -> float | None:
    match = re.fullmatch(r"PT?(\d+(?:\.\d+)?)S|(\d+(?:\.\d+)?)s", str(value or ""))
    return float(match.group(1) or match.group(2)) if match else None


def _rules(routes: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(route, rule) for route in routes for rule in route["spec"]["rules"]]


def _filter(rule: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((f for f in rule.get("filters") or [] if f["type"] == kind), {})


def routing(m: Manifests) -> list[str]:
    problems = []
    specs = {s.name: s for s in m.specs}
    http = {n: s for n, s in specs.items() if isinstance(s.trigger, HttpTrigger)}
    matches = path_matches(m.specs)
    local = choices.KNATIVE_LOCAL_GATEWAY
    want_cors = dict(choices.CORS_HEADERS)
    problems += [f"ambiguous routes: {a}" for a in ambiguities(m.specs)]
    # the Socket.IO service's route goes to that service, not a function (tests/deploy/test_realtime.py)
    function_routes = [r for r in m.of_kind("HTTPRoute") if r["metadata"]["name"] != realtime.NAME]
    knative = _rules(function_routes)
    public = [(r, x) for r, x in _rules(m.openfaas_of_kind("HTTPRoute")) if r["spec"]["parentRefs"][0]["name"] ==
              choices.GATEWAY["name"] and r["metadata"]["name"] != realtime.NAME]
    router = [(r, x) for r, x in _rules(m.openfaas_of_kind("HTTPRoute")) if r["spec"]["parentRefs"][0] ==
              choices.OPENFAAS_ROUTER]
    knative_seen: dict[str, list] = {}
    public_seen: dict[str, list] = {}
    for platform, rules in (("Knative", knative), ("OpenFaaS", public)):
        hosts_preflight = set()
        for route, rule in rules:
            where = f"{platform} HTTPRoute {route['metadata']['name']}"
            cors = {h["name"]: h["value"] for h in (_filter(rule, "ResponseHeaderModifier")
                                                   .get("responseHeaderModifier") or {}).get("set", [])}
            if cors != want_cors:
                problems.append(f"{where}: a rule without the CORS headers {cors}")
            if route["spec"]["parentRefs"] != [choices.GATEWAY]:
                problems.append(f"{where}: parent {route['spec']['parentRefs']} is not the public Gateway")
            for match in rule["matches"]:
                path = match.get("path") or {}
                if path.get("type") == "RegularExpression" and not (path["value"].startswith("^")
                                                                     and path["value"].endswith("$")):
                    problems.append(f"{where}: regular expression {path['value']} is not anchored")
                if match.get("method") == "OPTIONS":
                    hosts_preflight.update(route["spec"]["hostnames"])
            if platform == "Knative":
                if rule["backendRefs"] != [{"name": local["name"], "namespace": local["namespace"],
                                            "port": local["port"]}]:
                    problems.append(f"{where}: backend {rule['backendRefs']} is not Knative's local gateway")
                host = (_filter(rule, "URLRewrite").get("urlRewrite") or {}).get("hostname")
                target = next((n for n in specs if knative_host(n) == host), None)
            else:
                if rule["backendRefs"] != [{"name": choices.OPENFAAS_ROUTER_SERVICE["name"],
                                            "port": choices.OPENFAAS_ROUTER_SERVICE["port"]}]:
                    problems.append(f"{where}: backend {rule['backendRefs']} is not the OpenFaaS router")
                named = (_filter(rule, "RequestHeaderModifier").get("requestHeaderModifier") or {}).get("set", [])
                target = next((h["value"] for h in named if h["name"] == choices.FUNCTION_HEADER), None)
            if target not in http:
                problems.append(f"{where}: a rule reaches {target!r}, which is not an HTTP function")
                continue
            if any(match.get("method") != "OPTIONS" for match in rule["matches"]):
                (knative_seen if platform == "Knative" else public_seen).setdefault(target, []).append(
                    (route["spec"]["hostnames"], rule["matches"]))
            if rule.get("timeouts") != {"request": choices.ROUTE_TIMEOUT}:
                problems.append(f"{where}: timeouts {rule.get('timeouts')}")
        groups = {s.group for s in http.values()}
        missing = sorted(f"{g}.{choices.DOMAIN}" for g in groups) != sorted(hosts_preflight)
        if missing:
            problems.append(f"{platform}: preflight rules on {sorted(hosts_preflight)}, hosts {sorted(groups)}")
        for name, spec in sorted(http.items()):
            seen = (knative_seen if platform == "Knative" else public_seen).get(name, [])
            want = [([f"{spec.group}.{choices.DOMAIN}"], [{"method": spec.trigger.method, "path": matches[name]}])]
            if seen != want:
                problems.append(f"{platform}: {name} routed by {seen}, want {want}")
    routed = {}
    for route, rule in router:
        (match,) = rule["matches"]
        name = next((h["value"] for h in match.get("headers", []) if h["name"] == choices.FUNCTION_HEADER), None)
        rewrite = (_filter(rule, "URLRewrite").get("urlRewrite") or {}).get("path")
        if match.get("path") != {"type": "PathPrefix", "value": "/"} or rewrite != {
                "type": "ReplacePrefixMatch", "replacePrefixMatch": f"/function/{name}/"}:
            problems.append(f"router rule for {name}: {match} {rewrite}")
        if rule["backendRefs"] != [{"name": choices.OPENFAAS["gateway"], "port": choices.OPENFAAS["port"]}]:
            problems.append(f"router rule for {name}: backend {rule['backendRefs']} is not the OpenFaaS gateway")
        routed[name] = routed.get(name, 0) + 1
    if routed != {name: 1 for name in http}:
        problems.append(f"router rules {sorted(routed)} != HTTP functions {sorted(http)}")
    grants = m.of_kind("ReferenceGrant")
    want_grant = ({"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": choices.NAMESPACE},
                  {"group": "", "kind": "Service", "name": local["name"]})
    if not any(g["metadata"]["namespace"] == local["namespace"] and want_grant[0] in g["spec"]["from"]
               and want_grant[1] in g["spec"]["to"] for g in grants):
        problems.append("no ReferenceGrant lets the routes reach Knative's local gateway")
    policies = {p["metadata"]["name"]: p for p in m.openfaas_of_kind("NetworkPolicy")}
    gateway_policy = policies.get("openfaas-gateway-clients", {}).get("spec", {})
    allowed = sorted(f["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                     for rule in gateway_policy.get("ingress", []) for f in rule["from"])
    if gateway_policy.get("podSelector") != {"matchLabels": {"app": choices.OPENFAAS["gateway"]}} or allowed != sorted(
            {*choices.OPENFAAS_GATEWAY_CLIENTS, choices.OPENFAAS_ROUTER_SERVICE["namespace"]}):
        problems.append(f"the OpenFaaS gateway's NetworkPolicy admits {allowed}")
    return problems


def topics(m: Manifests) -> list[str]:
    problems = []
    stack = m.stack.get("functions") or {}
    bindings: dict[str, list[str]] = {}
    for b in m.openfaas_of_kind("Binding"):
        if b["spec"]["source"] != choices.EXCHANGE or b["spec"]["destinationType"] != "queue":
            problems.append(f"Binding {b['metadata']['name']}: {b['spec']}")
        bindings.setdefault(b["spec"]["destination"], []).append(b["spec"]["routingKey"])
    queues = {q["spec"]["name"] for q in m.openfaas_of_kind("Queue")}
    connector = {q["name"] for q in (m.values.get("openfaas/rabbitmq-connector-values.yaml") or {}).get("queues", [])}
    for spec in m.specs:
        topic = ((stack.get(spec.name) or {}).get("annotations") or {}).get("topic")
        if topic is not None and "," in topic:
            problems.append(f"{spec.name}: topic {topic!r} needs a delimiter the connector does not have by default")
        if not isinstance(spec.trigger, EventTrigger):
            continue
        queue = queue_of(spec)
        if topic != queue:
            problems.append(f"{spec.name}: topic {topic!r} is not its queue {queue}")
        if sorted(bindings.get(queue, [])) != sorted(set(spec.trigger.types)):
            problems.append(f"{spec.name}: queue {queue} bound to {sorted(bindings.get(queue, []))}, "
                            f"declared {sorted(set(spec.trigger.types))}")
        if queue not in queues or queue not in connector:
            problems.append(f"{spec.name}: queue {queue} not declared (topology: {queue in queues}, "
                            f"connector: {queue in connector})")
    exchanges = [e["spec"] for e in m.openfaas_of_kind("Exchange")]
    if [(e["name"], e["type"], e["durable"]) for e in exchanges] != [(choices.EXCHANGE, "topic", True)]:
        problems.append(f"exchanges {exchanges}")
    return problems


def timeouts(m: Manifests) -> list[str]:
    problems = []
    stack = m.stack.get("functions") or {}
    services = {d["metadata"]["name"]: d for d in m.of_kind("Service")}
    values = m.values.get("openfaas/openfaas-values.yaml") or {}
    gateway = values.get("gateway") or {}
    upstream, gw_rw = _seconds(gateway.get("upstreamTimeout")), _seconds(gateway.get("writeTimeout"))
    provider = _seconds((values.get("faasnetes") or {}).get("writeTimeout"))
    connector = _seconds((m.values.get("openfaas/rabbitmq-connector-values.yaml") or {}).get("upstreamTimeout"))
    if not (upstream and gw_rw and provider and connector and upstream < gw_rw <= provider and gw_rw < connector
            and _seconds(gateway.get("readTimeout")) == gw_rw):
        problems.append(f"OpenFaaS gateway timeouts {gateway}, provider {provider}, connector {connector}")
    for spec in m.specs:
        t = spec.timeout_seconds
        env = (stack.get(spec.name) or {}).get("environment") or {}
        exec_t, read_t, write_t = (_seconds(env.get(k)) for k in ("exec_timeout", "read_timeout", "write_timeout"))
        if exec_t != t or not (exec_t and read_t and write_t and exec_t < read_t == write_t < t + LEASE_MARGIN_SECONDS):
            problems.append(f"{spec.name}: of-watchdog timeouts {exec_t}/{read_t}/{write_t} not exec = {t} < "
                            f"read = write < lease {t + LEASE_MARGIN_SECONDS}")
        if upstream is not None and write_t is not None and not write_t < upstream:
            problems.append(f"{spec.name}: write_timeout {write_t}s not below the gateway's upstream {upstream}s")
        service = services.get(spec.name)
        if service and service["spec"]["template"]["spec"].get("timeoutSeconds") != exec_t:
            problems.append(f"{spec.name}: Knative timeoutSeconds != exec_timeout {exec_t}")
        for trig in m.of_kind("Trigger"):
            if (trig["spec"].get("subscriber") or {}).get("ref", {}).get("name") == spec.name and \
                    _seconds(trig["spec"]["delivery"].get("timeout")) != write_t:
                problems.append(f"{spec.name}: Trigger {trig['metadata']['name']} delivery timeout != {write_t}s")
    return problems


def scaling_and_security(m: Manifests) -> list[str]:
    problems = []
    stack = m.stack.get("functions") or {}
    services = {d["metadata"]["name"]: d for d in m.of_kind("Service")}
    for spec in m.specs:
        policy = choices.SCALING[kind_of(spec)]
        fn = stack.get(spec.name) or {}
        fn_labels = fn.get("labels") or {}
        want_labels = {"com.openfaas.scale.min": str(max(policy["min"], 1)), "com.openfaas.scale.max": str(policy["max"]),
                       "com.openfaas.scale.target": str(policy["target"])}
        if {k: fn_labels.get(k) for k in want_labels} != want_labels or (
                (fn_labels.get("com.openfaas.scale.zero") == "true") != (policy["min"] == 0)):
            problems.append(f"{spec.name}: OpenFaaS scale labels {fn_labels} != the {kind_of(spec)} policy")
        if fn.get("requests") != policy["requests"] or fn.get("limits") != policy["limits"]:
            problems.append(f"{spec.name}: OpenFaaS requests/limits differ from the {kind_of(spec)} policy")
        service = services.get(spec.name)
        if not service:
            continue
        template = service["spec"]["template"]
        annotations = template["metadata"].get("annotations") or {}
        want = {"autoscaling.knative.dev/min-scale": str(policy["min"]),
                "autoscaling.knative.dev/max-scale": str(policy["max"]),
                "autoscaling.knative.dev/target": str(policy["target"])}
        if {k: annotations.get(k) for k in want} != want or template["spec"].get("containerConcurrency") != \
                policy["target"]:
            problems.append(f"{spec.name}: Knative autoscaling {annotations} != the {kind_of(spec)} policy")
        container = container_of(service)
        if container.get("resources") != {"requests": policy["requests"], "limits": policy["limits"]}:
            problems.append(f"{spec.name}: Knative resources {container.get('resources')} differ from OpenFaaS'")
    for service in m.of_kind("Service"):
        name = service["metadata"]["name"]
        containers = service["spec"]["template"]["spec"]["containers"]
        security = containers[0].get("securityContext") or {}
        if len(containers) != 1:
            problems.append(f"{name}: {len(containers)} containers (Knative allows one serving container)")
        if not (security.get("runAsNonRoot") is True and security.get("allowPrivilegeEscalation") is False
                and "ALL" in (security.get("capabilities") or {}).get("drop", [])
                and (security.get("seccompProfile") or {}).get("type") == "RuntimeDefault"):
            problems.append(f"{name}: security context {security} is not the restricted one")
        ports = [p.get("containerPort") for p in containers[0].get("ports") or []]
        if len(ports) > 1 or set(ports) & RESERVED_PORTS:
            problems.append(f"{name}: ports {ports} (one, none of Knative's reserved {sorted(RESERVED_PORTS)})")
        reserved = sorted({e["name"] for e in containers[0].get("env") or []} & RESERVED_ENV)
        if reserved:
            problems.append(f"{name}: env {reserved} is reserved by Knative")
        if service["metadata"]["labels"].get("networking.knative.dev/visibility") != "cluster-local":
            problems.append(f"{name}: not cluster-local (Knative would expose it on its own domain)")
    return problems


def platform_check(m: Manifests) -> list[str]:
    return routing(m) + topics(m) + timeouts(m) + scaling_and_security(m)
