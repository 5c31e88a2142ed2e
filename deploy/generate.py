"""Render the deployment manifests from the functions' own declarations (design §9).

    python -m deploy.generate            write stack.yml, knative/*.yaml, openfaas/*.yaml, events/asyncapi.yaml,
                                         openapi/<group>.yaml and every functions/<group>/<folder>/requirements.txt
                                         (removing stale ones)
    python -m deploy.generate --check    exit 1 listing every generated file that differs, is missing or is extra

``render(specs, catalogue)`` is pure and deterministic: the same declarations give byte-identical files. This is
the entry point; the work is split by role: deploy.choices (every choice of this generator, as named constants;
docs/deploy.md explains them), deploy.openfaas (stack.yml), deploy.openfaas_routes (openfaas/: routes, network
policies, RabbitMQ topology, Helm values), deploy.knative (services, triggers, pingsources, broker),
deploy.routes (HTTPRoute matches, Knative's routes), deploy.asyncapi, deploy.openapi, deploy.files (requirements pins, drift, writing).
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from deploy.asyncapi import render_asyncapi
from deploy.choices import DOMAIN, HEADER, KNATIVE_COMMAND, REPO_ROOT, SECRETS_DIR
from deploy.common import event_types, folder_path
from deploy.files import drift, load_pins, render_requirements, write
from deploy.knative import render_broker, render_group, render_routing, trigger_name
from deploy.openapi import render_openapi
from deploy.openfaas import render_stack
from deploy.openfaas_routes import render_openfaas_files
from deploy.realtime import render_realtime
from deploy.routes import route_path
from runtime.contract import FunctionSpec

# Names other code imports from deploy.generate (tests): kept here whatever module defines them.
__all__ = ["DOMAIN", "HEADER", "KNATIVE_COMMAND", "REPO_ROOT", "SECRETS_DIR", "current", "drift", "folder_path",
           "load_pins", "main", "render", "route_path", "trigger_name", "write"]


def check_types(specs: Iterable[FunctionSpec], catalogue: Mapping[str, Any]) -> None:
    unknown = sorted({f"{t} ({s.name})" for s in specs for t in (*event_types(s), *s.emits) if t not in catalogue})
    if unknown:
        raise ValueError("event types not in the catalogue (add events/schemas/<type>.json): " + ", ".join(unknown))


def render(specs: Sequence[FunctionSpec], catalogue: Mapping[str, Any],
           pins: Mapping[str, list[str]] | None = None) -> dict[str, str]:
    """``{repo-relative path: text}`` for every generated file. Pure apart from reading pyproject pins if omitted."""
    specs = sorted(specs, key=lambda s: s.name)
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError("function names must be unique")
    check_types(specs, catalogue)
    if pins is None:
        pins = load_pins()
    files: dict[str, str] = {"stack.yml": render_stack(specs), "knative/broker.yaml": render_broker(),
                             "knative/routing.yaml": render_routing(),
                             "events/asyncapi.yaml": render_asyncapi(specs, catalogue),
                             **render_openfaas_files(specs), **render_openapi(specs)}
    groups = sorted({s.group for s in specs})
    for group in groups:
        files[f"knative/{group}.yaml"] = render_group(group, [s for s in specs if s.group == group])
    for spec in specs:
        files[f"{folder_path(spec)}/requirements.txt"] = render_requirements(spec, pins)
    if any(s.group == "notifications" for s in specs):  # the group's Socket.IO service (deploy/realtime.py)
        files.update(render_realtime(pins))
    return dict(sorted(files.items()))


def current() -> dict[str, str]:
    """Render from the declarations in this checkout."""
    from events import catalogue
    from runtime.registry import FUNCTIONS_DIR, discover

    specs = discover() if os.path.isdir(FUNCTIONS_DIR) else []
    return render(specs, catalogue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated file is stale, missing or extra")
    args = parser.parse_args(argv)
    files = current()
    if args.check:
        problems = drift(files)
        for line in problems:
            print(line)
        if problems:
            print("generated files are out of date: run python -m deploy.generate", file=sys.stderr)
            return 1
        print(f"{len(files)} generated files up to date")
        return 0
    for line in write(files):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
