"""OpenFaaS ``python3-http`` entry point: ``handle(event, context)`` (platforms.md §2.1).

The template hands ``event.body`` (bytes), ``event.headers``, ``event.method``, ``event.query`` and ``event.path``.
A dict answer ``{statusCode, body, headers}`` is the template's documented reply; bytes bodies (PDFs) go back as a
``(body, status, headers)`` tuple, which the template passes to Flask unchanged.
"""
from __future__ import annotations

import json
from urllib.parse import urlencode

from ..errors import PayloadTooLarge
from ..invoke import RawHttp, invoke
from .encoding import MAX_BODY_BYTES, encode_body


def _query_string(query) -> str:
    if query is None:
        return ""
    if hasattr(query, "items") and hasattr(query, "getlist"):  # werkzeug MultiDict keeps repeated keys
        return urlencode([(k, v) for k in query for v in query.getlist(k)])
    return urlencode(list(dict(query).items()), doseq=True)


def entry_point(spec):
    def handle(event, context):
        if len(event.body or b"") > MAX_BODY_BYTES:  # the pipeline applies the function's own, smaller limit
            error = PayloadTooLarge("The request body is too large.")
            return {"statusCode": error.status, "body": json.dumps(error.body()),
                    "headers": {"Content-Type": "application/json"}}
        raw = RawHttp(method=event.method or "POST", path=event.path or "/", headers=dict(event.headers or {}),
                      query_string=_query_string(getattr(event, "query", None)), body=event.body or b"")
        response = invoke(spec, raw)
        body, headers = encode_body(response)
        if isinstance(response.body, (bytes, bytearray)):
            return body, response.status, headers
        return {"statusCode": response.status, "body": body.decode(), "headers": headers}

    handle.__qualname__ = f"handle[{spec.name}]"
    return handle
