"""Request validation with pydantic: unknown fields rejected, every problem reported at once as ``InvalidInput``."""
from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import InvalidInput

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base of every request model: unknown fields are an error, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def parse(model: type[M], data: Any) -> M:
    if data is None:
        raise InvalidInput("A JSON body is required.", details=[{"field": "(body)", "message": "missing"}])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [{"field": ".".join(str(p) for p in err["loc"]) or "(body)",
                    "message": _message(err)} for err in exc.errors()]
        raise InvalidInput("The request has invalid fields.", details=details) from None


def _message(err: dict[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] == "missing":
        return "required"
    return err["msg"].removeprefix("Value error, ")


MAX_OFFSET = 10_000  # deeper pages are refused: a skip walks every document before the page


def query_offset(request, name: str = "offset") -> int:
    """The paging offset: 0 by default, 0..MAX_OFFSET, else a 400 naming the parameter."""
    value = query_int(request, name, 0, minimum=0)
    if value > MAX_OFFSET:
        raise InvalidInput(f"{name} must be at most {MAX_OFFSET}.",
                           details=[{"field": name, "message": f"above {MAX_OFFSET}"}])
    return value


def query_int(request, name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
    """An integer query parameter; out-of-range or non-numeric values are a 400 naming the parameter."""
    raw = request.query_one(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be an integer.", details=[{"field": name, "message": "not an integer"}]) from None
    if value < minimum:
        raise InvalidInput(f"{name} must be at least {minimum}.", details=[{"field": name, "message": f"below {minimum}"}])
    return min(value, maximum) if maximum is not None else value
