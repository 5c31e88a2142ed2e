"""Gateway API HTTPRoutes: each HTTP function's (method, path) on its group's host ``<group>.<DOMAIN>``, with the
CORS preflight rule and headers, split at the CRD's rule limit; ``route_path`` turns a route template into a match."""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from deploy.choices import CORS_HEADERS, DOMAIN, GATEWAY_NAME, MAX_RULES_PER_ROUTE
from deploy.common import k8s_name, labels
from runtime.contract import FunctionSpec, HttpTrigger

_REGEX_SPECIAL = re.compile(r"([.^$*+?()\[\]|\\])")
_PARAM = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(?::path)?\}")


def host_of(group: str) -> str:
    return f"{group}.{DOMAIN}"


def route_path(path: str) -> dict[str, str]:
    """Gateway API path match for a route template: ``{x}`` segments become ``[^/]+`` and a trailing
    ``{x:path}`` ``.+`` (RE2), with an optional trailing slash; else Exact."""
    if not _PARAM.search(path):
        return {"type": "Exact", "value": path}
    pieces = _PARAM.split(path)
    params = _PARAM.findall(path)
    value = _REGEX_SPECIAL.sub(r"\\\1", pieces[0])
    for param, piece in zip(params, pieces[1:]):
        value += (".+" if param.endswith(":path}") else "[^/]+") + _REGEX_SPECIAL.sub(r"\\\1", piece)
    return {"type": "RegularExpression", "value": value.rstrip("/") + "/?"}  # as the functions: "/x" and "/x/"


def knative_httproutes(group: str, specs: Sequence[FunctionSpec]) -> list[dict[str, Any]]:
    """One rule per HTTP function on ``<group>.<DOMAIN>``, split into routes of at most 16 rules (the CRD limit)."""
    cors = {"type": "ResponseHeaderModifier",
            "responseHeaderModifier": {"set": [{"name": n, "value": v} for n, v in CORS_HEADERS]}}
    # CORS preflights: every OPTIONS on the host goes to the group's first HTTP function, whose adapter
    # answers it; the filter adds the CORS headers on the way out (and to every other response).
    rules: list[dict[str, Any]] = [{"matches": [{"method": "OPTIONS", "path": {"type": "PathPrefix", "value": "/"}}],
                                    "filters": [cors], "backendRefs": [{"name": specs[0].name, "port": 80}]}]
    for spec in specs:
        trigger = spec.trigger
        assert isinstance(trigger, HttpTrigger)
        rules.append({"matches": [{"method": trigger.method, "path": route_path(trigger.path)}],
                      "filters": [cors], "backendRefs": [{"name": spec.name, "port": 80}]})
    routes = []
    for index in range(0, len(rules), MAX_RULES_PER_ROUTE):
        suffix = "" if index == 0 else str(index // MAX_RULES_PER_ROUTE + 1)
        routes.append({
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": k8s_name(group, suffix), "labels": labels(group)},
            "spec": {"parentRefs": [{"name": GATEWAY_NAME}], "hostnames": [host_of(group)],
                     "rules": rules[index:index + MAX_RULES_PER_ROUTE]},
        })
    return routes
