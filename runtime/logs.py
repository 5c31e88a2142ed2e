"""Structured JSON logs, one object per line, each carrying the function, trace id and idempotency key."""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

_CONTEXT_FIELDS = ("function", "trace_id", "key", "event_type")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value:
                entry[name] = value
        extra = getattr(record, "fields", None)
        if extra:
            entry.update(extra)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: str = "INFO") -> None:
    """Install the JSON formatter on the root logger once per process."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    for plain in [h for h in root.handlers if type(h) is logging.StreamHandler]:
        root.removeHandler(plain)  # e.g. func-python's basicConfig: one line per record, and that line JSON
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    for chatty in ("pika", "httpx", "httpcore"):  # client libraries log every connection at INFO
        logging.getLogger(chatty).setLevel(logging.WARNING)


class InvocationLog(logging.LoggerAdapter):
    """``log.info("claimed", fields={...})`` with the invocation's context attached to every line."""

    def process(self, msg, kwargs):
        extra = dict(self.extra)
        if "fields" in kwargs:
            extra["fields"] = kwargs.pop("fields")
        kwargs["extra"] = extra
        return msg, kwargs


def invocation_log(function: str, trace_id: str, key: str = "", event_type: str = "") -> InvocationLog:
    return InvocationLog(logging.getLogger(f"fn.{function}"),
                         {"function": function, "trace_id": trace_id, "key": key, "event_type": event_type})
