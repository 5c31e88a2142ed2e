"""Who may write a user: only its owner. Checked from the request alone, before the idempotency claim, so a
refused call writes nothing (not even a ledger record): the body first (400), then the owner (403)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runtime import Forbidden, parse


def check_owner(ctx) -> str:
    """The ``{userId}`` of the path, if it is the caller's own; else 403."""
    user_id = ctx.http.path_params["userId"]
    if ctx.principal is None or ctx.principal.user_id != user_id:
        raise Forbidden("You can only change your own account.")
    return user_id


def owner_only(model: type | None = None,
               read: Callable[[Any, Any], Any] | None = None) -> Callable[[Any, Any], Any]:
    """A ``body`` for ``@function``: the request read by ``model`` (pydantic) or ``read(event, ctx)``, if any,
    then the ownership check."""

    def body(event, ctx):
        value = None
        if model is not None:
            value = parse(model, event.get_data())
        elif read is not None:
            value = read(event, ctx)
        check_owner(ctx)
        return value

    return body
