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


def _escape(text: str) -> str:
    return _REGEX_SPECIAL.sub(r"\\\1", text)


def _class_escape(char: str) -> str:
    return "\\" + char if char in "\\]^-[" else char


def _segment_except(words: set[str]) -> str:
    """RE2 for one segment (``[^/]+``) that is none of ``words`` (RE2 has no lookahead): walking the words' trie,
    a segment either stops at a node that ends no word, leaves the trie by a character no word has there, or
    follows a word's next character."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # the end of a word

    def alternatives(node: dict, root: bool) -> str:
        chars = sorted(c for c in node if c)
        options = [] if root or "" in node else [""]
        options.append("[^/" + "".join(_class_escape(c) for c in chars) + "][^/]*")
        options += [_escape(c) + alternatives(node[c], False) for c in chars]
        return "(?:" + "|".join(options) + ")"

    return alternatives(trie, True)


def route_path(path: str, excluded: dict[int, set[str]] | None = None) -> dict[str, str]:
    """The template as one match on its own: ``Exact`` without parameters, else an anchored RE2 expression in which
    ``{x}`` is one segment (``[^/]+``, or none of ``excluded[i]`` for the i-th segment), ``{x:path}`` one or more
    (``.+``), with an optional trailing slash."""
    if not _PARAM.search(path):
        return {"type": "Exact", "value": path}
    value = ""
    for index, segment in enumerate(_segments(path)):
        if segment.endswith(":path}") and _PARAM.fullmatch(segment):
            value += "/.+"
        elif _PARAM.fullmatch(segment) and (excluded or {}).get(index):
            value += "/" + _segment_except(excluded[index])
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


def _segments_overlap(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a == b


def _overlap(a: list[str | None], b: list[str | None], a_excludes: dict[int, set[str]] | None = None,
             b_excludes: dict[int, set[str]] | None = None, index: int = 0) -> bool:
    """Can one request match both shapes (``x_excludes[i]``: literals the i-th segment's parameter does not take)?"""
    if not a or not b:
        return not a and not b
    if a[0] == "**" or b[0] == "**":
        return True
    if not _segments_overlap(a[0], b[0]) or (a[0] is None and b[0] in (a_excludes or {}).get(index, ())) or (
            b[0] is None and a[0] in (b_excludes or {}).get(index, ())):
        return False
    return _overlap(a[1:], b[1:], a_excludes, b_excludes, index + 1)


def _exclusions(bucket: Sequence[FunctionSpec]) -> dict[str, dict[int, set[str]]]:
    """For templates of one (group, method): ``{name: {i: literals}}`` where another template has a literal at
    segment i, the template a parameter and all their other segments can agree. Excluding the literal makes the two
    disjoint, so no request depends on how an implementation orders regular expressions
    (``/users/{u}/conversations/{id}`` against ``/users/{u}/conversations/search``)."""
    out: dict[str, dict[int, set[str]]] = {}
    for spec in bucket:
        shape = _shape(spec.trigger.path)
        for other in bucket:
            theirs = _shape(other.trigger.path)
            if other is spec or len(theirs) != len(shape) or "**" in shape or "**" in theirs:
                continue
            for index, (mine, literal) in enumerate(zip(shape, theirs)):
                if mine is None and literal is not None and all(
                        _segments_overlap(x, y) for j, (x, y) in enumerate(zip(shape, theirs)) if j != index):
                    out.setdefault(spec.name, {}).setdefault(index, set()).add(literal)
    return out


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
        excluded = _exclusions(bucket)
        for spec in bucket:
            if spec.name in prefixes:
                out[spec.name] = {"type": "PathPrefix", "value": prefixes[spec.name]}
            else:
                out[spec.name] = route_path(spec.trigger.path, excluded.get(spec.name))
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
            excluded = _exclusions([a, b]) if "RegularExpression" in (ma["type"], mb["type"]) else {}
            if ma == mb:
                problems.append(f"{a.name} and {b.name}: both {ma}")
            elif "RegularExpression" in (ma["type"], mb["type"]) and _overlap(
                    _shape(a.trigger.path), _shape(b.trigger.path),
                    excluded.get(a.name) if ma["type"] == "RegularExpression" else None,
                    excluded.get(b.name) if mb["type"] == "RegularExpression" else None):
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
