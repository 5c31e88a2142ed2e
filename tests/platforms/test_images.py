"""The same function folder, built and run as each platform would run it (no Docker, see conftest.py).

OpenFaaS: ``python index.py`` (the python3-http template, stood in for) in ``/home/app`` with stack.yml's environment.
Knative: the Service's ``command`` (``python -m runtime.adapters.knative_main``) and ``env`` from knative/<group>.yaml
in the same image layout. Every invocation goes through ``runtime.store`` (even ``/health``), so tests that reach a
function's ``main`` need ``MONGO_URI``; those that are answered before it (bad input, func-python's probes) do not.
"""
from __future__ import annotations

import json
import subprocess
import uuid
from datetime import datetime, timezone

import pytest

from images_support import SIGNING_KEYS
from runtime.signing import KeyRing

KEYS = KeyRing.parse(SIGNING_KEYS)
FORGED = KeyRing.parse("image-test:" + "f" * 40)  # the right key id, the wrong secret
PLATFORMS = ["openfaas", "knative"]
HEALTH = "functions/users/health"
GET_USER = "functions/users/get_user"
MIRROR_USERS = "functions/events/mirror_users"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    return body


def user_created(**changes) -> dict:
    user_id = f"u-{uuid.uuid4().hex}"
    return {"id": user_id, "username": user_id, "name": "N", "email": f"{user_id}@example.org", "avatar": "",
            "bio": None, "interests": None, "language": "en", "role": "member", **changes}


def signed_attributes(attributes: dict, data: dict, keys: KeyRing | None) -> dict:
    """``attributes`` (and a ``time``, as every producer sends) with the signature our producers put on an event
    (none when ``keys`` is None), ready for the wire."""
    attributes = {**attributes, "time": datetime.now(timezone.utc)}
    signature = keys.sign(attributes, data) if keys else {}
    return {**attributes, "time": attributes["time"].isoformat().replace("+00:00", "Z"), **signature}


def binary_event(event_type: str, data: dict, keys: KeyRing | None = None, **extensions: str) -> dict:
    """What the Knative trigger posts: binary mode, attributes as ``ce-`` headers."""
    attributes = signed_attributes({"type": event_type, "source": "//users/tests", "id": uuid.uuid4().hex,
                                    **extensions}, data, keys)
    headers = {"ce-specversion": "1.0", "content-type": "application/json",
               **{f"ce-{name}": value for name, value in attributes.items()}}
    return {"headers": headers, "content": json.dumps(data).encode()}


def connector_event(event_type: str, data: dict, keys: KeyRing | None = None, **extensions: str) -> dict:
    """What the OpenFaaS connectors post: the structured event as the body, ``text/plain`` with ``X-Topic``."""
    attributes = signed_attributes({"type": event_type, "source": "//users/tests", "id": uuid.uuid4().hex,
                                    **extensions}, data, keys)
    event = {"specversion": "1.0", "datacontenttype": "application/json", **attributes, "data": data}
    return {"headers": {"content-type": "text/plain", "x-topic": event_type}, "content": json.dumps(event).encode()}


DELIVERIES = {"knative": binary_event, "openfaas": connector_event}


# ---- the image layout -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("platform", PLATFORMS)
def test_imports_resolve_inside_the_image(images, platform):
    """``function``, ``runtime``, ``events`` and ``functions`` come from the image, not from the repository checkout
    (the venv's editable install maps those names to the repo, so a wrong PYTHONPATH would still pass silently)."""
    image = images.image(platform, HEALTH)
    probe = ("import json, function, runtime, events, functions.users.model, runtime.adapters.knative_main as km; "
             "print(json.dumps({m.__name__: m.__file__ for m in (function, runtime, events, functions.users.model, "
             "km)}))")
    done = subprocess.run([image.command[0], "-c", probe], cwd=image.app, env=image.environ, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    files = json.loads(done.stdout)
    function_dir = image.app / "function"
    assert files["function"] == str(function_dir / "__init__.py")
    assert files["runtime"] == str(function_dir / "runtime" / "__init__.py")
    assert files["events"] == str(function_dir / "events" / "__init__.py")
    assert files["functions.users.model"] == str(function_dir / "functions" / "users" / "model.py")
    assert files["runtime.adapters.knative_main"] == str(function_dir / "runtime" / "adapters" / "knative_main.py")
    assert (function_dir / "handler.py").is_file() and (function_dir / "requirements.txt").is_file()
    assert not (image.app / "runtime").exists(), "configuration.copy paths land inside function/, not beside it"


def test_both_platforms_run_the_same_image_with_the_same_environment(images):
    openfaas, knative = images.image("openfaas", GET_USER), images.image("knative", GET_USER)
    assert openfaas.name == knative.name == "users-get-user"
    strip = lambda env, app: {k: v.replace(str(app), "<app>") for k, v in env.items() if k != "HOME"}  # noqa: E731
    assert strip(openfaas.environ, openfaas.app) == strip(knative.environ, knative.app)
    assert knative.command[1:] == ["-m", "runtime.adapters.knative_main"]


# ---- HTTP functions ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("platform", PLATFORMS)
def test_health_answers_ok(images, platform, mongo_uri):
    server = images.serve(platform, HEALTH, mongo_uri)
    response = server.client.get("/health")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"status": "OK"}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_unrouted_path_is_the_json_404(images, platform):
    """Routing is checked before the store is touched, so this holds with the manifest's unreachable MongoDB."""
    server = images.serve(platform, HEALTH)
    assert_error(server.client.get("/nope"), 404, "not_found")
    assert_error(server.client.post("/health", content=b"{}"), 404, "not_found")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_get_unknown_user_is_the_json_404(images, platform, mongo_uri):
    server = images.serve(platform, GET_USER, mongo_uri)
    user_id = f"unknown-{uuid.uuid4().hex}"
    body = assert_error(server.client.get(f"/{user_id}"), 404, "not_found")
    assert set(body) <= {"error", "message", "details"}
    assert user_id in body["message"]


def test_knative_probes_are_answered_by_func_python(images):
    """func-python intercepts exactly /health/readiness and /health/liveness (the Service's readinessProbe path)
    and asks the instance's ready()/alive(); no MongoDB needed."""
    server = images.serve("knative", HEALTH)
    for path, text in (("/health/readiness", "ready"), ("/health/liveness", "alive")):
        response = server.client.get(path)
        assert response.status_code == 200, response.text
        assert response.text == text
    assert_error(server.client.get("/health/other"), 404, "not_found")  # anything else reaches the function


def test_knative_preflight_is_answered_by_the_function(images):
    server = images.serve("knative", HEALTH)
    response = server.client.options("/health", headers={"Origin": "https://app.example",
                                                         "Access-Control-Request-Method": "GET"})
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "OPTIONS" in response.headers["access-control-allow-methods"]
    assert "Idempotency-Key" in response.headers["access-control-allow-headers"]


# ---- an event-triggered function --------------------------------------------------------------------------------

@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_request_that_is_not_a_cloudevent_is_rejected(images, platform):
    server = images.serve(platform, MIRROR_USERS)
    assert_error(server.client.post("/", json={"id": "u1"}), 400, "invalid_cloudevent")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_malformed_cloudevent_is_rejected(images, platform):
    server = images.serve(platform, MIRROR_USERS)
    broken = binary_event("user.created", {"id": "u1"})
    del broken["headers"]["ce-source"]
    assert_error(server.client.post("/", **broken), 400, "invalid_cloudevent")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_event_type_the_function_does_not_handle_is_rejected(images, platform):
    server = images.serve(platform, MIRROR_USERS)
    assert_error(server.client.post("/", **binary_event("event.created", {"id": "e1"}, sequence="1")), 400,
                 "unexpected_event_type")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_event_without_its_sequence_is_a_json_400(images, platform, mongo_uri):
    server = images.serve(platform, MIRROR_USERS, mongo_uri)
    assert_error(server.client.post("/", **DELIVERIES[platform]("user.created", user_created(), KEYS)), 400,
                 "invalid_event")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_signed_well_formed_event_is_accepted(images, platform, mongo_uri):
    server = images.serve(platform, MIRROR_USERS, mongo_uri)
    response = server.client.post("/", **DELIVERIES[platform]("user.created", user_created(), KEYS, sequence="1"))
    assert response.status_code == 202, response.text


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("keys, code", [(None, "missing_signature"), (FORGED, "invalid_signature")])
def test_unsigned_and_forged_events_are_refused_by_the_image(images, platform, mongo_uri, keys, code):
    """The signature survives each platform's delivery (binary ``ce-`` headers, the connector's structured body),
    and an event that lacks it or carries a forged one is a final 400."""
    server = images.serve(platform, MIRROR_USERS, mongo_uri)
    response = server.client.post("/", **DELIVERIES[platform]("user.created", user_created(), keys, sequence="1"))
    assert_error(response, 400, code)
