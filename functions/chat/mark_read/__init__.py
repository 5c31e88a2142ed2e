"""This function's entry points for both platforms: OpenFaaS ``handle`` and Knative ``new`` (runtime/adapters)."""
import os as _os
import sys as _sys

if _os.path.isdir(_os.path.join(_os.path.dirname(__file__), "runtime")):  # in an image: the runtime ships inside
    _sys.path.insert(0, _os.path.dirname(__file__))
from .handler import handle, new  # noqa: E402
