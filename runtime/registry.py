"""Finds every declared function: ``functions/<group>/<folder>/handler.py`` exporting a ``FunctionSpec`` as ``main``."""
from __future__ import annotations

import importlib
import os

from .contract import FunctionSpec

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUNCTIONS_DIR = os.path.join(REPO_ROOT, "functions")


def function_folders(root: str = FUNCTIONS_DIR) -> list[tuple[str, str]]:
    """``(group, folder)`` for every function folder, sorted."""
    found = []
    for group in sorted(os.listdir(root)):
        group_dir = os.path.join(root, group)
        if not os.path.isdir(group_dir) or group.startswith(("_", ".")):
            continue
        for folder in sorted(os.listdir(group_dir)):
            if os.path.isfile(os.path.join(group_dir, folder, "handler.py")):
                found.append((group, folder))
    return found


def discover(root: str = FUNCTIONS_DIR) -> list[FunctionSpec]:
    """Import every handler module and return its declaration, sorted by name; names must be unique."""
    specs: dict[str, FunctionSpec] = {}
    for group, folder in function_folders(root):
        module = importlib.import_module(f"functions.{group}.{folder}.handler")
        spec = getattr(module, "main", None)
        if not isinstance(spec, FunctionSpec):
            raise TypeError(f"functions/{group}/{folder}/handler.py must declare main with @function")
        if spec.group != group:
            raise ValueError(f"{spec.name} lives in functions/{group}/ but names group {spec.group}")
        if spec.name in specs:
            raise ValueError(f"function name {spec.name} is declared twice")
        specs[spec.name] = spec
    return [specs[name] for name in sorted(specs)]
