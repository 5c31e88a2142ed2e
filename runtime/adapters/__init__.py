"""Platform adapters: each decodes what its platform delivers into ``runtime.invoke.RawHttp``, calls the one
pipeline, and encodes the ``Response`` back. No HTTP or AMQP types reach a function's ``main``."""
from __future__ import annotations

from ..contract import FunctionSpec
from . import knative, openfaas


def entry_points(spec: FunctionSpec):
    """``(handle, new)``: the OpenFaaS python3-http and the Knative func-python entry points of ``spec``,
    exported side by side by every handler module (``handle, new = entry_points(main)``)."""
    return openfaas.entry_point(spec), knative.entry_point(spec)
