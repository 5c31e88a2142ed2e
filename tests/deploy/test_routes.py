"""HTTP: each HTTP function's route on its group's host (path templates, CORS preflight, the stack.yml route
annotation), and large groups split into HTTPRoutes of at most sixteen rules."""
from __future__ import annotations

import yaml

from deploy.generate import render
from manifests_support import declare, docs_of, sample_files, schema_errors
from runtime.contract import function, http


def test_render_http_function_with_a_path_param():
    files = sample_files()
    routes = [d for d in docs_of(files, "knative/events.yaml") if d["kind"] == "HTTPRoute"]
    assert len(routes) == 1 and routes[0]["spec"]["hostnames"] == ["events.eventonight.example"]
    rules = routes[0]["spec"]["rules"]
    by_backend = {r["backendRefs"][0]["name"]: r for r in rules if r["matches"][0]["method"] != "OPTIONS"}
    assert by_backend["events-get-event"]["matches"] == [
        {"method": "GET", "path": {"type": "RegularExpression", "value": "/events/[^/]+/?"}}]
    assert by_backend["events-update-event"]["matches"][0]["path"] == {
        "type": "RegularExpression", "value": r"/events/[^/]+/details\.json/?"}
    assert by_backend["events-get-event"]["backendRefs"] == [{"name": "events-get-event", "port": 80}]
    get_service = next(d for d in docs_of(files, "knative/events.yaml") if d["metadata"]["name"] == "events-get-event")
    assert "networking.knative.dev/visibility" not in get_service["metadata"]["labels"]
    preflight = [r for r in rules if r["matches"][0]["method"] == "OPTIONS"]
    assert len(preflight) == 1 and preflight[0]["matches"][0]["path"] == {"type": "PathPrefix", "value": "/"}
    headers = {h["name"]: h["value"] for h in rules[0]["filters"][0]["responseHeaderModifier"]["set"]}
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Idempotency-Key" in headers["Access-Control-Allow-Headers"]
    users = [d for d in docs_of(files, "knative/users.yaml") if d["kind"] == "HTTPRoute"][0]
    assert {"method": "POST", "path": {"type": "Exact", "value": "/register"}} in \
        [m for r in users["spec"]["rules"] for m in r["matches"]]
    stack = yaml.safe_load(files["stack.yml"])
    fn = stack["functions"]["events-get-event"]
    assert fn["annotations"]["com.eventonight.route"] == "GET events.${PUBLIC_HOST:-eventonight.example}/events/{eventId}"
    assert "topic" not in fn["annotations"]
    assert fn["handler"] == "./functions/events/get_event"
    assert fn["lang"] == "python3-http"
    assert fn["image"] == "${REGISTRY:-ghcr.io/eventonight}/events-get-event:${TAG:-latest}"


def test_many_http_functions_split_into_routes_of_sixteen_rules():
    specs = [declare(f"functions.interactions.f{i}.handler", function(f"interactions-f{i:02d}", http("GET", f"/r{i}")))
             for i in range(20)]
    routes = [d for d in docs_of(render(specs, {}), "knative/interactions.yaml") if d["kind"] == "HTTPRoute"]
    assert [r["metadata"]["name"] for r in routes] == ["interactions", "interactions-2"]
    assert [len(r["spec"]["rules"]) for r in routes] == [16, 5]
    assert [e for r in routes for e in schema_errors(r)] == []
