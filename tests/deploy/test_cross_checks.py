"""Cross-platform consistency (design §9): the cross-checks pass on the committed files with the real declarations
and on the sample manifests, and catch each inconsistency a mutation of the samples introduces."""
from __future__ import annotations

import pytest

from deploy.generate import render
from events import catalogue as real_catalogue
from manifests_cross_check import cross_check
from manifests_support import (
    SAMPLE_CATALOGUE,
    container_of,
    declare,
    load,
    repo_files,
    repo_specs,
    sample_manifests,
    schema_errors,
    stack_errors,
)
from runtime.contract import function, http, on_event


def test_repo_manifests_are_consistent():
    m = load(repo_files(), repo_specs(), real_catalogue())
    assert cross_check(m) == []


def test_sample_manifests_are_valid_and_consistent():
    m = sample_manifests()
    assert stack_errors(m.stack) == []
    assert [e for d in m.docs for e in schema_errors(d)] == []
    assert cross_check(m) == []


@pytest.mark.parametrize("breakage, expected", [
    (lambda m: m.stack["functions"]["notifications-on-social"]["annotations"].update(topic="user.followed"),
     "notifications-on-social: topic"),
    (lambda m: m.docs.remove(next(d for d in m.docs if d["kind"] == "Trigger")),
     "notifications-on-social: events annotation"),
    (lambda m: m.stack["functions"]["users-register"]["environment"].update(exec_timeout="60s"), "of-watchdog timeouts"),
    (lambda m: next(d for d in m.docs if d["kind"] == "Service" and d["metadata"]["name"] == "events-get-event")
     ["spec"]["template"]["spec"].update(timeoutSeconds=99), "Knative timeoutSeconds"),
    (lambda m: next(d for d in m.docs if d["kind"] == "Trigger")["spec"]["delivery"].update(timeout="PT99S"),
     "delivery timeout"),
    (lambda m: next(d for d in m.docs if d["kind"] == "Trigger")["spec"]["delivery"]["deadLetterSink"]["ref"]
     .update(name="nowhere"), "deadLetterSink"),
    (lambda m: next(d for d in m.docs if d["kind"] == "Trigger")["spec"]["subscriber"]["ref"]
     .update(name="ghost"), "subscribes no declared function"),
    (lambda m: container_of(next(d for d in m.docs if d["kind"] == "Service" and
                                  d["metadata"]["name"] == "users-register")).update(image="other:1"), "image"),
    (lambda m: m.stack["functions"].pop("events-get-event"), "stack.yml functions"),
    (lambda m: next(d for d in m.docs if d["kind"] == "HTTPRoute")["spec"]["rules"][1]["matches"][0]
     .update(method="DELETE"), "route"),
    (lambda m: m.catalogue.pop("user.created"), "not in the catalogue"),
    (lambda m: next(d for d in m.docs if d["kind"] == "PingSource")["spec"].update(schedule="0 * * * *"),
     "PingSources"),
    (lambda m: m.stack["functions"]["ticketing-release-expired"].update(secrets=[]), "secrets"),
])
def test_cross_checks_catch_inconsistencies(breakage, expected):
    m = sample_manifests()
    m.catalogue = dict(m.catalogue)
    breakage(m)
    problems = cross_check(m)
    assert any(expected in p for p in problems), problems


def test_cross_checks_catch_a_reply_loop():
    catalogue = dict(SAMPLE_CATALOGUE)
    looping = declare("functions.notifications.echo.handler",
                      function("notifications-echo", on_event("user.followed"), emits=["user.followed"]))
    m = load(render([looping], catalogue), [looping], catalogue)
    assert any("reply loop" in p for p in cross_check(m))


def test_cross_checks_catch_two_functions_on_one_route():
    a = declare("functions.users.a.handler", function("users-a", http("POST", "/register")))
    b = declare("functions.users.b.handler", function("users-b", http("POST", "/register")))
    m = load(render([a, b], {}), [a, b], {})
    assert any("ambiguous routes: users-a and users-b" in p for p in cross_check(m))
