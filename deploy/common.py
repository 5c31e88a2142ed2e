"""What every renderer shares: names (image, DNS labels, handler folder), labels, the function's own environment,
its event types and the YAML dump with the generated-file header."""
from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from deploy.choices import (
    CONNECTION_SECRETS,
    EXCHANGE,
    FUNCTION_ROOT,
    HEADER,
    REGISTRY_DEFAULT,
    SCALING,
    SIGNING_SECRET,
    TAG_DEFAULT,
    WATCHDOG_MARGIN_SECONDS,
)
from runtime.contract import EventTrigger, FunctionSpec, HttpTrigger, ScheduleTrigger
from runtime.outbox import relay


def image_of(spec_name: str, concrete: bool) -> str:
    if concrete:
        return f"{REGISTRY_DEFAULT}/{spec_name}:{TAG_DEFAULT}"
    return f"${{REGISTRY:-{REGISTRY_DEFAULT}}}/{spec_name}:${{TAG:-{TAG_DEFAULT}}}"


def k8s_name(*parts: str) -> str:
    """A DNS-1035 label from ``parts`` (dots and other characters → '-'), at most 63 characters."""
    name = re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")
    if len(name) > 63:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        name = name[:54].rstrip("-") + "-" + digest
    return name


def labels(group: str | None = None) -> dict[str, str]:
    out = {"app.kubernetes.io/part-of": "eventonight"}
    if group:
        out["eventonight.example/group"] = group
    return out


def folder_path(spec: FunctionSpec) -> str:
    """Repo-relative handler folder with '/' separators (``functions/<group>/<folder>``).

    Normally where ``main`` is defined; a function whose ``main`` is shared code (e.g. ``runtime.outbox.relay``
    declared in ``functions/<group>/outbox_relay/handler.py``) is found by the imported handler module that
    declares it.
    """
    parts = spec.main.__module__.split(".")
    if len(parts) == 4 and parts[0] == "functions" and parts[-1] == "handler":
        return "/".join(parts[:-1])
    found = sorted(name for name, module in list(sys.modules.items())
                   if re.fullmatch(r"functions\.[^.]+\.[^.]+\.handler", name) and getattr(module, "main", None) is spec)
    if len(found) != 1:
        raise ValueError(f"{spec.name}: no single functions.<group>.<folder>.handler module declares it ({found})")
    return "/".join(found[0].split(".")[:-1])


def event_types(spec: FunctionSpec) -> tuple[str, ...]:
    return tuple(sorted(set(spec.trigger.types))) if isinstance(spec.trigger, EventTrigger) else ()


def secrets_of(spec: FunctionSpec) -> list[str]:
    """The secrets mounted into the function: its own, the connection strings, and the event signing keys when it
    publishes (it emits, or it is an outbox relay) or consumes events. Nothing else holds the signing keys, so an
    HTTP function that emits nothing cannot forge an event."""
    secrets = set(spec.secrets) | set(CONNECTION_SECRETS)
    if spec.emits or isinstance(spec.trigger, EventTrigger) or spec.main is relay:
        secrets.add(SIGNING_SECRET)
    return sorted(secrets)


def kind_of(spec: FunctionSpec) -> str:
    """``http`` (commands and webhooks), ``event`` (event handlers) or ``schedule``: the scaling policy's key."""
    if isinstance(spec.trigger, HttpTrigger):
        return "http"
    return "schedule" if isinstance(spec.trigger, ScheduleTrigger) else "event"


def scaling(spec: FunctionSpec) -> dict:
    return SCALING[kind_of(spec)]


def queue_of(spec: FunctionSpec) -> str:
    """The event function's own RabbitMQ queue, which is also its one OpenFaaS topic."""
    return f"{EXCHANGE}.{spec.name}"


def watchdog_timeouts(spec: FunctionSpec) -> tuple[int, int]:
    """(exec_timeout, read/write_timeout) in seconds: the call is cut at T, the connection a little later."""
    return spec.timeout_seconds, spec.timeout_seconds + WATCHDOG_MARGIN_SECONDS


def function_env(spec: FunctionSpec) -> list[tuple[str, str]]:
    """The function's own settings, the same on both platforms: its name, import root and of-watchdog timeouts."""
    exec_t, rw_t = watchdog_timeouts(spec)
    return [("FUNCTION_NAME", spec.name), ("PYTHONPATH", FUNCTION_ROOT),
            ("exec_timeout", f"{exec_t}s"), ("read_timeout", f"{rw_t}s"), ("write_timeout", f"{rw_t}s")]


def dump(docs: Sequence[Mapping[str, Any]], multi: bool = True) -> str:
    """YAML with sorted keys; Knative files are ``---``-separated streams, stack.yml/asyncapi one document."""
    body = yaml.safe_dump_all(list(docs), sort_keys=True, default_flow_style=False, explicit_start=multi,
                              width=4096, allow_unicode=True)
    return HEADER + body
