"""openapi/<group>.yaml (deploy/openapi.py): valid OpenAPI 3.1 (openapi-spec-validator, which a broken document
fails), one operation per HTTP function that says what its declaration says, request schemas that are the models
the readers really parse, error schemas that accept the runtime's real error bodies, and every endpoint of the
reference's contracts (../shared/reference/eventonight/openapi) documented, except those the route-coverage tool
lists as not served."""
from __future__ import annotations

import ast
import copy
import importlib.machinery
import importlib.util
import inspect
import os
import re
import textwrap
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from pydantic import BaseModel, ValidationError

from deploy.openapi import openapi_path, render_openapi
from manifests_support import ROOT, repo_specs
from runtime import errors
from runtime.contract import HttpTrigger

SHARED = [Path(ROOT).parent / "shared", Path("/work/shared")]
HTTP = [s for s in repo_specs() if isinstance(s.trigger, HttpTrigger)]
DOCUMENTS = {path: yaml.safe_load(text) for path, text in render_openapi(repo_specs()).items()}


def document(group: str) -> dict:
    return DOCUMENTS[f"openapi/{group}.yaml"]


def operation(spec) -> dict:
    return document(spec.group)["paths"][openapi_path(spec.trigger.path)[0]][spec.trigger.method.lower()]


# ---- valid OpenAPI --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", sorted(DOCUMENTS))
def test_documents_are_valid_openapi_31(path):
    problems = [str(e).splitlines()[0] for e in OpenAPIV31SpecValidator(DOCUMENTS[path]).iter_errors()]
    assert problems == []


@pytest.mark.parametrize("break_it", ["undeclared path parameter", "optional path parameter", "bad status"])
def test_the_validator_rejects_a_broken_document(break_it):
    broken = copy.deepcopy(document("interactions"))
    op = broken["paths"]["/events/{eventId}/likes"]["post"]
    if break_it == "undeclared path parameter":
        op["parameters"] = [p for p in op["parameters"] if p["in"] != "path"]
    elif break_it == "optional path parameter":
        next(p for p in op["parameters"] if p["in"] == "path")["required"] = False
    else:
        op["responses"]["2YY"] = op["responses"].pop("2XX")
    assert list(OpenAPIV31SpecValidator(broken).iter_errors())


# ---- what the declarations say --------------------------------------------------------------------------------

def test_every_http_function_is_one_operation():
    documented = [op["operationId"] for doc in DOCUMENTS.values() for item in doc["paths"].values()
                  for op in item.values()]
    assert sorted(documented) == sorted(s.name for s in HTTP)


@pytest.mark.parametrize("spec", HTTP, ids=lambda s: s.name)
def test_operation_follows_the_declaration(spec):
    op = operation(spec)
    path_params = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
    assert path_params == re.findall(r"\{(\w+)(?::path)?\}", spec.trigger.path)
    expected_security = {"required": [{"bearer": list(spec.roles)}], "optional": [{"bearer": []}, {}],
                         "public": []}[spec.auth]
    assert op["security"] == expected_security
    keyed = any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in op.get("parameters", []))
    assert keyed == (spec.state_changing and spec.idempotency_key is None)
    assert ("401" in op["responses"]) == (spec.auth == "required")
    assert ("403" in op["responses"]) == bool(spec.roles)
    assert op.get("x-emits", []) == list(spec.emits)
    assert ("requestBody" in op) == (spec.request is not None)
    assert any(group["url"] == f"http://{spec.group}.{{host}}" for group in document(spec.group)["servers"])


def reader_models(spec) -> set[type]:
    """The pydantic models a function's ``body`` reads: itself if it is one; else the models its reader passes to
    ``parse(...)`` and any model it closes over (users' ``owner_only(Model)``)."""
    if isinstance(spec.body, type):
        return {spec.body} if issubclass(spec.body, BaseModel) else set()
    if not inspect.isfunction(spec.body):
        return set()
    closed_over = inspect.getclosurevars(spec.body).nonlocals
    found = {v for v in closed_over.values() if isinstance(v, type) and issubclass(v, BaseModel)}
    names = {**spec.body.__globals__, **closed_over}
    for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(spec.body)))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "parse" and node.args:
            found.add(eval(compile(ast.Expression(node.args[0]), "<reader>", "eval"), names))
    return {m for m in found if m is not None}


@pytest.mark.parametrize("spec", HTTP, ids=lambda s: s.name)
def test_declared_request_model_is_what_the_reader_parses(spec):
    parsed = reader_models(spec)
    if parsed:
        assert spec.request in parsed, f"declare request= one of {sorted(m.__name__ for m in parsed)}"
    else:
        assert spec.request is None


def test_the_reader_scan_finds_parse_calls_and_closures():
    names = {s.name: s for s in HTTP}
    assert {m.__name__ for m in reader_models(names["interactions-like-event"])} == {"LikeRequest"}
    assert {m.__name__ for m in reader_models(names["users-update-user"])} == {"UserUpdate"}
    assert reader_models(names["events-list-events"]) == set()


def schema_validator(group: str, schema: dict) -> Draft202012Validator:
    """``schema`` with its ``#/components/...`` references resolved in the group's document (the document's own
    keys are no JSON Schema keywords)."""
    return Draft202012Validator({**document(group), **schema})


@pytest.mark.parametrize("spec", [s for s in HTTP if s.request is not None], ids=lambda s: s.name)
def test_request_schema_refuses_unknown_fields_as_the_model_does(spec):
    schema = operation(spec)["requestBody"]["content"]["application/json"]["schema"]
    unknown = {"surely_not_a_field": 1}
    with pytest.raises(ValidationError):
        spec.request.model_validate(unknown)
    assert not schema_validator(spec.group, schema).is_valid(unknown)


def test_error_schemas_accept_the_runtimes_error_bodies():
    doc = document("ticketing")  # its operations use most statuses
    used = {int(name.removeprefix("Error")) for name in doc["components"]["responses"]}
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.FunctionError)]
    checked = 0
    for code, entry in errors.CATALOGUE.items():
        if entry.status not in used:
            continue
        raiser = next(c for c in classes if errors.CATALOGUE[c.code].status == entry.status)
        body = raiser(code=code, details=[{"field": "f", "message": "m"}]).body()
        schema = doc["components"]["responses"][f"Error{entry.status}"]["content"]["application/json"]["schema"]
        assert schema_validator("ticketing", schema).is_valid(body), body
        assert not schema_validator("ticketing", schema).is_valid({**body, "error": "not_a_code"})
        checked += 1
    assert checked >= 30


# ---- the reference's contracts --------------------------------------------------------------------------------

def route_coverage():
    """The route-coverage tool as a module: its reference file per group and the endpoints it lists as not served."""
    tool = next((base / "tools" / "route-coverage" for base in SHARED if (base / "tools" / "route-coverage").exists()),
                None)
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("../shared/tools/route-coverage not found, and CI needs it")
        pytest.skip("../shared/tools/route-coverage not found")
    loader = importlib.machinery.SourceFileLoader("route_coverage", str(tool))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("route_coverage", loader))
    loader.exec_module(module)
    return module


def shape(path: str) -> str:
    """A path modulo parameter names and a trailing slash."""
    return re.sub(r"\{[^}]+\}", "{}", path).rstrip("/") or "/"


def test_every_reference_endpoint_is_documented():
    tool = route_coverage()
    missing, compared = [], 0
    for group, file in tool.GROUPS.items():
        with open(os.path.join(tool.REF, file)) as f:
            reference = yaml.safe_load(f)
        ours = {(m.upper(), shape(p)) for p, item in document(group)["paths"].items() for m in item}
        for path, item in reference["paths"].items():
            for method in item:
                if method not in ("get", "post", "put", "delete", "patch"):
                    continue
                if (group, method.upper(), path) in tool.NOT_SERVED:
                    continue
                compared += 1
                if (method.upper(), shape(path)) not in ours:
                    missing.append(f"{group}: {method.upper()} {path}")
    assert missing == []
    assert compared >= 80  # the reference has 87 endpoints, 2 of them not served
