"""Container entry for Knative: ``python -m runtime.adapters.knative_main`` in the function's image.

The OpenFaaS image lays the function out as ``/home/app/function`` (with the runtime copied inside); the Knative
Service runs the same image with ``PYTHONPATH=/home/app/function`` and this module as its command, serving the
folder's ``new()`` with func-python's http middleware on ``LISTEN_ADDRESS`` (default ``[::]:8080,0.0.0.0:8080``).
"""
from __future__ import annotations


def main() -> None:
    from func_python.http import serve
    from function import new  # the function folder, importable from the image's working directory

    serve(new)


if __name__ == "__main__":
    main()
