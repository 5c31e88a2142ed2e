"""Function images as each platform builds and runs them, without Docker.

``build_image`` lays out a ``/home/app``-like directory the way faas-cli builds the ``python3-http`` template:
``index.py`` (the template's own, unchanged: ``tests/platforms/python3-http/``) next to
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
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
IMAGE_HOME = "/home/app"  # the template's WORKDIR; the image's cwd on both platforms
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0

TEMPLATE_INDEX = Path(__file__).parent / "python3-http" / "index.py"  # the template's real entry point (README)
# index.py's __main__ serves on 0.0.0.0:5000; the tests serve the same Flask app on a free loopback port.
SERVE_TEMPLATE = ("import os, index, waitress; "
                  "waitress.serve(index.app, host='127.0.0.1', port=int(os.environ['TEST_PORT']), _quiet=True)")

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
    shutil.copy(TEMPLATE_INDEX, app / "index.py")
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


SIGNING_KEYS = "image-test:" + "s" * 40  # the event-signing-keys secret the images are given


def mount_secrets(dest: Path) -> str:
    """A secrets directory as both platforms mount one (``/var/openfaas/secrets/<name>``), for the images."""
    secrets = dest / "mounted-secrets"
    secrets.mkdir(exist_ok=True)
    (secrets / "event-signing-keys").write_text(SIGNING_KEYS + "\n")
    return str(secrets)


def image_for(platform: str, handler_folder: str, dest: Path, mongo_uri: str | None = None,
              database_prefix: str | None = None) -> Image:
    """The function's image, with the command and environment its platform would run it with."""
    name, entry = stack_function(handler_folder)
    app = build_image(dest, handler_folder)
    if platform == "openfaas":
        env = {k: substitute(v) for k, v in entry["environment"].items()}
        command = [sys.executable, "-c", SERVE_TEMPLATE]  # the template's fprocess="python index.py", on our port
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
    if database_prefix:
        env["DATABASE_PREFIX"] = database_prefix  # the test's own databases
    env["SECRETS_DIR"] = mount_secrets(app)
    return Image(platform, handler_folder, name, app, command, {**base_environ(dest), **env})


class Running:
    """One image's server, started in a subprocess and waited for."""

    def __init__(self, image: Image, log_path: Path):
        self.image = image
        self.port = free_port()
        env = dict(image.environ)
        if image.platform == "openfaas":
            env["TEST_PORT"] = str(self.port)
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
        self.database_prefix = f"img{uuid.uuid4().hex[:10]}_"  # every image's group databases, dropped at the end

    def image(self, platform: str, handler_folder: str, mongo_uri: str | None = None) -> Image:
        dest = self.base / f"{platform}-{handler_folder.replace('/', '-')}-{len(os.listdir(self.base))}"
        dest.mkdir()
        return image_for(platform, handler_folder, dest, mongo_uri, self.database_prefix)

    def serve(self, platform: str, handler_folder: str, mongo_uri: str | None = None) -> Running:
        key = (platform, handler_folder, mongo_uri)
        if key not in self.running:
            image = self.image(platform, handler_folder, mongo_uri)
            running = Running(image, image.app.parent.parent / "server.log")
            self.running[key] = running
            running.wait_ready("/health/readiness" if platform == "knative" else "/")
        return self.running[key]

    def stop(self) -> None:
        uris = {key[2] for key in self.running if key[2]}
        for running in self.running.values():
            running.stop()
        self.running.clear()
        for uri in uris:
            from pymongo import MongoClient

            with MongoClient(uri, serverSelectionTimeoutMS=3000) as client:
                for name in client.list_database_names():
                    if name.startswith(self.database_prefix):
                        client.drop_database(name)


@pytest.fixture(scope="session")
def images(tmp_path_factory):
    pool = Pool(tmp_path_factory.mktemp("images"))
    yield pool
    pool.stop()
