"""Gateway API HTTPRoutes: how each HTTP function's (method, path) on ``<group>.<DOMAIN>`` reaches it.

The matches are the same on both platforms (``path_matches``): ``Exact`` for a template without parameters,
``PathPrefix`` for one whose only parameter is its last segment when nothing else of its method overlaps that
prefix except ``Exact`` paths or longer prefixes (the Gateway API's own precedence decides), and otherwise an
anchored ``RegularExpression`` (``^...$``: the same under anchored and unanchored interpretations). Regular
expressions have no defined precedence, so ``ambiguities`` lists any request two rules of one method could both take.

- Knative (``knative_httproutes``): each rule rewrites the host to ``<ksvc>.<ns>.svc.cluster.local`` and goes to
  Knative's local gateway Service, as Knative's DomainMapping does (docs/deploy.md "Routing").
- OpenFaaS (deploy.openfaas_routes): each rule names the function in a header for the internal router.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from deploy.choices import (
    CLUSTER_DOMAIN,
    CORS_HEADERS,
    DOMAIN,
    GATEWAY,
    KNATIVE_LOCAL_GATEWAY,
    MAX_RULES_PER_ROUTE,
    NAMESPACE,
    ROUTE_TIMEOUT,
)
from deploy.common import k8s_name, labels
from runtime.contract import FunctionSpec, HttpTrigger

_REGEX_SPECIAL = re.compile(r"([.^$*+?()\[\]{}|\\])")
_PARAM = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(?::path)?\}")


def host_of(group: str) -> str:
    return f"{group}.{DOMAIN}"


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _prefix(path: str) -> str:
    """The literal segments before the first parameter, as a path (``/`` when the first segment is one)."""
    literal = []
    for segment in _segments(path):
        if _PARAM.fullmatch(segment):
            break
        literal.append(segment)
    return "/" + "/".join(literal)


def _single_trailing_param(path: str) -> bool:
    segments = _segments(path)
    return bool(segments) and bool(_PARAM.fullmatch(segments[-1])) and not any(
        _PARAM.search(s) for s in segments[:-1])


def route_path(path: str) -> dict[str, str]:
    """The template as one match on its own: ``Exact`` without parameters, else an anchored RE2 expression in which
    ``{x}`` is one segment (``[^/]+``), ``{x:path}`` one or more (``.+``), with an optional trailing slash."""
    if not _PARAM.search(path):
        return {"type": "Exact", "value": path}
    value = ""
    for segment in _segments(path):
        if segment.endswith(":path}") and _PARAM.fullmatch(segment):
            value += "/.+"
        elif _PARAM.fullmatch(segment):
            value += "/[^/]+"
        else:
            value += "/" + _REGEX_SPECIAL.sub(r"\\\1", segment)
    return {"type": "RegularExpression", "value": f"^{value}/?$"}


def _shape(path: str) -> list[str | None]:
    """Segments, ``None`` for a one-segment parameter and ``"**"`` for a ``{x:path}`` one."""
    return ["**" if s.endswith(":path}") and _PARAM.fullmatch(s) else None if _PARAM.fullmatch(s) else s
            for s in _segments(path)]


def _could_start_with(path: str, prefix: str) -> bool:
    """Can a request the template ``path`` serves lie under ``PathPrefix prefix`` (the prefix itself included)?"""
    want, shape = _segments(prefix), _shape(path)
    for i, literal in enumerate(want):
        if i >= len(shape):
            return False
        if shape[i] == "**":
            return True
        if shape[i] is not None and shape[i] != literal:
            return False
    return True


def _overlap(a: list[str | None], b: list[str | None]) -> bool:
    if not a or not b:
        return not a and not b
    if a[0] == "**" or b[0] == "**":
        return True
    if a[0] is not None and b[0] is not None and a[0] != b[0]:
        return False
    return _overlap(a[1:], b[1:])


def _http(specs: Sequence[FunctionSpec]) -> list[FunctionSpec]:
    return sorted((s for s in specs if isinstance(s.trigger, HttpTrigger)), key=lambda s: s.name)


def path_matches(specs: Sequence[FunctionSpec]) -> dict[str, dict[str, str]]:
    """``{function name: path match}`` for every HTTP function, chosen per (group, method) as the module says."""
    out: dict[str, dict[str, str]] = {}
    buckets: dict[tuple[str, str], list[FunctionSpec]] = {}
    for spec in _http(specs):
        buckets.setdefault((spec.group, spec.trigger.method), []).append(spec)
    for bucket in buckets.values():
        templated = [s for s in bucket if _PARAM.search(s.trigger.path)]
        # Every single-trailing-parameter template starts as a PathPrefix; one is demoted to a regular expression
        # while another template of its method shares its prefix or may lie under it as a regular expression.
        prefixes = {s.name: _prefix(s.trigger.path) for s in templated if _single_trailing_param(s.trigger.path)}
        changed = True
        while changed:
            changed = False
            for spec in templated:
                prefix = prefixes.get(spec.name)
                if prefix is not None and any(
                        other is not spec and (prefixes.get(other.name) == prefix or (
                            other.name not in prefixes and _could_start_with(other.trigger.path, prefix)))
                        for other in templated):
                    del prefixes[spec.name]
                    changed = True
        for spec in bucket:
            if spec.name in prefixes:
                out[spec.name] = {"type": "PathPrefix", "value": prefixes[spec.name]}
            else:
                out[spec.name] = route_path(spec.trigger.path)
    return out


def ambiguities(specs: Sequence[FunctionSpec]) -> list[str]:
    """Pairs of one group's functions of one method whose matches can take the same request while their precedence
    is undefined (a regular expression against anything it overlaps, or two equal matches)."""
    matches = path_matches(specs)
    http = _http(specs)
    problems = []
    for i, a in enumerate(http):
        for b in http[i + 1:]:
            if a.group != b.group or a.trigger.method != b.trigger.method:
                continue
            ma, mb = matches[a.name], matches[b.name]
            if ma == mb:
                problems.append(f"{a.name} and {b.name}: both {ma}")
            elif "RegularExpression" in (ma["type"], mb["type"]) and _overlap(_shape(a.trigger.path),
                                                                             _shape(b.trigger.path)):
                problems.append(f"{a.name} ({a.trigger.path}) and {b.name} ({b.trigger.path}) overlap and one is a "
                                "regular expression, whose precedence is implementation-specific")
            elif "RegularExpression" in (ma["type"], mb["type"]):
                regex, other = (a, b) if ma["type"] == "RegularExpression" else (b, a)
                mo = matches[other.name]
                if mo["type"] == "PathPrefix" and _could_start_with(regex.trigger.path, mo["value"]):
                    problems.append(f"{regex.name} ({regex.trigger.path}) lies under {other.name}'s PathPrefix "
                                    f"{mo['value']}; a regular expression's precedence is implementation-specific")
    return problems


def cors_filter() -> dict[str, Any]:
    return {"type": "ResponseHeaderModifier",
            "responseHeaderModifier": {"set": [{"name": n, "value": v} for n, v in CORS_HEADERS]}}


def preflight_function(specs: Sequence[FunctionSpec]) -> FunctionSpec:
    """Where a group's CORS preflights go: its ``GET /health`` function if it has one, else its first."""
    http = _http(specs)
    return next((s for s in http if s.trigger.method == "GET" and s.trigger.path == "/health"), http[0])


def group_rules(specs: Sequence[FunctionSpec], rule_for) -> list[dict[str, Any]]:
    """The preflight rule (``OPTIONS`` anywhere on the host), then one rule per HTTP function, each made by
    ``rule_for(spec, match)``."""
    http = _http(specs)
    matches = path_matches(http)
    rules = [rule_for(preflight_function(http), {"method": "OPTIONS", "path": {"type": "PathPrefix", "value": "/"}})]
    rules += [rule_for(spec, {"method": spec.trigger.method, "path": matches[spec.name]}) for spec in http]
    return rules


def split_routes(name: str, namespace: str, group: str | None, parent: dict[str, str],
                 hostnames: list[str] | None, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """HTTPRoutes ``name``, ``name-2``, ... of at most 16 rules each (the CRD's limit)."""
    routes = []
    for index in range(0, len(rules), MAX_RULES_PER_ROUTE):
        suffix = "" if index == 0 else str(index // MAX_RULES_PER_ROUTE + 1)
        spec: dict[str, Any] = {"parentRefs": [dict(parent)], "rules": rules[index:index + MAX_RULES_PER_ROUTE]}
        if hostnames:
            spec["hostnames"] = list(hostnames)
        routes.append({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                       "metadata": {"name": k8s_name(name, suffix), "namespace": namespace, "labels": labels(group)},
                       "spec": spec})
    return routes


def knative_host(name: str) -> str:
    return f"{name}.{NAMESPACE}.svc.{CLUSTER_DOMAIN}"


def knative_httproutes(group: str, specs: Sequence[FunctionSpec]) -> list[dict[str, Any]]:
    """The group's host on the public Gateway: each rule rewrites the host to the function's cluster-local name and
    sends it to Knative's local gateway (which keeps the activator, so scale from zero works)."""
    backend = {"name": KNATIVE_LOCAL_GATEWAY["name"], "namespace": KNATIVE_LOCAL_GATEWAY["namespace"],
               "port": KNATIVE_LOCAL_GATEWAY["port"]}

    def rule(spec: FunctionSpec, match: dict[str, Any]) -> dict[str, Any]:
        return {"matches": [match],
                "filters": [cors_filter(), {"type": "URLRewrite", "urlRewrite": {"hostname": knative_host(spec.name)}}],
                "backendRefs": [dict(backend)], "timeouts": {"request": ROUTE_TIMEOUT}}

    return split_routes(group, NAMESPACE, group, GATEWAY, [host_of(group)], group_rules(specs, rule))


def knative_reference_grant() -> dict[str, Any]:
    """Lets the routes in NAMESPACE name the local gateway's Service in its own namespace."""
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "ReferenceGrant",
            "metadata": {"name": k8s_name("eventonight", NAMESPACE, "routes"),
                         "namespace": KNATIVE_LOCAL_GATEWAY["namespace"], "labels": labels()},
            "spec": {"from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": NAMESPACE}],
                     "to": [{"group": "", "kind": "Service", "name": KNATIVE_LOCAL_GATEWAY["name"]}]}}
