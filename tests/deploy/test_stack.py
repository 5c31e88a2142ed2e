"""OpenFaaS stack.yml: valid against its strict schema after faas-cli's substitution; the schema rejects bad stacks."""
from __future__ import annotations

import os
from typing import Any

import pytest
import yaml

from manifests_support import ROOT, sample_files, stack_errors, substitute


def test_stack_yml_is_valid_after_substitution():
    with open(os.path.join(ROOT, "stack.yml"), encoding="utf-8") as f:
        stack = yaml.safe_load(substitute(f.read()))
    assert stack_errors(stack) == []


def test_substitution_follows_envsubst():
    assert substitute("${A:-x}/${B}/$C/${D:-d}", {"A": "a", "C": "c", "D": ""}) == "a//c/d"


# ---- the schema rejects bad stacks ----------------------------------------------------------------------------

def _sample_stack() -> dict[str, Any]:
    return yaml.safe_load(substitute(sample_files()["stack.yml"]))


@pytest.mark.parametrize("breakage", [
    lambda s: s["functions"]["users-register"].update(enviroment={}),
    lambda s: s.update(version="2.0"),
    lambda s: s["provider"].update(name="faasd"),
    lambda s: s["functions"].update({"Users_Register": s["functions"]["users-register"]}),
    lambda s: s["functions"]["users-register"].update(lang="python3"),
    lambda s: s["functions"]["users-register"]["environment"].update(exec_timeout="10"),
    lambda s: s["functions"]["users-register"]["environment"].update(read_timeout=10),
    lambda s: s["functions"]["users-register"]["environment"].pop("FUNCTION_NAME"),
    lambda s: s["functions"]["users-register"].update(secrets=["Stripe_Key"]),
    lambda s: s["functions"]["ticketing-release-expired"]["annotations"].update(topic="payments.order.expired"),
    lambda s: s["functions"]["notifications-on-social"]["annotations"].update(topic="a, b"),
    lambda s: s["configuration"].update(cpoy=["./runtime"]),
    lambda s: s["configuration"]["templates"][0].update(url="x"),
])
def test_schema_rejects_bad_stack(breakage):
    stack = _sample_stack()
    assert stack_errors(stack) == []
    breakage(stack)
    assert stack_errors(stack) != []
