"""A document checked against its upstream CRD (deploy/schemas/upstream/) as the API server does on create:

1. defaults of the structural schema applied (recursively, inside defaults too);
2. every field the schema does not know reported (the API server would prune it silently: a misspelled field is
   lost), except under ``x-kubernetes-preserve-unknown-fields``, ``additionalProperties`` and embedded resources;
3. value validation: types (``x-kubernetes-int-or-string``, ``nullable``), enum, pattern, lengths, bounds, item
   counts, ``required``, ``x-kubernetes-list-type`` set/map uniqueness, anyOf/allOf/oneOf/not;
4. the CEL ``x-kubernetes-validations`` rules evaluated (cel-python) on the defaulted object, bottom-up; transition
   rules (``oldSelf``) do not apply on create;
5. ``metadata``: name (DNS-1123 subdomain) and, for namespaced kinds, a namespace.

Admission webhooks (Knative's, eventing-rabbitmq's) are Go code upstream: the rules that matter here are checked
in manifests_cross_check.py instead.
"""
from __future__ import annotations

import copy
import functools
import glob
import json
import os
import re
from typing import Any

import celpy
import yaml

from deploy.generate import REPO_ROOT

UPSTREAM = os.path.join(REPO_ROOT, "deploy", "schemas", "upstream")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


@functools.lru_cache(maxsize=None)
def crds() -> dict[tuple[str, str], tuple[dict[str, Any], str]]:
    """``{(apiVersion, kind): (openAPIV3Schema, scope)}`` for every served version of every upstream CRD."""
    out = {}
    for path in sorted(glob.glob(os.path.join(UPSTREAM, "*.yaml"))):
        with open(path, encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                spec = doc["spec"]
                for version in spec["versions"]:
                    if version.get("served", True):
                        out[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = (
                            version["schema"]["openAPIV3Schema"], spec.get("scope", "Namespaced"))
    return out


@functools.lru_cache(maxsize=None)
def _program(rule: str):
    env = celpy.Environment()
    return env.program(env.compile(rule))


def apply_defaults(schema: dict[str, Any], value: Any) -> Any:
    if isinstance(value, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                value[key] = apply_defaults(sub, value[key])
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key in value:
                if key not in (schema.get("properties") or {}):
                    value[key] = apply_defaults(extra, value[key])
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [apply_defaults(schema["items"], item) for item in value]
    return value


def _type_ok(schema: dict[str, Any], value: Any) -> bool:
    if schema.get("x-kubernetes-int-or-string"):
        return isinstance(value, (int, str)) and not isinstance(value, bool)
    kind = schema.get("type")
    if kind is None:
        return True
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _TYPES[kind])


def _values(schema: dict[str, Any], value: Any, path: str, errors: list[str]) -> None:
    """Value validations of one node (no recursion into children)."""
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not one of {schema['enum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path}: {value!r} does not match {schema['pattern']}")
        if len(value) > schema.get("maxLength", len(value)) or len(value) < schema.get("minLength", 0):
            errors.append(f"{path}: length {len(value)} outside [{schema.get('minLength', 0)}, "
                          f"{schema.get('maxLength')}]")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if ("minimum" in schema and value < schema["minimum"]) or ("maximum" in schema and value > schema["maximum"]):
            errors.append(f"{path}: {value} outside [{schema.get('minimum')}, {schema.get('maximum')}]")
    if isinstance(value, list):
        if len(value) > schema.get("maxItems", len(value)) or len(value) < schema.get("minItems", 0):
            errors.append(f"{path}: {len(value)} items outside [{schema.get('minItems', 0)}, {schema.get('maxItems')}]")
        list_type = schema.get("x-kubernetes-list-type")
        keys = schema.get("x-kubernetes-list-map-keys") or []
        seen = [repr([item.get(k) for k in keys]) if list_type == "map" and isinstance(item, dict) else repr(item)
                for item in value]
        if list_type in ("set", "map") and len(seen) != len(set(seen)):
            errors.append(f"{path}: duplicate items in a list of type {list_type}")
    if isinstance(value, dict):
        for key in schema.get("required") or []:
            if key not in value:
                errors.append(f"{path}: required field {key!r} missing")
    for sub in schema.get("allOf") or []:
        _values(sub, value, path, errors)
    if "anyOf" in schema and not schema.get("x-kubernetes-int-or-string"):
        if not any(not _node_errors(sub, value, path) for sub in schema["anyOf"]):
            errors.append(f"{path}: matches none of anyOf")
    if "oneOf" in schema and sum(1 for sub in schema["oneOf"] if not _node_errors(sub, value, path)) != 1:
        errors.append(f"{path}: does not match exactly one of oneOf")
    if "not" in schema and not _node_errors(schema["not"], value, path):
        errors.append(f"{path}: matches a forbidden schema (not)")


def _node_errors(schema: dict[str, Any], value: Any, path: str) -> list[str]:
    errors: list[str] = []
    if _type_ok(schema, value):
        _values(schema, value, path, errors)
    else:
        errors.append("type")
    return errors


def validate(schema: dict[str, Any], value: Any, path: str = "", root: bool = False) -> list[str]:
    """Every structural, value and CEL violation under ``value`` (already defaulted)."""
    errors: list[str] = []
    if value is None:
        return [] if schema.get("nullable") else [f"{path or '/'}: null"]
    if not _type_ok(schema, value):
        return [f"{path or '/'}: {type(value).__name__} where the schema wants {schema.get('type')}"]
    _values(schema, value, path or "/", errors)
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        embedded = schema.get("x-kubernetes-embedded-resource") or root
        for key, item in value.items():
            where = f"{path}/{key}"
            if embedded and key == "metadata":
                continue  # ObjectMeta: checked by the API server itself (_metadata_errors), never pruned
            if key in props:
                errors += validate(props[key], item, where)
            elif isinstance(extra, dict):
                errors += validate(extra, item, where)
            elif extra is True or schema.get("x-kubernetes-preserve-unknown-fields"):
                continue
            elif embedded and key in ("apiVersion", "kind", "metadata"):
                continue
            else:
                errors.append(f"{where}: unknown field (the API server would drop it)")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            errors += validate(schema["items"], item, f"{path}/{index}")
    if errors:
        return errors  # the API server runs CEL only on schema-valid values
    for rule in schema.get("x-kubernetes-validations") or []:
        if "oldSelf" in rule["rule"]:
            continue
        outcome = _evaluate(rule["rule"], json.dumps(value, sort_keys=True))
        if outcome is not True:
            errors.append(f"{path or '/'}: {rule.get('message') or rule['rule']}{outcome or ''}")
    return errors


@functools.lru_cache(maxsize=65536)
def _evaluate(rule: str, value_json: str) -> bool | str:
    """True, False, or the evaluation error (which rejects the object too); memoised: routes repeat their filters."""
    try:
        ok = _program(rule).evaluate({"self": celpy.json_to_cel(json.loads(value_json))})
    except Exception as exc:  # noqa: BLE001
        return f" (evaluation failed: {exc})"
    return True if bool(ok) is True and isinstance(ok, (bool, celpy.celtypes.BoolType)) else False


def _metadata_errors(doc: dict[str, Any], scope: str) -> list[str]:
    meta = doc.get("metadata") or {}
    errors = []
    name = meta.get("name", "")
    if not (isinstance(name, str) and len(name) <= 253 and _DNS_SUBDOMAIN.match(name)):
        errors.append(f"/metadata/name: {name!r} is not a DNS-1123 subdomain")
    if scope == "Namespaced" and not meta.get("namespace"):
        errors.append("/metadata/namespace: missing (a namespaced kind; the generator names its namespace)")
    for field in ("labels", "annotations"):
        if not all(isinstance(v, str) for v in (meta.get(field) or {}).values()):
            errors.append(f"/metadata/{field}: values must be strings")
    return errors


def crd_errors(doc: dict[str, Any], namespaced_ok_without_namespace: bool = False) -> list[str]:
    """Every reason the API server would reject (or silently change) ``doc``, as ``Kind name: /path: reason``."""
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key not in crds():
        return [f"no upstream CRD for {key}"]
    schema, scope = crds()[key]
    obj = apply_defaults(schema, copy.deepcopy(doc))
    errors = validate(schema, obj, root=True)
    errors += _metadata_errors(obj, "Cluster" if namespaced_ok_without_namespace else scope)
    name = (doc.get("metadata") or {}).get("name")
    return [f"{doc.get('kind')} {name}: {e}" for e in errors]


def defaulted(doc: dict[str, Any]) -> dict[str, Any]:
    schema, _ = crds()[(doc["apiVersion"], doc["kind"])]
    return apply_defaults(schema, copy.deepcopy(doc))
