"""The generated files on disk: no drift from a fresh render, the header, a complete handler folder, pinned
requirements, the AsyncAPI document, and render's determinism and refusals."""
from __future__ import annotations

import os

import pytest
import yaml

from deploy import generate
from deploy.generate import HEADER, render
from events import catalogue as real_catalogue
from manifests_support import ROOT, SAMPLE_CATALOGUE, declare, repo_specs, sample_files, sample_specs
from runtime.contract import function, http
from runtime.registry import FUNCTIONS_DIR, function_folders

# ---- drift ----------------------------------------------------------------------------------------------------

def test_committed_files_equal_a_fresh_render():
    files = render(repo_specs(), real_catalogue())
    assert generate.drift(files) == [], "run: python -m deploy.generate"


def test_check_cli_reports_no_drift(capsys):
    assert generate.main(["--check"]) == 0


def test_generated_files_carry_the_header():
    for path, text in render(repo_specs(), real_catalogue()).items():
        assert text.startswith(HEADER), path


# ---- handler folders ------------------------------------------------------------------------------------------

def test_every_handler_folder_is_complete():
    if not os.path.isdir(FUNCTIONS_DIR):
        pytest.skip("no functions/ yet")
    missing = []
    for group, folder in function_folders():
        for name in ("handler.py", "__init__.py", "requirements.txt"):
            if not os.path.isfile(os.path.join(FUNCTIONS_DIR, group, folder, name)):
                missing.append(f"functions/{group}/{folder}/{name}")
    assert missing == []


def test_handler_modules_export_both_entry_points():
    import importlib

    for spec in repo_specs():
        module = importlib.import_module(generate.folder_path(spec).replace("/", ".") + ".handler")
        assert callable(getattr(module, "handle", None)), f"{spec.name}: handler.py must export handle"
        assert getattr(module, "new", None) is not None, f"{spec.name}: handler.py must export new"


# ---- render: requirements, AsyncAPI, determinism --------------------------------------------------------------

def test_asyncapi_lists_the_catalogue():
    with open(os.path.join(ROOT, "events", "asyncapi.yaml"), encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    assert doc["asyncapi"] == "2.6.0"
    assert sorted(doc["channels"]) == sorted(real_catalogue())


def test_render_is_deterministic_and_order_independent():
    specs = sample_specs()
    assert render(specs, SAMPLE_CATALOGUE) == render(list(reversed(specs)), dict(reversed(SAMPLE_CATALOGUE.items())))


def test_render_requirements_and_asyncapi():
    files = sample_files()
    req = files["functions/users/register/requirements.txt"]
    assert req.startswith(HEADER)
    lines = [line for line in req.splitlines() if line and not line.startswith("#")]
    assert lines == generate.load_pins()["base"]
    assert "cloudevents==2.2.0" in lines
    api = yaml.safe_load(files["events/asyncapi.yaml"])
    channel = api["channels"]["user.followed"]
    assert channel["x-consumers"] == ["notifications-on-social"] and channel["x-producers"] == []
    assert api["channels"]["user.created"]["x-producers"] == ["users-register"]
    assert channel["bindings"]["amqp"]["exchange"] == {"name": "eventonight", "type": "topic", "durable": True,
                                                       "autoDelete": False, "vhost": "/"}
    assert api["components"]["messages"]["user-followed"]["payload"] == {"type": "object"}


def test_declared_extra_requirements_are_pinned_from_pyproject():
    pins = {"base": ["cloudevents==2.2.0"], "all": ["cloudevents==2.2.0", "mongomock==4.3.0"]}
    spec = declare("functions.media.upload.handler",
                   function("media-upload", http("POST", "/media"), requirements=["mongomock", "cloudevents"]))
    text = render([spec], {}, pins)["functions/media/upload/requirements.txt"]
    assert text == HEADER + "cloudevents==2.2.0\nmongomock==4.3.0\n"
    bad = declare("functions.media.bad.handler", function("media-bad", http("POST", "/x"), requirements=["leftpad"]))
    with pytest.raises(ValueError, match="leftpad"):
        render([bad], {}, pins)


def test_render_refuses_unknown_event_types():
    with pytest.raises(ValueError, match="user.created"):
        render(sample_specs(), {k: v for k, v in SAMPLE_CATALOGUE.items() if k != "user.created"})
