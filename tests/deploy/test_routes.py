"""HTTP: each HTTP function's route on its group's host, on both platforms (match choice, host rewrite to Knative's
local gateway, the OpenFaaS router's two hops, CORS and preflights), and routes split at sixteen rules."""
from __future__ import annotations

import re

import pytest
import yaml

from deploy.generate import render
from deploy.routes import ambiguities, path_matches, route_path
from manifests_support import all_errors, declare, docs_of, sample_files, sample_specs
from runtime.contract import function, http

CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, PATCH, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type, Authorization, Accept, Idempotency-Key"}


def _routes(files, path, namespace=None):
    return [d for d in docs_of(files, path) if d["kind"] == "HTTPRoute"
            and (namespace is None or d["metadata"]["namespace"] == namespace)]


def _headers(rule):
    f = next(f for f in rule["filters"] if f["type"] == "ResponseHeaderModifier")
    return {h["name"]: h["value"] for h in f["responseHeaderModifier"]["set"]}


def test_knative_rules_rewrite_the_host_and_go_to_the_local_gateway():
    files = sample_files()
    (route,) = _routes(files, "knative/events.yaml")
    assert route["metadata"]["namespace"] == "eventonight"
    assert route["spec"]["hostnames"] == ["events.eventonight.example"]
    assert route["spec"]["parentRefs"] == [{"name": "eventonight", "namespace": "gateway-system"}]
    by_host = {next(f for f in r["filters"] if f["type"] == "URLRewrite")["urlRewrite"]["hostname"]: r
               for r in route["spec"]["rules"] if r["matches"][0]["method"] != "OPTIONS"}
    get = by_host["events-get-event.eventonight.svc.cluster.local"]
    assert get["matches"] == [{"method": "GET", "path": {"type": "PathPrefix", "value": "/events"}}]
    assert get["backendRefs"] == [{"name": "kourier-internal", "namespace": "kourier-system", "port": 80}]
    assert get["timeouts"] == {"request": "0s"}
    assert _headers(get) == CORS
    update = by_host["events-update-event.eventonight.svc.cluster.local"]
    assert update["matches"][0]["path"] == {"type": "RegularExpression", "value": r"^/events/[^/]+/details\.json/?$"}
    (grant,) = docs_of(files, "knative/routing.yaml")
    assert grant["kind"] == "ReferenceGrant" and grant["metadata"]["namespace"] == "kourier-system"
    assert grant["spec"] == {"from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute",
                                       "namespace": "eventonight"}],
                             "to": [{"group": "", "kind": "Service", "name": "kourier-internal"}]}


def test_every_knative_service_is_cluster_local():
    files = sample_files()
    services = [d for p in files if p.startswith("knative/") for d in docs_of(files, p) if d["kind"] == "Service"]
    assert services and all(s["metadata"]["labels"]["networking.knative.dev/visibility"] == "cluster-local"
                            for s in services)


def test_preflights_go_to_a_function_and_get_the_cors_headers():
    files = sample_files()
    for path, namespace in (("knative/users.yaml", None), ("openfaas/routes.yaml", "openfaas")):
        users = [r for r in _routes(files, path, namespace) if r["spec"].get("hostnames") == ["users.eventonight.example"]]
        (preflight,) = [rule for r in users for rule in r["spec"]["rules"] if rule["matches"][0]["method"] == "OPTIONS"]
        assert preflight["matches"] == [{"method": "OPTIONS", "path": {"type": "PathPrefix", "value": "/"}}]
        assert _headers(preflight) == CORS


def test_openfaas_routes_go_through_the_router_to_the_gateway():
    files = sample_files()
    public = [r for r in _routes(files, "openfaas/routes.yaml") if r["spec"]["parentRefs"][0]["name"] == "eventonight"]
    assert sorted(r["metadata"]["name"] for r in public) == ["events", "users"]  # HTTP groups only
    events = next(r for r in public if r["metadata"]["name"] == "events")
    named = {next(f for f in rule["filters"] if f["type"] == "RequestHeaderModifier")
             ["requestHeaderModifier"]["set"][0]["value"]: rule for rule in events["spec"]["rules"]
             if rule["matches"][0]["method"] != "OPTIONS"}
    assert sorted(named) == ["events-get-event", "events-update-event"]
    assert named["events-get-event"]["backendRefs"] == [{"name": "eventonight-openfaas", "port": 80}]
    router = [r for r in _routes(files, "openfaas/routes.yaml") if r["metadata"]["name"].startswith("openfaas-")]
    rules = [rule for r in router for rule in r["spec"]["rules"]]
    assert [rule["matches"][0]["headers"][0]["value"] for rule in rules] == \
        ["events-get-event", "events-update-event", "users-register"]
    assert rules[0]["filters"][0] == {"type": "URLRewrite", "urlRewrite": {"path": {
        "type": "ReplacePrefixMatch", "replacePrefixMatch": "/function/events-get-event/"}}}
    assert rules[0]["backendRefs"] == [{"name": "gateway", "port": 8080}]
    text = files["openfaas/routes.yaml"]
    assert "notifications-on-social" not in text and "ticketing-release-expired" not in text


def test_the_stack_records_the_route():
    fn = yaml.safe_load(sample_files()["stack.yml"])["functions"]["events-get-event"]
    assert fn["annotations"]["com.eventonight.route"] == "GET events.${PUBLIC_HOST:-eventonight.example}/events/{eventId}"
    assert "topic" not in fn["annotations"]


@pytest.mark.parametrize("templates, expected", [
    (["GET /{id}", "GET /health"], {"/{id}": ("PathPrefix", "/"), "/health": ("Exact", "/health")}),
    (["DELETE /{id}", "DELETE /{id}/poster"], {"/{id}": ("RegularExpression", "^/[^/]+/?$"),
                                               "/{id}/poster": ("RegularExpression", "^/[^/]+/poster/?$")}),
    (["GET /{id}", "GET /tags/{c}", "GET /tags"], {"/{id}": ("PathPrefix", "/"), "/tags/{c}": ("PathPrefix", "/tags"),
                                                   "/tags": ("Exact", "/tags")}),
    (["GET /{key:path}"], {"/{key:path}": ("PathPrefix", "/")}),
    (["GET /a/{x:path}/b"], {"/a/{x:path}/b": ("RegularExpression", "^/a/.+/b/?$")}),
])
def test_path_matches_prefer_exact_and_prefix(templates, expected):
    specs = [declare(f"functions.media.f{i}.handler", function(f"media-f{i}", http(*t.split(" ")))) for i, t in
             enumerate(templates)]
    matches = path_matches(specs)
    got = {s.trigger.path: (matches[s.name]["type"], matches[s.name]["value"]) for s in specs}
    assert got == expected
    assert ambiguities(specs) == []


def test_regular_expressions_are_anchored_and_match_as_the_functions_do():
    value = route_path("/users/{userId}/reviews/{eventId}")["value"]
    assert value == "^/users/[^/]+/reviews/[^/]+/?$"
    for sample, served in (("/users/u1/reviews/e1", True), ("/users/u1/reviews/e1/", True),
                           ("/x/users/u1/reviews/e1", False), ("/users/u1/reviews/e1/more", False)):
        assert bool(re.search(value, sample)) is served  # unanchored search: the same as fullmatch


def test_ambiguous_routes_are_reported():
    a = declare("functions.media.a.handler", function("media-a", http("GET", "/{id}")))
    b = declare("functions.media.b.handler", function("media-b", http("GET", "/{id}/x")))
    c = declare("functions.media.c.handler", function("media-c", http("GET", "/{other}/x")))
    assert any("media-b" in p and "media-c" in p for p in ambiguities([a, b, c]))
    health = declare("functions.media.h.handler", function("media-h", http("GET", "/health")))
    regex = declare("functions.media.r.handler", function("media-r", http("GET", "/{id}/y")))
    # /{id}/y lies under /{id}'s prefix, so /{id} must be a regular expression; it would overlap /health's Exact
    # with no defined precedence, so it excludes "health"
    assert ambiguities([health, regex, a]) == []
    assert re.search(path_matches([health, regex, a])["media-a"]["value"], "/health") is None
    assert ambiguities([health, a]) == []  # /{id} alone is a PathPrefix below /health's Exact


@pytest.mark.parametrize("served, literal", [("/users/u1/conversations/c1", "/users/u1/conversations/search")])
def test_a_parameter_excludes_the_literal_another_route_of_its_method_has_there(served, literal):
    get = declare("functions.chat.g.handler", function("chat-g", http("GET", "/users/{u}/conversations/{c}")))
    search = declare("functions.chat.s.handler", function("chat-s", http("GET", "/users/{u}/conversations/search")))
    matches = path_matches([get, search])
    assert ambiguities([get, search]) == []
    for sample, by_get in ((served, True), (served + "/", True), (literal, False), (literal + "/", False),
                           ("/users/u1/conversations/searchx", True), ("/users/u1/conversations/sear", True)):
        assert bool(re.search(matches["chat-g"]["value"], sample)) is by_get, sample
        assert bool(re.search(matches["chat-s"]["value"], sample)) is (sample.rstrip("/") == literal), sample


def test_many_http_functions_split_into_routes_of_sixteen_rules():
    specs = [declare(f"functions.interactions.f{i}.handler", function(f"interactions-f{i:02d}", http("GET", f"/r{i}")))
             for i in range(20)]
    files = render(specs, {})
    routes = _routes(files, "knative/interactions.yaml")
    assert [r["metadata"]["name"] for r in routes] == ["interactions", "interactions-2"]
    assert [len(r["spec"]["rules"]) for r in routes] == [16, 5]
    router = [r for r in _routes(files, "openfaas/routes.yaml") if r["metadata"]["name"].startswith("openfaas-")]
    assert [len(r["spec"]["rules"]) for r in router] == [16, 4]
    assert [e for r in routes + router for e in all_errors(r)] == []
    assert sample_specs()  # the samples stay importable for the other modules
