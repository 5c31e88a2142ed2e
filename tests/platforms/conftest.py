"""Function images as each platform builds and runs them, without Docker.

``build_image`` lays out a ``/home/app``-like directory the way faas-cli builds the ``python3-http`` template:
``index.py`` (a stand-in of the template's, written from its documented contract, platforms.md §2.1) next to
``function/``, which holds the handler folder's files plus every ``configuration.copy`` path of stack.yml copied
*into* it. Knative runs the same image with its Service's ``command`` and ``env``. Both are taken from the generated
manifests (stack.yml, knative/<group>.yaml), with ``/home/app`` replaced by the temporary app directory.

Servers run as subprocesses in a clean environment (only the manifest's variables, plus PATH/HOME/LANG), are
waited for with a bound, and are stopped when the session's pool is torn down.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
IMAGE_HOME = "/home/app"  # the template's WORKDIR; the image's cwd on both platforms
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0

# The stand-in for openfaas/python-flask-template template/python3-http/index.py. Contract (platforms.md §2.1):
# every path, methods GET/PUT/POST/PATCH/DELETE, reach ``handler.handle(event, context)``; event.body is the raw
# bytes, .headers, .method, .query (a multi-dict with getlist, as Flask's request.args), .path; context.hostname is
# $HOSTNAME. Reply: None -> ('', 200); dict -> statusCode (200), body (dict JSON-encoded, else str()), headers (dict
# or list); anything else goes to Flask unchanged (a (body, status, headers) tuple). Flask's own behaviour is kept
# where the contract leaves a gap: other methods get 405, OPTIONS gets Flask's automatic answer (200 + Allow,
# handle() is not called). The one deliberate difference: it listens on 127.0.0.1:$STANDIN_PORT, not 0.0.0.0:5000
# behind of-watchdog.
INDEX_PY = r'''#!/usr/bin/env python
"""Stand-in for the python3-http template's index.py (Flask + waitress), using only the standard library."""
import json
import os
from http import HTTPStatus
from socketserver import ThreadingMixIn
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from function import handler

METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE")


class Headers:
    """Like werkzeug's EnvironHeaders: case-insensitive lookup, iteration yields (name, value)."""

    def __init__(self, environ):
        self._items = []
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                name = key[5:]
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
                name = key
            else:
                continue
            self._items.append((name.replace("_", "-").title(), value))

    def __getitem__(self, name):
        for key, value in self._items:
            if key.lower() == name.lower():
                return value
        raise KeyError(name)

    def get(self, name, default=None):
        try:
            return self[name]
        except KeyError:
            return default

    def keys(self):
        return [key for key, _ in self._items]

    def items(self):
        return list(self._items)

    def __contains__(self, name):
        return self.get(name) is not None

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)


class Args:
    """Like werkzeug's ImmutableMultiDict (Flask's request.args): iterates keys, [] is the first value."""

    def __init__(self, pairs):
        self._pairs = list(pairs)

    def keys(self):
        return list(dict.fromkeys(key for key, _ in self._pairs))

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self.keys())

    def __getitem__(self, key):
        for k, v in self._pairs:
            if k == key:
                return v
        raise KeyError(key)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def getlist(self, key):
        return [v for k, v in self._pairs if k == key]

    def items(self):
        return [(key, self[key]) for key in self.keys()]


class Event:
    def __init__(self, environ):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.body = environ["wsgi.input"].read(length) if length else b""
        self.headers = Headers(environ)
        self.method = environ["REQUEST_METHOD"]
        self.query = Args(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        self.path = environ.get("PATH_INFO") or "/"


class Context:
    def __init__(self):
        self.hostname = os.getenv("HOSTNAME", "localhost")


def format_response(resp):
    if resp is None:
        return ("", 200)
    if type(resp) is dict:
        status = resp.get("statusCode", 200)
        headers = resp.get("headers", [])
        if isinstance(headers, dict):
            headers = list(headers.items())
        if "body" not in resp:
            body = ""
        elif type(resp["body"]) is dict:  # jsonify
            body = json.dumps(resp["body"])
            headers = [("Content-Type", "application/json")] + list(headers)
        else:
            body = str(resp["body"])
        return (body, status, headers)
    return resp


def to_wsgi(rv):
    """What Flask's make_response does with a view's return value."""
    body, status, headers = rv, 200, []
    if isinstance(rv, tuple):
        if len(rv) == 3:
            body, status, headers = rv
        elif len(rv) == 2:
            body, second = rv
            if isinstance(second, (dict, list)):
                headers = second
            else:
                status = second
    if isinstance(headers, dict):
        headers = list(headers.items())
    if isinstance(body, str):
        body = body.encode("utf-8")
    out = {"content-type": ("Content-Type", "text/html; charset=utf-8")}
    for name, value in headers:  # Flask: rv.headers.update(headers)
        out[name.lower()] = (name, str(value))
    out["content-length"] = ("Content-Length", str(len(body)))
    status = int(status)
    return f"{status} {HTTPStatus(status).phrase}", list(out.values()), body


def app(environ, start_response):
    method = environ["REQUEST_METHOD"]
    if method == "OPTIONS":  # Flask's automatic OPTIONS: answered without calling the view
        allow = ", ".join(sorted(METHODS + ("HEAD", "OPTIONS")))
        start_response("200 OK", [("Allow", allow), ("Content-Type", "text/html; charset=utf-8"),
                                  ("Content-Length", "0")])
        return [b""]
    if method not in METHODS + ("HEAD",):  # werkzeug routes HEAD to GET views
        start_response("405 METHOD NOT ALLOWED", [("Content-Length", "0")])
        return [b""]
    status, headers, body = to_wsgi(format_response(handler.handle(Event(environ), Context())))
    start_response(status, headers)
    return [b""] if method == "HEAD" else [body]


class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


if __name__ == "__main__":
    make_server("127.0.0.1", int(os.environ.get("STANDIN_PORT", "5000")), app, Server, QuietHandler).serve_forever()
'''

COPY_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
SUBSTITUTION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stack() -> dict:
    return yaml.safe_load((ROOT / "stack.yml").read_text())


def stack_function(handler_folder: str) -> tuple[str, dict]:
    """(name, stack.yml entry) of the function whose ``handler`` is ``./<handler_folder>``."""
    for name, entry in stack()["functions"].items():
        if entry["handler"] == f"./{handler_folder}":
            return name, entry
    raise LookupError(f"no function in stack.yml has handler ./{handler_folder}")


def knative_container(name: str, group: str) -> dict:
    for doc in yaml.safe_load_all((ROOT / "knative" / f"{group}.yaml").read_text()):
        if doc and doc.get("kind") == "Service" and doc["metadata"]["name"] == name:
            (container,) = doc["spec"]["template"]["spec"]["containers"]
            return container
    raise LookupError(f"no Knative Service {name} in knative/{group}.yaml")


def substitute(value: str) -> str:
    """faas-cli's ``${VAR:-default}`` with an empty deploying shell: the defaults."""
    return SUBSTITUTION.sub(lambda m: m.group(2) or "", str(value))


def build_image(dest: Path, handler_folder: str) -> Path:
    """The ``/home/app`` of a python3-http image built by faas-cli from stack.yml; returns the app directory."""
    app = dest / "home" / "app"
    app.mkdir(parents=True)
    (app / "index.py").write_text(INDEX_PY)
    function_dir = app / "function"
    function_dir.mkdir()
    (function_dir / "__init__.py").touch()  # the template's placeholder, overwritten by the handler folder's
    shutil.copytree(ROOT / handler_folder, function_dir, ignore=COPY_IGNORE, dirs_exist_ok=True)
    for path in stack()["configuration"]["copy"]:  # faas-cli copies each one into the handler folder
        source = (ROOT / path).resolve()
        shutil.copytree(source, function_dir / source.name, ignore=COPY_IGNORE)
    return app


def base_environ(home: Path) -> dict[str, str]:
    """What a container has besides the manifest's variables (no PYTHONPATH, no repository paths)."""
    return {"PATH": os.path.dirname(sys.executable) + os.pathsep + "/usr/bin:/bin", "HOME": str(home),
            "LANG": "C.UTF-8", "HOSTNAME": "eventonight-test-pod", "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1"}


def in_image(value: str, app: Path) -> str:
    return value.replace(IMAGE_HOME, str(app))


@dataclass
class Image:
    platform: str  # "openfaas" | "knative"
    handler_folder: str
    name: str
    app: Path
    command: list[str]
    environ: dict[str, str]


def image_for(platform: str, handler_folder: str, dest: Path, mongo_uri: str | None = None) -> Image:
    """The function's image, with the command and environment its platform would run it with."""
    name, entry = stack_function(handler_folder)
    app = build_image(dest, handler_folder)
    if platform == "openfaas":
        env = {k: substitute(v) for k, v in entry["environment"].items()}
        command = [sys.executable, "index.py"]  # the template's fprocess="python index.py"
    elif platform == "knative":
        container = knative_container(name, name.split("-", 1)[0])
        env = {item["name"]: str(item["value"]) for item in container["env"]}
        assert container["command"][0] == "python"
        command = [sys.executable, *container["command"][1:]]
    else:
        raise ValueError(platform)
    assert env["PYTHONPATH"] == f"{IMAGE_HOME}/function", env["PYTHONPATH"]
    env = {k: in_image(v, app) for k, v in env.items()}
    if mongo_uri:
        env["MONGO_URI"] = mongo_uri
    return Image(platform, handler_folder, name, app, command, {**base_environ(dest), **env})


class Running:
    """One image's server, started in a subprocess and waited for."""

    def __init__(self, image: Image, log_path: Path):
        self.image = image
        self.port = free_port()
        env = dict(image.environ)
        if image.platform == "openfaas":
            env["STANDIN_PORT"] = str(self.port)
        else:
            env["LISTEN_ADDRESS"] = f"127.0.0.1:{self.port}"
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen(image.command, cwd=image.app, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.client = httpx.Client(base_url=self.url, timeout=15)

    def wait_ready(self, probe: str) -> Running:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.image.platform} {self.image.name} exited with {self.process.returncode}:"
                                   f"\n{self.log()}")
            try:
                self.client.get(probe, timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.image.platform} {self.image.name} did not answer within "
                           f"{START_TIMEOUT_SECONDS:.0f}s:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        self._log.close()


class Pool:
    """Starts each (platform, folder, MongoDB) image once per session; stops them all at teardown."""

    def __init__(self, base: Path):
        self.base = base
        self.running: dict[tuple, Running] = {}

    def image(self, platform: str, handler_folder: str, mongo_uri: str | None = None) -> Image:
        dest = self.base / f"{platform}-{handler_folder.replace('/', '-')}-{len(os.listdir(self.base))}"
        dest.mkdir()
        return image_for(platform, handler_folder, dest, mongo_uri)

    def serve(self, platform: str, handler_folder: str, mongo_uri: str | None = None) -> Running:
        key = (platform, handler_folder, mongo_uri)
        if key not in self.running:
            image = self.image(platform, handler_folder, mongo_uri)
            running = Running(image, image.app.parent.parent / "server.log")
            self.running[key] = running
            running.wait_ready("/health/readiness" if platform == "knative" else "/")
        return self.running[key]

    def stop(self) -> None:
        for running in self.running.values():
            running.stop()
        self.running.clear()


@pytest.fixture(scope="session")
def images(tmp_path_factory):
    pool = Pool(tmp_path_factory.mktemp("images"))
    yield pool
    pool.stop()
