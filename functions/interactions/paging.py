"""Query parameters and pages: every list answers ``{items, totalItems, limit, offset, hasMore}``.

``limit`` defaults to 20 (the reference answered everything when it was omitted) and is capped at 100; ``offset``
is 0..10000. A page is cut from one stable total order (every sort ends with ``_id``) and ``totalItems`` is counted
on the whole filtered set, never on the page. Bad parameters are a 400 naming every one of them.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from runtime import InvalidInput, query_int, query_offset

from functions.interactions import mirror

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True)
class Window:
    limit: int
    offset: int


class Query:
    """Reads a request's query parameters, collecting every problem; ``check()`` raises them all at once."""

    def __init__(self, request):
        self.request = request
        self.problems: list[dict[str, str]] = []

    def _collect(self, read):
        try:
            return read()
        except InvalidInput as error:
            self.problems.extend(error.details)
            return None

    def window(self) -> Window:
        limit = self._collect(lambda: query_int(self.request, "limit", DEFAULT_LIMIT, minimum=1,
                                                maximum=MAX_LIMIT))
        offset = self._collect(lambda: query_offset(self.request))
        return Window(limit or DEFAULT_LIMIT, offset or 0)

    def choice(self, name: str, allowed: Sequence[str], default: str | None = None, *,
               fold=str.lower) -> str | None:
        """One of ``allowed`` (compared after ``fold``), or ``default`` when absent or empty."""
        raw = self.request.query_one(name)
        if raw is None or raw.strip() == "":
            return default
        value = fold(raw.strip())
        if value not in allowed:
            self.problems.append({"field": name, "message": f"one of {', '.join(allowed)}"})
            return default
        return value

    def choices(self, name: str, allowed: Sequence[str], *, fold=str.upper) -> list[str]:
        """Comma-separated values of ``allowed`` (the SPA joins filters with commas); [] when absent."""
        raw = self.request.query_one(name) or ""
        values = [fold(v.strip()) for v in raw.split(",") if v.strip()]
        if any(v not in allowed for v in values):
            self.problems.append({"field": name, "message": f"one or more of {', '.join(allowed)}"})
            return []
        return list(dict.fromkeys(values))

    def rating(self) -> int | None:
        """``rating`` 1..5 (the reference coerced anything on the statistics route)."""
        raw = self.request.query_one("rating")
        if raw is None or raw.strip() == "":
            return None
        if raw.strip() not in ("1", "2", "3", "4", "5"):
            self.problems.append({"field": "rating", "message": "an integer from 1 to 5"})
            return None
        return int(raw)

    def text(self, name: str, max_length: int) -> str | None:
        raw = (self.request.query_one(name) or "").strip()
        if len(raw) > max_length:
            self.problems.append({"field": name, "message": f"at most {max_length} characters"})
            return None
        return raw or None

    def check(self) -> None:
        if self.problems:
            raise InvalidInput("The query has invalid parameters.", details=self.problems)


def window_of(request) -> Window:
    """The page of a list that takes no other parameter (400 when ``limit`` or ``offset`` is bad)."""
    query = Query(request)
    window = query.window()
    query.check()
    return window


def page(items: list[Any], total: int, window: Window) -> dict[str, Any]:
    return {"items": items, "totalItems": total, "limit": window.limit, "offset": window.offset,
            "hasMore": window.offset + len(items) < total}


def find_page(collection, query: dict[str, Any], sort: list[tuple[str, int]], window: Window,
              projection: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
    """One page of ``query`` in ``sort`` order (which ends with ``_id``) and the exact count of the whole set."""
    docs = list(collection.find(query, projection).sort(sort).skip(window.offset).limit(window.limit))
    return docs, collection.count_documents(query)


def people_page(ctx, collection: str, query: dict[str, Any], since: str, person: str,
                window: Window) -> dict[str, Any]:
    """A page of ``UserInfo`` for the people in ``person`` of ``query``'s documents, newest ``since`` first."""
    docs, total = find_page(ctx.db[collection], query, [(since, -1), ("_id", 1)], window, {person: 1})
    return page(mirror.user_infos(ctx, [d[person] for d in docs]), total, window)
