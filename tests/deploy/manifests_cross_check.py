"""The cross-checks: every inconsistency between the declarations, stack.yml, the knative/ documents, the AsyncAPI
document and the event catalogue (used on the committed files and on the sample manifests). What each platform's
routing, topics, timeouts, scaling and security must be is checked by manifests_platform_check."""
from __future__ import annotations

from typing import Any

from deploy import generate
from manifests_platform_check import platform_check
from manifests_support import Manifests, container_of
from runtime.contract import EventTrigger, HttpTrigger, ScheduleTrigger


def _ref_name(destination: dict[str, Any] | None) -> str | None:
    return ((destination or {}).get("ref") or {}).get("name")


def cross_check(m: Manifests) -> list[str]:
    """Every inconsistency between the declarations, stack.yml, knative/ and the catalogue."""
    problems: list[str] = []
    specs = {s.name: s for s in m.specs}
    stack_fns: dict[str, Any] = m.stack.get("functions") or {}
    services = {d["metadata"]["name"]: d for d in m.of_kind("Service")}
    triggers, pings = m.of_kind("Trigger"), m.of_kind("PingSource")
    brokers = {d["metadata"]["name"]: d for d in m.of_kind("Broker")}
    configs = {d["metadata"]["name"] for d in m.of_kind("RabbitmqBrokerConfig")}

    # every function on both platforms, one image
    if set(stack_fns) != set(specs):
        problems.append(f"stack.yml functions {sorted(stack_fns)} != declared {sorted(specs)}")
    for name in sorted(set(specs) - set(services)):
        problems.append(f"{name}: no Knative Service")
    for name, fn in sorted(stack_fns.items()):
        if name not in services:
            continue
        container = container_of(services[name])
        if fn.get("image") != container.get("image"):
            problems.append(f"{name}: image {fn.get('image')} on OpenFaaS, {container.get('image')} on Knative")
        kenv = {e["name"]: e["value"] for e in container.get("env", [])}
        if kenv != fn.get("environment"):
            problems.append(f"{name}: environment differs between stack.yml and its Knative Service")
        if container.get("command") != generate.KNATIVE_COMMAND:
            problems.append(f"{name}: Knative command {container.get('command')}")
        # secrets: the same names, at the OpenFaaS path
        secrets = sorted(fn.get("secrets") or [])
        pod = services[name]["spec"]["template"]["spec"]
        mounted = sorted(src["secret"]["name"] for v in pod.get("volumes", []) for src in v.get("projected", {})
                         .get("sources", []))
        if secrets != mounted:
            problems.append(f"{name}: secrets {secrets} on OpenFaaS, {mounted} on Knative")
        if secrets and [vm.get("mountPath") for vm in container.get("volumeMounts", [])] != [generate.SECRETS_DIR]:
            problems.append(f"{name}: secrets not mounted at {generate.SECRETS_DIR}")
        spec = specs.get(name)
        if spec is not None:
            if fn.get("handler") != "./" + generate.folder_path(spec):
                problems.append(f"{name}: handler {fn.get('handler')} is not its folder")
            # Its own secrets, the store's and broker's URLs, and the signing keys only where events are made or read.
            signs = bool(spec.emits) or isinstance(spec.trigger, EventTrigger) or name.endswith("-outbox-relay")
            expected = sorted({*spec.secrets, "amqp-url", "mongo-uri", *(["event-signing-keys"] if signs else [])})
            if secrets != expected:
                problems.append(f"{name}: secrets {secrets} != {expected}")

    # triggers == declarations; schedules; every type in the catalogue (topics and queues: manifests_platform_check)
    for trigger in triggers:
        if _ref_name(trigger["spec"].get("subscriber")) not in specs:
            problems.append(f"Trigger {trigger['metadata']['name']} subscribes no declared function")
    for name, spec in sorted(specs.items()):
        annotations = (stack_fns.get(name) or {}).get("annotations") or {}
        topic = annotations.get("topic")
        trigger_types = sorted(t["spec"]["filter"]["attributes"]["type"] for t in triggers
                               if _ref_name(t["spec"].get("subscriber")) == name)
        my_pings = [p for p in pings if _ref_name(p["spec"].get("sink")) == name]
        if len(trigger_types) != len(set(trigger_types)):
            problems.append(f"{name}: two Triggers for one type")
        if isinstance(spec.trigger, EventTrigger):
            declared = sorted(set(spec.trigger.types))
            recorded = sorted((annotations.get("com.eventonight.events") or "").split(","))
            if not (recorded == sorted(set(trigger_types)) == declared):
                problems.append(f"{name}: events annotation {recorded}, Triggers {trigger_types}, declared {declared}")
        elif isinstance(spec.trigger, ScheduleTrigger):
            if topic != "cron-function" or annotations.get("schedule") != spec.trigger.cron:
                problems.append(f"{name}: cron-connector annotations {topic!r} {annotations.get('schedule')!r}")
            if [p["spec"]["schedule"] for p in my_pings] != [spec.trigger.cron]:
                problems.append(f"{name}: PingSources {[p['spec']['schedule'] for p in my_pings]}")
        if not isinstance(spec.trigger, EventTrigger) and trigger_types:
            problems.append(f"{name}: Triggers {trigger_types} but not event-triggered")
        if not isinstance(spec.trigger, ScheduleTrigger) and my_pings:
            problems.append(f"{name}: a PingSource but not scheduled")
        if isinstance(spec.trigger, HttpTrigger) and topic is not None:
            problems.append(f"{name}: HTTP function with topic {topic!r}")
        loops = sorted(set(spec.emits) & set(trigger_types))
        if loops:
            problems.append(f"{name}: triggered by types it emits {loops} (reply loop)")
        for event_type in sorted({*trigger_types, *spec.emits}):
            if event_type not in m.catalogue:
                problems.append(f"{name}: event type {event_type} is not in the catalogue")

    # references resolve
    def must_be_service(where: str, destination: dict[str, Any] | None) -> None:
        ref = (destination or {}).get("ref") or {}
        if ref.get("apiVersion") != "serving.knative.dev/v1" or ref.get("kind") != "Service" \
                or ref.get("name") not in services:
            problems.append(f"{where}: {ref} is not a generated Knative Service")

    for bname, broker in sorted(brokers.items()):
        must_be_service(f"Broker {bname} deadLetterSink", broker["spec"]["delivery"].get("deadLetterSink"))
        if broker["spec"]["config"]["name"] not in configs:
            problems.append(f"Broker {bname}: config {broker['spec']['config']['name']} not generated")
    for trig in triggers:
        where = f"Trigger {trig['metadata']['name']}"
        must_be_service(where + " subscriber", trig["spec"].get("subscriber"))
        must_be_service(where + " deadLetterSink", trig["spec"]["delivery"].get("deadLetterSink"))
        if trig["spec"].get("broker") not in brokers:
            problems.append(f"{where}: broker {trig['spec'].get('broker')} not generated")
    for ping in pings:
        must_be_service(f"PingSource {ping['metadata']['name']} sink", ping["spec"].get("sink"))

    # the AsyncAPI document lists the catalogue with the declared producers and consumers
    channels = m.asyncapi.get("channels") or {}
    if sorted(channels) != sorted(m.catalogue):
        problems.append(f"asyncapi channels {sorted(channels)} != catalogue {sorted(m.catalogue)}")
    for event_type, channel in channels.items():
        producers = sorted(s.name for s in m.specs if event_type in s.emits)
        consumers = sorted(s.name for s in m.specs if isinstance(s.trigger, EventTrigger) and event_type in s.trigger.types)
        if channel.get("x-producers") != producers or channel.get("x-consumers") != consumers:
            problems.append(f"asyncapi {event_type}: producers/consumers out of date")
    return problems + platform_check(m)
