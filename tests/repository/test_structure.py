"""The repository's own rules, checked on its source: small modules, no import cycles, one public runtime surface,
one error catalogue that the docs list, no calendar dates in tests, a clean lint."""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import runtime
from runtime.errors import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 400
PACKAGES = {"runtime": ROOT / "runtime", "functions": ROOT / "functions", "events": ROOT / "events",
            "deploy": ROOT / "deploy", "localrunner": ROOT / "local-runner" / "localrunner", "ops": ROOT / "ops"}


def python_files() -> list[Path]:
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "*.py"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split()
    return [ROOT / name for name in tracked if (ROOT / name).is_file()]


def module_name(path: Path) -> str | None:
    for package, folder in PACKAGES.items():
        if path.is_relative_to(folder):
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    return None


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """The first-party modules ``name`` imports anywhere in its body (function-level imports too)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found |= {t for t in targets if t in known}
    return found - {name}


def import_graph() -> dict[str, set[str]]:
    modules = {name: path for path in python_files() if (name := module_name(path))}
    known = set(modules)
    graph = {name: imports_of(path, name, known) for name, path in modules.items()}
    # Importing a submodule runs its packages' __init__ first; that is not a dependency of ours.
    return {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in graph.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10_000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in python_files() if (n := len(p.read_text().splitlines())) >
            MAX_MODULE_LINES}
    assert long == {}


def test_no_import_cycles():
    graph = import_graph()
    assert "runtime.invoke" in graph and graph["runtime.invoke"]  # the graph is really built
    assert cycles(graph) == []


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_functions_use_only_the_runtimes_public_surface():
    offences = []
    for path in python_files():
        if not path.is_relative_to(ROOT / "functions"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "runtime":
                names = {alias.name for alias in node.names}
                if node.module != "runtime" or not names <= set(runtime.__all__):
                    offences.append(f"{path.relative_to(ROOT)}:{node.lineno} from {node.module} import {names}")
            elif isinstance(node, ast.Import) and any(a.name.split(".")[0] == "runtime" for a in node.names):
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno} import runtime...")
    assert offences == []


def test_the_public_surface_exists():
    assert sorted(set(runtime.__all__)) == sorted(runtime.__all__)
    assert [name for name in runtime.__all__ if not hasattr(runtime, name)] == []


def test_every_error_code_raised_is_in_the_catalogue():
    used = set()
    for path in python_files():
        if not (path.is_relative_to(ROOT / "runtime") or path.is_relative_to(ROOT / "functions")):
            continue
        used |= set(re.findall(r'\bcode ?= ?"([a-z_]+)"', path.read_text()))  # raised, or a class default
    assert used and used - set(CATALOGUE) == set()


def test_the_architecture_doc_lists_the_public_surface_and_the_error_catalogue():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    assert [name for name in runtime.__all__ if f"`{name}`" not in doc] == []
    rows = re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \| (.+) \|$", doc, flags=re.M)
    assert rows == [(code, str(entry.status), entry.message) for code, entry in CATALOGUE.items()]


CALENDAR = re.compile(r"datetime\(\s*20\d\d|[\"']20\d\d-\d\d-\d\d")


def test_tests_name_no_calendar_dates():
    """A test means the same on any day: dates come from the wall clock (tests/moments.py), never a calendar."""
    offences = [f"{p.relative_to(ROOT)}:{n}" for p in python_files()
                if p.is_relative_to(ROOT / "tests") or p.is_relative_to(ROOT / "bench")
                for n, line in enumerate(p.read_text().splitlines(), 1)
                if CALENDAR.search(line) and p.name != "test_structure.py"]
    assert offences == []


def test_test_helpers_are_not_named_like_tests():
    assert [str(p.relative_to(ROOT)) for p in python_files() if re.fullmatch(r"test_.*_support\.py", p.name)] == []


@pytest.mark.skipif(shutil.which("ruff", path=str(Path(sys.executable).parent)) is None, reason="ruff not installed")
def test_lint_is_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    result = subprocess.run([ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:]


def _bounded(annotation, field_info=None) -> bool:
    """Every ``str`` in ``annotation`` has a max length (on the field or on the item), or is a Literal."""
    import typing

    from annotated_types import MaxLen

    limits = [m for m in getattr(field_info, "metadata", []) if isinstance(m, MaxLen)]
    origin = typing.get_origin(annotation)
    if annotation is str:
        return bool(limits)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        inner = [m for e in extra for m in getattr(e, "metadata", [e]) if isinstance(m, MaxLen)]
        return base is not str or bool(inner) or bool(limits)
    if origin is typing.Literal:
        return True
    if origin in (list, tuple, set) and typing.get_args(annotation):
        return bool(limits) and all(_bounded(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return all(a is type(None) or _bounded(a, field_info) for a in typing.get_args(annotation))
    return True  # numbers, booleans, datetimes, URLs (pydantic caps them), nested models (checked on their own)


def test_every_free_text_field_of_a_request_has_a_length_limit():
    from runtime import Strict
    from runtime.registry import discover

    discover()  # imports every function and its group's models
    models, queue = [], list(Strict.__subclasses__())
    while queue:
        model = queue.pop()
        models.append(model)
        queue.extend(model.__subclasses__())
    unbounded = [f"{m.__module__}.{m.__name__}.{name}" for m in models if m.__module__.startswith("functions.")
                 for name, info in m.model_fields.items() if not _bounded(info.annotation, info)]
    assert len(models) > 10 and unbounded == []


def test_the_length_check_sees_unbounded_text():
    from typing import Annotated

    from pydantic import Field
    from pydantic.fields import FieldInfo

    assert not _bounded(str, FieldInfo())
    assert not _bounded(str | None, FieldInfo())
    assert not _bounded(list[str], FieldInfo(max_length=3))  # the list is bounded, its items are not
    assert _bounded(list[Annotated[str, Field(max_length=5)]] | None, Field(default=None, max_length=3))
    assert _bounded(str | None, Field(default=None, max_length=10))
