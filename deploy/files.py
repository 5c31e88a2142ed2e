"""Files: each function's pinned ``requirements.txt`` (from pyproject.toml), and the generated files on disk: which
ones this generator owns, how they drift from a render, and writing a render (removing stale files)."""
from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping

from deploy.choices import HEADER, REPO_ROOT
from runtime.contract import FunctionSpec

GENERATED_DIRS = ("knative", "openfaas", "openapi")


def load_pins(pyproject: str = os.path.join(REPO_ROOT, "pyproject.toml")) -> dict[str, list[str]]:
    """``{"base": [...runtime dependencies...], "all": [...every pinned distribution, dev included...]}``."""
    with open(pyproject, "rb") as f:
        project = tomllib.load(f)["project"]
    base = list(project.get("dependencies", []))
    extra = [req for reqs in project.get("optional-dependencies", {}).values() for req in reqs]
    return {"base": base, "all": base + extra}


def _dist(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def requirements_of(spec: FunctionSpec, pins: Mapping[str, list[str]]) -> list[str]:
    """The runtime's pinned distributions, then the function's declared extras (pinned from pyproject)."""
    lines = list(pins["base"])
    have = {_dist(line) for line in lines}
    by_dist = {_dist(line): line for line in pins["all"]}
    for extra in spec.requirements:
        dist = _dist(extra)
        if dist in have:
            continue
        if "==" in extra:
            lines.append(extra)
        elif dist in by_dist:
            lines.append(by_dist[dist])
        else:
            raise ValueError(f"{spec.name}: requirement {extra!r} is neither pinned (==) nor pinned in pyproject.toml")
        have.add(dist)
    return lines


def render_requirements(spec: FunctionSpec, pins: Mapping[str, list[str]]) -> str:
    return HEADER + "".join(line + "\n" for line in requirements_of(spec, pins))


def existing_generated(root: str = REPO_ROOT) -> set[str]:
    """Files on disk this generator owns: the fixed outputs, every YAML file in the wholly generated folders
    (GENERATED_DIRS) and any requirements file with our header."""
    found = {p for p in ("stack.yml", "events/asyncapi.yaml", "realtime/requirements.txt")
             if os.path.isfile(os.path.join(root, p))}
    candidates = []
    for folder in GENERATED_DIRS:
        for dirpath, _, filenames in os.walk(os.path.join(root, folder)):
            candidates += [os.path.join(dirpath, f) for f in filenames if f.endswith((".yaml", ".yml"))]
    functions = os.path.join(root, "functions")
    if os.path.isdir(functions):
        for group in os.listdir(functions):
            group_dir = os.path.join(functions, group)
            if os.path.isdir(group_dir):
                for folder in os.listdir(group_dir):
                    candidates.append(os.path.join(group_dir, folder, "requirements.txt"))
    for path in candidates:
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        if not os.path.isfile(path):
            continue
        if rel.split("/")[0] in GENERATED_DIRS:
            found.add(rel)  # wholly generated
        else:
            with open(path, encoding="utf-8") as f:
                if f.readline() == HEADER:
                    found.add(rel)
    return found


def drift(files: Mapping[str, str], root: str = REPO_ROOT) -> list[str]:
    """One line per generated file that differs from ``files``, is missing, or is extra."""
    problems = []
    for path, text in files.items():
        full = os.path.join(root, path)
        if not os.path.isfile(full):
            problems.append(f"missing: {path}")
            continue
        with open(full, encoding="utf-8") as f:
            if f.read() != text:
                problems.append(f"differs: {path}")
    for path in sorted(existing_generated(root) - set(files)):
        problems.append(f"extra: {path}")
    return problems


def write(files: Mapping[str, str], root: str = REPO_ROOT) -> list[str]:
    """Write ``files`` under ``root`` and remove generated files no longer produced; one line per change."""
    changed = []
    for path in sorted(existing_generated(root) - set(files)):
        os.remove(os.path.join(root, path))
        changed.append(f"removed: {path}")
    for path, text in files.items():
        full = os.path.join(root, path)
        old = None
        if os.path.isfile(full):
            with open(full, encoding="utf-8") as f:
                old = f.read()
        if old != text:
            os.makedirs(os.path.dirname(full) or ".", exist_ok=True)
            with open(full, "w", encoding="utf-8") as f:
                f.write(text)
            changed.append(f"{'wrote' if old is None else 'updated'}: {path}")
    return changed
