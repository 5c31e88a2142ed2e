"""The one invocation pipeline every adapter calls: decode → authenticate → claim key → main → record → encode.

Order of steps (so bad input changes nothing): parse the request, authenticate and authorise from the token,
then claim the idempotency key, run ``main``, and record the outcome under the lease (unless ``main``'s own commit
already did: its receipt is the record, ``runtime.idempotency``). Queries skip the ledger.
"""
from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel

import events as catalogue

from . import envelope, logs
from .auth import bearer_token
from .context import Context
from .contract import EventTrigger, FunctionSpec, HttpRequest, HttpTrigger, Response, ScheduleTrigger
from .dates import to_store_precision
from .errors import (
    BadRequest,
    Forbidden,
    FunctionError,
    InternalError,
    LeaseLost,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    Unavailable,
)
from .forms import parse_multipart
from .idempotency import MAX_KEY_LENGTH, Attempt, Replay, payload_hash
from .process import Runtime, default_runtime, utc_now
from .validation import parse

REPLAY_HEADER = "Idempotent-Replayed"  # Stripe's name for the same signal
CORS_HEADERS = {  # as the reference's gateway: any origin (design §3)
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, PATCH, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization, Accept, Idempotency-Key",
}
SCHEDULE_TICK = "dev.knative.sources.ping"  # what a PingSource sends; used for cron-connector ticks too
TICK_SKEW = timedelta(seconds=5)  # how far a tick's own time may run ahead of the wall clock (clocks drift)


@dataclass(frozen=True)
class RawHttp:
    """An HTTP request as an adapter received it (header names in any case, query string undecoded)."""

    method: str
    path: str
    headers: Mapping[str, str]
    query_string: str
    body: bytes


# ---- decoding -------------------------------------------------------------------------------------------------

def decode(spec: FunctionSpec, raw: RawHttp) -> tuple[CloudEvent, HttpRequest | None]:
    """Turn what the platform delivered into the function's CloudEvent (and the HTTP request for commands)."""
    if isinstance(spec.trigger, ScheduleTrigger) and not envelope.is_cloudevent_request(raw.headers, raw.body):
        # OpenFaaS' cron-connector posts no CloudEvent (Knative's PingSource does): the tick is now.
        return envelope.new_event(SCHEDULE_TICK, f"/schedules/{spec.name}", None), None
    if not isinstance(spec.trigger, HttpTrigger):
        if not envelope.is_cloudevent_request(raw.headers, raw.body):
            raise BadRequest("This function is triggered by CloudEvents; send one (binary or structured).",
                             code="invalid_cloudevent")
        event = envelope.from_http(raw.headers, raw.body)
        if isinstance(spec.trigger, EventTrigger) and event.get_type() not in spec.trigger.types:
            raise BadRequest(f"{spec.name} does not handle events of type {event.get_type()}",
                             code="unexpected_event_type")
        return event, None
    match = spec.trigger.pattern().match(raw.path or "/")
    if raw.method.upper() != spec.trigger.method or match is None:
        raise NotFound(f"No route for {raw.method.upper()} {raw.path}")
    headers = {k.lower(): v for k, v in raw.headers.items()}
    body = b"" if raw.method.upper() in ("GET", "HEAD") else raw.body  # a GET's body means nothing: never read
    request = HttpRequest(method=raw.method.upper(), path=raw.path, headers=headers,
                          query=parse_qs(raw.query_string, keep_blank_values=True), body=body,
                          path_params=match.groupdict())
    key = headers.get("idempotency-key") or headers.get("x-request-id") or str(uuid.uuid4())
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise BadRequest(f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters.",
                         code="invalid_idempotency_key")
    data = None
    content_type = headers.get("content-type", "")
    if body and "json" in content_type:
        try:
            data = json.loads(body)
        except ValueError:
            raise BadRequest("The request body is not valid JSON.", code="invalid_json") from None
    attributes = {"type": f"com.eventonight.{spec.name}", "source": f"//{spec.group}{raw.path}", "id": key,
                  "time": utc_now(), "datacontenttype": "application/json"}
    return CloudEvent(attributes=attributes, data=data), request


# ---- the pipeline ---------------------------------------------------------------------------------------------

def invoke(spec: FunctionSpec, raw: RawHttp, runtime: Runtime | None = None) -> Response:
    """Run one invocation end to end; never raises (every failure becomes the one JSON error shape)."""
    runtime = runtime or default_runtime()
    trace_id = raw.headers.get("traceparent") or raw.headers.get("x-request-id") or uuid.uuid4().hex
    log = logs.invocation_log(spec.name, trace_id)
    if raw.method.upper() == "OPTIONS":  # CORS preflight routed to a function (generated HTTPRoutes do this)
        return Response(204, None, CORS_HEADERS)
    try:
        if len(raw.body) > spec.max_body_bytes:
            raise PayloadTooLarge(f"The request body is larger than {spec.max_body_bytes} bytes.")
        event, request = decode(spec, raw)
        return run(spec, event, request, runtime, log)
    except FunctionError as error:
        return error_response(error, log)
    except Exception as exc:  # noqa: BLE001 - a bug: log it whole, reveal nothing
        if _store_unreachable(exc):
            log.warning("store unreachable", fields={"error": exc.__class__.__name__})
            return error_response(Unavailable("The database is unreachable; retry shortly.",
                                              retry_after_seconds=2), log)
        log.exception("unhandled error")
        return error_response(InternalError(str(exc)), log)


def _store_unreachable(exc: Exception) -> bool:
    """MongoDB down or failing over: retryable (503), not a bug (500)."""
    from pymongo.errors import ConnectionFailure

    return isinstance(exc, ConnectionFailure)


def run(spec: FunctionSpec, event: CloudEvent, request: HttpRequest | None, runtime: Runtime, log) -> Response:
    if isinstance(spec.trigger, EventTrigger):
        _check_event(event, runtime, log)
    principal = None
    if isinstance(spec.trigger, HttpTrigger) and spec.auth != "public":
        token = bearer_token(request.header("authorization")) if request else None
        if token is None and spec.auth == "required":
            raise Unauthorized("A bearer token is required.")
        if token is not None:
            try:
                principal = runtime.verifier().verify(token)
            except Unauthorized:
                if spec.auth == "required":
                    raise
        if spec.roles and (principal is None or not principal.has_role(*spec.roles)):
            raise Forbidden(f"This needs the role {' or '.join(spec.roles)}.")
    wall = to_store_precision(runtime.clock())
    now = _tick_time(event, wall) if isinstance(spec.trigger, ScheduleTrigger) else wall
    key = "" if not spec.state_changing else (event.get_id() if request else envelope.dedup_key(event))
    if key and principal is not None:  # a key is the caller's own: another caller's same key is another request
        key = f"{principal.user_id}:{key}"
    log.extra.update(key=key, event_type=event.get_type())
    store = runtime.store(spec)
    ctx = Context(spec=spec, config=runtime.config, now=now, log=log, key=key, store=store, runtime=runtime,
                  principal=principal, http=request)
    ctx = dataclasses.replace(ctx, input=_read_input(spec, event, ctx))
    if spec.idempotency_key is not None and spec.state_changing:  # e.g. a webhook keyed on its provider's event id
        key = spec.idempotency_key(event, ctx)
        if not key or len(key) > MAX_KEY_LENGTH:
            raise BadRequest("The request carries no usable idempotency key.", code="invalid_idempotency_key")
        ctx = dataclasses.replace(ctx, key=key)
        log.extra.update(key=key)
    runtime.ensure_indexes(spec, store)
    if not spec.state_changing:
        return _finish(spec, event, ctx, _call(spec, event, ctx))

    ledger = runtime.ledger(store)
    digest = payload_hash(_payload(spec, event, request, principal))
    lease_seconds = spec.lease_seconds
    claim = ledger.claim(spec.name, key, digest, wall, lease_seconds, receipt_is_answer=spec.single_commit)
    if isinstance(claim, Replay):
        log.info("replayed stored reply")
        replay = Response.from_record(claim.reply)
        replay = Response(replay.status, replay.body, {**replay.headers, REPLAY_HEADER: "true"})
        return _finish(spec, event, ctx, replay)
    attempt = Attempt(ledger, claim, spec.name, key)
    ctx = dataclasses.replace(ctx, attempt=attempt)
    try:
        response = _call(spec, event, ctx)
    except FunctionError as error:
        if not ledger.fail(claim, {"status": error.status, **error.body()}, runtime.clock()):
            log.warning("failure not recorded: lease superseded")
        raise
    except Exception as exc:
        # Recorded as what the caller is told: a store outage is a 503 to retry, anything else a bug.
        failure = (Unavailable("The database is unreachable; retry shortly.") if _store_unreachable(exc)
                   else InternalError(exc.__class__.__name__))
        ledger.fail(claim, {"status": failure.status, **failure.body()}, runtime.clock())
        raise
    if attempt.answered_by_receipt(response.to_record()):
        return _finish(spec, event, ctx, response)  # the commit's receipt is the record: no third command
    try:
        ledger.complete(claim, response.to_record(), runtime.clock())
    except LeaseLost:
        # A newer attempt owns the key. Our commit, if any, was fenced by its receipt, so this reply is the
        # one that attempt will also report; the ledger keeps the newer attempt's record untouched.
        log.warning("lease superseded before completion; the newer attempt's record stands")
    return _finish(spec, event, ctx, response)


def _check_event(event: CloudEvent, runtime: Runtime, log) -> None:
    """Before anything else: the event was signed by one of our producers, and its data matches its type's schema
    (so no object, operator or oversized value reaches a query). Either failure is final: dead-lettered at once."""
    try:
        runtime.signing_keys().verify(event)
    except BadRequest:
        log.warning("refused an event that is not ours", fields={"source": event.get_source(), "id": event.get_id()})
        raise
    try:
        catalogue.validate(event.get_type(), event.get_data())
    except catalogue.InvalidEventData as exc:
        raise BadRequest(f"The {event.get_type()} event does not match its schema.", code="invalid_event",
                         details=[{"field": p.split(":", 1)[0], "message": p.split(": ", 1)[-1]}
                                  for p in exc.problems]) from None
    except catalogue.UnknownEventType:
        raise BadRequest(f"{event.get_type()} is not in the event catalogue.", code="unexpected_event_type") from None


def _tick_time(event: CloudEvent, wall: datetime) -> datetime:
    """A schedule tick carries no authority (anyone who reaches the function can send one): the time it stands for
    is taken only up to ``TICK_SKEW`` past the wall clock. An older tick (a late delivery) keeps its time."""
    stated = event.get_time()
    return min(stated, wall + TICK_SKEW) if stated else wall


def _read_input(spec: FunctionSpec, event: CloudEvent, ctx: Context) -> Any:
    """Validate the declared body before anything is claimed or written (bad input changes nothing); an event's
    data, already checked against its schema, is the input of event-triggered functions."""
    if spec.body is None:
        return event.get_data() if isinstance(spec.trigger, EventTrigger) else None
    if isinstance(spec.body, type) and issubclass(spec.body, BaseModel):
        return parse(spec.body, event.get_data())
    return spec.body(event, ctx)


def _call(spec: FunctionSpec, event: CloudEvent, ctx: Context) -> Response:
    result = spec.main(event, ctx)
    if result is None:
        return Response(202)
    if not isinstance(result, Response):
        raise InternalError(f"{spec.name} returned {type(result).__name__}, not a Response")
    return result


def _finish(spec: FunctionSpec, event: CloudEvent, ctx: Context, response: Response) -> Response:
    return spec.finish(event, ctx, response) if spec.finish and response.status < 300 else response


def _payload(spec: FunctionSpec, event: CloudEvent, request: HttpRequest | None, principal) -> Any:
    """What must be equal for two invocations with one key to be the same request (redacted fields excluded)."""
    if request is None:
        return {"attributes": envelope.stable_attributes(event), "data": event.get_data()}
    body: Any = event.get_data() if event.get_data() is not None else request.body
    if isinstance(body, bytes) and (request.header("content-type") or "").startswith("multipart/form-data"):
        body = _form_payload(request, body)
    if isinstance(body, dict) and spec.redact:
        body = {k: v for k, v in body.items() if k not in spec.redact}
    return {"method": request.method, "path": request.path, "query": dict(request.query), "body": body,
            "user": principal.user_id if principal else None}


def _form_payload(request: HttpRequest, body: bytes) -> Any:
    """A form by its parts, not its bytes: a client resending one form draws a new boundary (RFC 7578 §4.1)."""
    try:
        parts = parse_multipart(request.header("content-type") or "", body)
    except BadRequest:
        return body
    return {name: {"content_type": part.content_type, "filename": part.filename, "data": part.data}
            for name, part in parts.items()}


def error_response(error: FunctionError, log) -> Response:
    level = log.error if error.status >= 500 else log.info
    level("answered with an error", fields={"status": error.status, "error": error.code,
                                            "detail": str(error) if error.status >= 500 else error.message})
    return Response(error.status, error.body(), error.headers())
