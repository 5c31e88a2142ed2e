"""OpenFaaS beyond stack.yml, in ``openfaas/`` (docs/deploy.md "Routing" and "Events"):

- ``routes.yaml``: the public HTTPRoutes (per group host, the same matches as Knative's; each rule names its function
  in FUNCTION_HEADER and goes to the internal router), and the router's HTTPRoutes (one rule per HTTP function:
  that header, ``PathPrefix /`` rewritten to ``/function/<name>/`` on the OpenFaaS gateway). Two hops because a rule
  with a ``ReplacePrefixMatch`` rewrite may only match one ``PathPrefix`` (a CEL rule of the HTTPRoute CRD), while
  choosing among the functions needs method + path matches. Only HTTP functions are routed.
- ``network-policy.yaml``: only the connectors' and the router's namespaces reach the OpenFaaS gateway, and only
  the OpenFaaS namespace reaches the functions.
- ``rabbitmq.yaml``: the exchange, each event function's queue and one binding per event type (messaging topology
  operator), so the connector's queue ↔ topic mapping works with one topic per function and no delimiter.
- ``openfaas-values.yaml`` and ``rabbitmq-connector-values.yaml``: the Helm values these depend on (timeouts above
  the longest function's, the gateway not exposed, the connector's queues).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from deploy.choices import (
    CONNECTOR_UPSTREAM_MARGIN_SECONDS,
    EXCHANGE,
    FUNCTION_HEADER,
    GATEWAY,
    GATEWAY_MARGIN_SECONDS,
    OPENFAAS,
    OPENFAAS_GATEWAY_CLIENTS,
    OPENFAAS_ROUTER,
    OPENFAAS_ROUTER_SERVICE,
    RABBITMQ_CLUSTER,
    ROUTE_TIMEOUT,
)
from deploy.common import dump, event_types, k8s_name, labels, queue_of, watchdog_timeouts
from deploy.routes import cors_filter, group_rules, host_of, split_routes
from runtime.contract import EventTrigger, FunctionSpec, HttpTrigger


def _backend(service: dict[str, Any], namespace: str) -> dict[str, Any]:
    ref = {"name": service["name"], "port": service["port"]}
    if service["namespace"] != namespace:
        ref["namespace"] = service["namespace"]
    return ref


def public_routes(group: str, specs: Sequence[FunctionSpec]) -> list[dict[str, Any]]:
    namespace = OPENFAAS["namespace"]

    def rule(spec: FunctionSpec, match: dict[str, Any]) -> dict[str, Any]:
        name_it = {"type": "RequestHeaderModifier",
                   "requestHeaderModifier": {"set": [{"name": FUNCTION_HEADER, "value": spec.name}]}}
        return {"matches": [match], "filters": [cors_filter(), name_it],
                "backendRefs": [_backend(OPENFAAS_ROUTER_SERVICE, namespace)], "timeouts": {"request": ROUTE_TIMEOUT}}

    return split_routes(group, namespace, group, GATEWAY, [host_of(group)], group_rules(specs, rule))


def router_routes(specs: Sequence[FunctionSpec]) -> list[dict[str, Any]]:
    namespace = OPENFAAS["namespace"]
    gateway = {"name": OPENFAAS["gateway"], "namespace": OPENFAAS["namespace"], "port": OPENFAAS["port"]}
    rules = [{
        "matches": [{"path": {"type": "PathPrefix", "value": "/"},
                     "headers": [{"type": "Exact", "name": FUNCTION_HEADER, "value": spec.name}]}],
        "filters": [{"type": "URLRewrite",
                     "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": f"/function/{spec.name}/"}}},
                    {"type": "RequestHeaderModifier", "requestHeaderModifier": {"remove": [FUNCTION_HEADER]}}],
        "backendRefs": [_backend(gateway, namespace)], "timeouts": {"request": ROUTE_TIMEOUT},
    } for spec in sorted(specs, key=lambda s: s.name) if isinstance(spec.trigger, HttpTrigger)]
    return split_routes("openfaas-functions", namespace, None, OPENFAAS_ROUTER, None, rules) if rules else []


def render_routes(specs: Sequence[FunctionSpec]) -> str:
    docs: list[dict[str, Any]] = []
    for group in sorted({s.group for s in specs if isinstance(s.trigger, HttpTrigger)}):
        docs += public_routes(group, [s for s in specs if s.group == group])
    docs += router_routes(specs)
    return dump(docs)


def _namespaces(names) -> list[dict[str, Any]]:
    return [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": n}}} for n in sorted(set(names))]


def render_network_policy() -> str:
    gateway = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": "openfaas-gateway-clients", "namespace": OPENFAAS["namespace"], "labels": labels()},
               "spec": {"podSelector": {"matchLabels": {"app": OPENFAAS["gateway"]}}, "policyTypes": ["Ingress"],
                        "ingress": [{"from": _namespaces((*OPENFAAS_GATEWAY_CLIENTS,
                                                          OPENFAAS_ROUTER_SERVICE["namespace"]))}]}}
    functions = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                 "metadata": {"name": "functions-from-openfaas", "namespace": OPENFAAS["functions"],
                              "labels": labels()},
                 "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                          "ingress": [{"from": _namespaces([OPENFAAS["namespace"]])}]}}
    return dump([gateway, functions])


def render_rabbitmq(specs: Sequence[FunctionSpec]) -> str:
    namespace = OPENFAAS["namespace"]

    def topology(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": "rabbitmq.com/v1beta1", "kind": kind,
                "metadata": {"name": k8s_name(name), "namespace": namespace, "labels": labels()},
                "spec": {**spec, "vhost": "/", "rabbitmqClusterReference": dict(RABBITMQ_CLUSTER)}}

    # As runtime.broker declares it; the connector declares each queue as a durable classic queue with no arguments.
    docs = [topology("Exchange", f"{EXCHANGE}-exchange",
                     {"name": EXCHANGE, "type": "topic", "durable": True, "autoDelete": False})]
    for spec in sorted(specs, key=lambda s: s.name):
        if not isinstance(spec.trigger, EventTrigger):
            continue
        queue = queue_of(spec)
        docs.append(topology("Queue", queue, {"name": queue, "durable": True, "autoDelete": False}))
        docs += [topology("Binding", f"{spec.name}-{event_type}",
                          {"source": EXCHANGE, "destination": queue, "destinationType": "queue",
                           "routingKey": event_type}) for event_type in event_types(spec)]
    return dump(docs)


def gateway_timeouts(specs: Sequence[FunctionSpec]) -> dict[str, int]:
    """The OpenFaaS gateway's timeouts (seconds) for the longest function: upstream above every function's
    write_timeout, read/write above upstream, and the connector's above the gateway's."""
    longest = max((watchdog_timeouts(s)[1] for s in specs), default=0)
    upstream = longest + GATEWAY_MARGIN_SECONDS
    return {"upstream": upstream, "read_write": upstream + GATEWAY_MARGIN_SECONDS,
            "connector": upstream + GATEWAY_MARGIN_SECONDS + CONNECTOR_UPSTREAM_MARGIN_SECONDS}


def render_openfaas_values(specs: Sequence[FunctionSpec]) -> str:
    t = gateway_timeouts(specs)
    values = {"functionNamespace": OPENFAAS["functions"], "exposeServices": False, "serviceType": "ClusterIP",
              "gateway": {"upstreamTimeout": f"{t['upstream']}s", "readTimeout": f"{t['read_write']}s",
                          "writeTimeout": f"{t['read_write']}s"},
              "faasnetes": {"readTimeout": f"{t['read_write']}s", "writeTimeout": f"{t['read_write']}s"}}
    return dump([values], multi=False)


def render_connector_values(specs: Sequence[FunctionSpec]) -> str:
    t = gateway_timeouts(specs)
    queues = [{"name": queue_of(s), "durable": True}
              for s in sorted(specs, key=lambda s: s.name) if isinstance(s.trigger, EventTrigger)]
    values = {"gatewayURL": f"http://{OPENFAAS['gateway']}.{OPENFAAS['namespace']}:{OPENFAAS['port']}",
              "queues": queues, "upstreamTimeout": f"{t['connector']}s", "asyncInvocation": False}
    return dump([values], multi=False)


def render_openfaas_files(specs: Sequence[FunctionSpec]) -> dict[str, str]:
    return {"openfaas/routes.yaml": render_routes(specs), "openfaas/network-policy.yaml": render_network_policy(),
            "openfaas/rabbitmq.yaml": render_rabbitmq(specs),
            "openfaas/openfaas-values.yaml": render_openfaas_values(specs),
            "openfaas/rabbitmq-connector-values.yaml": render_connector_values(specs)}
