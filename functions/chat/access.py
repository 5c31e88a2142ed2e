"""Who may touch what, and what a request may say: every chat route is owner-only and whitelist-strict.

- The path's ``{userId}`` must be the caller (403): nobody reads, writes or marks read on someone else's behalf.
- A conversation the caller is not part of answers 404, as an unknown one does: its existence is private.
- Query parameters are checked against each route's list (the reference rejected unknown ones with 400); every
  problem is reported at once. ``limit`` is capped at 100; ``offset`` is bounded (10,000): deep history is
  reached with ``before=<messageId>``.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from runtime import Forbidden, InvalidInput, NotFound, query_int

from . import model

DEFAULT_LIMIT = 20  # conversations and search; messages: reading.DEFAULT_LIMIT
MAX_LIMIT = 100
MAX_OFFSET = 10_000


def caller(ctx, path_param: str = "userId") -> str:
    """The caller's id, which the path's ``{userId}`` must be (403 otherwise)."""
    me = ctx.principal.user_id
    if ctx.http.path_params[path_param] != me:
        raise Forbidden("You can only use your own conversations.")
    return model.safe_id(me)


def conversation_of(ctx, conversation_id: str, me: str) -> dict[str, Any]:
    """The conversation if ``me`` takes part in it; 404 alike for unknown ones and other people's."""
    doc = ctx.db[model.CONVERSATIONS].find_one({"_id": conversation_id}, model.CONVERSATION_FIELDS)
    if not model.is_participant(doc, me):
        raise NotFound("Conversation not found")
    return doc


@dataclass(frozen=True)
class Query:
    limit: int
    offset: int
    values: dict[str, str]  # the other allowed parameters that were given


def read_query(ctx, *, default_limit: int | None = None, text: Iterable[tuple[str, int]] = ()) -> Query:
    """The request's query: ``limit``/``offset`` when ``default_limit`` is given, plus the ``(name, max length)``
    text parameters in ``text``; anything else, a repeated parameter or a bad value is a 400 listing them all."""
    allowed = dict(text)
    if default_limit is not None:
        allowed.update(limit=0, offset=0)
    problems = [{"field": name, "message": "unknown query parameter"} for name in ctx.http.query if name not in allowed]
    problems += [{"field": name, "message": "given more than once"} for name, values in ctx.http.query.items()
                 if name in allowed and len(values) > 1]
    limit = offset = 0
    if default_limit is not None:
        limit = _checked(problems, lambda: query_int(ctx.http, "limit", default_limit, minimum=1, maximum=MAX_LIMIT))
        offset = _checked(problems, lambda: query_int(ctx.http, "offset", 0, minimum=0))
        if offset > MAX_OFFSET:
            problems.append({"field": "offset", "message": f"at most {MAX_OFFSET}"})
    values = {}
    for name, max_length in text:
        value = (ctx.http.query_one(name) or "").strip()
        if len(value) > max_length:
            problems.append({"field": name, "message": f"at most {max_length} characters"})
        elif value:
            values[name] = value
    if problems:
        raise InvalidInput("The request has invalid query parameters.", details=problems)
    return Query(limit, offset, values)


def _checked(problems: list[dict[str, str]], read) -> int:
    try:
        return read()
    except InvalidInput as exc:
        problems += exc.details
        return 0


def pair_conversation(ctx) -> tuple[str, dict[str, Any]]:
    """``/conversations/{organizationId}/{userId}``: the caller must be one of the two (403); their conversation,
    whichever way round the path names them (404 when they have none)."""
    me, pair = ctx.principal.user_id, (ctx.http.path_params["organizationId"], ctx.http.path_params["userId"])
    if me not in pair:
        raise Forbidden("You can only look up your own conversations.")
    return model.safe_id(me), conversation_of(ctx, model.conversation_id(*pair), me)
