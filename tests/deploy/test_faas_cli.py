"""stack.yml through the real faas-cli (built from upstream source; offline): ``build --shrinkwrap`` lays out every
function's build context with the real python3-http template, ``generate`` emits the Function objects the OpenFaaS
operator would get, and those are valid against the Function CRD and carry what stack.yml says. The shrinkwrapped
template's own Flask app then shows why CORS lives on the routes: it answers a preflight itself, without CORS headers.

faas-cli is found at $FAAS_CLI, else ../shared/tools/faas-cli beside the repository, else /work/shared/tools/faas-cli;
the template beside it in ../shared/reference/platforms/openfaas-templates/python3-http. Without them the tests skip,
except under CI (CI set), where they fail.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from crd_validation import crd_errors
from manifests_support import ROOT, substitute

TEMPLATE_REL = Path("reference") / "platforms" / "openfaas-templates" / "python3-http"
SHARED = [Path(ROOT).parent / "shared", Path("/work/shared")]


def _find(env: str | None, rel: Path) -> Path | None:
    if env and os.environ.get(env):
        return Path(os.environ[env])
    return next((base / rel for base in SHARED if (base / rel).exists()), None)


def _require(path: Path | None, what: str) -> Path:
    if path is None or not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{what} not found, and CI needs it (set FAAS_CLI or lay out ../shared beside the repository)")
        pytest.skip(f"{what} not found")
    return path


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A copy of stack.yml, the handler folders and the copied paths, with ./template/python3-http, built by
    faas-cli build --shrinkwrap."""
    cli = _require(_find("FAAS_CLI", Path("tools") / "faas-cli"), "faas-cli")
    template = _require(_find(None, TEMPLATE_REL), "the python3-http template")
    work = tmp_path_factory.mktemp("faas-cli")
    shutil.copy(Path(ROOT) / "stack.yml", work / "stack.yml")
    stack = yaml.safe_load(substitute((Path(ROOT) / "stack.yml").read_text()))
    for copied in stack["configuration"]["copy"]:
        shutil.copytree(Path(ROOT) / copied, work / copied, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(template, work / "template" / "python3-http")
    env = {**os.environ, "HOME": str(work)}
    result = subprocess.run([str(cli), "build", "--shrinkwrap", "-f", "stack.yml"], cwd=work, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    generated = subprocess.run([str(cli), "generate", "-f", "stack.yml"], cwd=work, env=env, capture_output=True,
                               text=True, timeout=120)
    assert generated.returncode == 0, generated.stderr[-3000:]
    (work / "functions.yaml").write_text(generated.stdout)
    return work


def _stack() -> dict:
    return yaml.safe_load(substitute((Path(ROOT) / "stack.yml").read_text()))


def test_shrinkwrap_builds_every_function_on_the_real_template(workdir):
    stack = _stack()
    template_index = (workdir / "template" / "python3-http" / "index.py").read_text()
    for name, fn in stack["functions"].items():
        context = workdir / "build" / name
        assert (context / "index.py").read_text() == template_index, name  # the template's entry point, unchanged
        handler = Path(ROOT) / fn["handler"]
        assert (context / "function" / "handler.py").read_text() == (handler / "handler.py").read_text()
        for copied in stack["configuration"]["copy"]:
            assert (context / "function" / Path(copied).name).is_dir(), f"{name}: {copied} not copied"
        assert (context / "function" / "requirements.txt").read_text() == (handler / "requirements.txt").read_text()


def test_generated_function_objects_are_valid_and_carry_the_stack(workdir):
    stack = _stack()
    objects = [d for d in yaml.safe_load_all((workdir / "functions.yaml").read_text()) if d]
    assert sorted(o["metadata"]["name"] for o in objects) == sorted(stack["functions"])
    assert [e for o in objects for e in crd_errors(o)] == []
    for obj in objects:
        fn, spec = stack["functions"][obj["metadata"]["name"]], obj["spec"]
        assert spec["labels"] == fn["labels"] and spec["annotations"] == fn["annotations"]
        # faas-cli writes an unset resource as "" (faas-netes skips empty ones): no CPU limit, by choice
        assert {k: v for k, v in spec["limits"].items() if v} == fn["limits"]
        assert {k: v for k, v in spec["requests"].items() if v} == fn["requests"]
        assert spec["secrets"] == fn["secrets"] and spec["environment"] == fn["environment"]
        assert "," not in fn["annotations"].get("topic", "")


def test_the_templates_flask_answers_preflights_without_cors_headers(workdir):
    """Why the routes set CORS on OpenFaaS: the template routes GET/PUT/POST/PATCH/DELETE to handle() and lets
    Flask answer OPTIONS (200, Allow, no Access-Control-*), and nothing else in the image adds them."""
    context = workdir / "build" / "users-health"
    probe = ("import index; c = index.app.test_client(); r = c.options('/anything', headers={'Origin': 'https://x', "
             "'Access-Control-Request-Method': 'PUT'}); print(r.status_code); "
             "print(sorted(k for k in r.headers.keys() if k.lower().startswith('access-control')) or '-'); "
             "print(r.headers.get('Allow'))")
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(context / "function"), "HOME": str(workdir),
           "FUNCTION_NAME": "users-health"}
    result = subprocess.run([sys.executable, "-c", probe], cwd=context, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    status, cors, allow = result.stdout.split("\n")[:3]
    assert (status, cors) == ("200", "-") and "OPTIONS" in allow
    routes = yaml.safe_load_all((Path(ROOT) / "openfaas" / "routes.yaml").read_text())
    users = next(r for r in routes if r and r["spec"].get("hostnames") == ["users.eventonight.example"])
    preflight = next(rule for rule in users["spec"]["rules"] if rule["matches"][0]["method"] == "OPTIONS")
    headers = {h["name"] for f in preflight["filters"] if f["type"] == "ResponseHeaderModifier"
               for h in f["responseHeaderModifier"]["set"]}
    assert {"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"} <= headers
