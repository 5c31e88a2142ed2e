"""``GET /search`` (and ``GET /``): the query string, the visibility rule, the ordering and the paging.

Semantics follow reference-core §2.5 with its holes fixed (docs/events.md): drafts are only ever the caller's
own or those they collaborate on, whichever way ``status`` is spelt; bad parameters are a 400 naming them; every
order ends with ``_id``, so pages never overlap or skip; "popular" is a real ranking (``ranking.py``); ``near``
is MongoDB's 2dsphere ``$near``; the in-memory sorts of the reference (which sorted only a sample) are gone.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from runtime import InvalidInput, Unauthorized, query_int, query_offset, stored_date

from . import model

DEFAULT_LIMIT, MAX_LIMIT = 20, 100
SORT_FIELDS = {"date": "date", "title": "titleKey", "instant": "instant", "price": "minPrice"}
OTHERS = ("upcoming", "popular", "recently_added", "feed")


@dataclass(frozen=True)
class Segment:
    """One run of results: a filter and its order (``None`` for ``$near``, which orders by distance itself)."""

    filter: dict[str, Any]
    sort: list[tuple[str, int]] | None
    count_filter: dict[str, Any] | None = None  # the same set without $near, for counting


@dataclass
class SearchQuery:
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    statuses: list[str] | None = None
    title: str | None = None
    query: str | None = None
    city: str | None = None
    location_name: str | None = None
    tags: list[str] = field(default_factory=list)  # known tags, by their catalogue names
    tags_given: bool = False
    start_date: str | None = None
    end_date: str | None = None
    organization_id: str | None = None
    sort_by: str | None = None
    descending: bool = False
    near: tuple[float, float] | None = None  # (lat, lon)
    price: tuple[float, float] | None = None
    other: str | None = None


def _values(request, name: str) -> list[str]:
    """A parameter repeated and/or comma-joined (``status=PUBLISHED,COMPLETED``), blanks dropped."""
    return [v.strip() for raw in request.query.get(name, []) for v in raw.split(",") if v.strip()]


def parse_query(request) -> SearchQuery:
    """Every bad parameter is reported at once (400), none silently ignored."""
    problems: list[dict[str, str]] = []
    q = SearchQuery()
    for name, read in (("limit", lambda: query_int(request, "limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)),
                       ("offset", lambda: query_offset(request))):
        try:
            setattr(q, name, read())
        except InvalidInput as exc:
            problems += exc.details
    statuses = [s.upper() for s in _values(request, "status")]
    if statuses:
        bad = [s for s in statuses if s not in model.STATUSES]
        if bad:
            problems.append({"field": "status", "message": f"unknown status {', '.join(bad)}; one of "
                                                            f"{', '.join(model.STATUSES)}"})
        q.statuses = list(dict.fromkeys(statuses))
    for name, attr in (("title", "title"), ("query", "query"), ("city", "city"), ("location_name", "location_name"),
                       ("organizationId", "organization_id")):
        value = (request.query_one(name) or "").strip()
        setattr(q, attr, value or None)
    # Unknown tags are not an error: the SPA's "for you" feed sends the user's interests, which the users group
    # keeps as free strings. As a filter they match nothing (as the reference); in the feed they rank nothing.
    q.tags_given = bool(_values(request, "tags"))
    q.tags = list(dict.fromkeys(model.canonical_tag(t) for t in _values(request, "tags") if model.canonical_tag(t)))
    for name, attr in (("startDate", "start_date"), ("endDate", "end_date")):
        raw = (request.query_one(name) or "").strip()
        if raw:
            try:
                setattr(q, attr, model.parse_date(raw))
            except ValueError as exc:
                problems.append({"field": name, "message": str(exc)})
    if q.start_date and q.end_date and q.start_date > q.end_date:
        problems.append({"field": "startDate", "message": "must not be after endDate"})
    sort_by = (request.query_one("sortBy") or "").strip()
    if sort_by and sort_by not in SORT_FIELDS:
        problems.append({"field": "sortBy", "message": f"one of {', '.join(SORT_FIELDS)}"})
    q.sort_by = sort_by or None
    order = (request.query_one("sortOrder") or "asc").strip().lower()
    if order not in ("asc", "desc"):
        problems.append({"field": "sortOrder", "message": "asc or desc"})
    q.descending = order == "desc"
    other = (request.query_one("other") or "").strip()
    if other and other not in OTHERS:
        problems.append({"field": "other", "message": f"one of {', '.join(OTHERS)}"})
    q.other = other or None
    near = (request.query_one("near") or "").strip()
    if near:
        q.near = _pair(near, "near", problems, lat_lon=True)
    price = (request.query_one("price") or "").strip()
    if price:
        q.price = _pair(price, "price", problems, lat_lon=False)
    if problems:
        raise InvalidInput("The search has invalid parameters.", details=problems)
    return q


def _pair(raw: str, name: str, problems: list, *, lat_lon: bool) -> tuple[float, float] | None:
    parts = raw.split(",")
    try:
        a, b = (float(p) for p in parts)
    except ValueError:
        problems.append({"field": name, "message": "two numbers: lat,lon" if lat_lon else "two numbers: min,max"})
        return None
    if lat_lon:
        if not (-90 <= a <= 90 and -180 <= b <= 180):
            problems.append({"field": name, "message": "lat within -90..90, lon within -180..180"})
            return None
    elif math.isnan(a) or math.isnan(b) or a < 0 or a > b:
        problems.append({"field": name, "message": "0 <= min <= max (max may be Infinity)"})
        return None
    return a, b


def _contains(text: str) -> dict[str, Any]:
    return {"$regex": re.escape(text), "$options": "i"}


def visibility(q: SearchQuery, viewer: str | None) -> list[dict[str, Any]]:
    """Which statuses, and which drafts. No ``status``: the public sees PUBLISHED; an organization searching its
    own events (``organizationId`` = caller) sees all of them. Drafts need a token (401) and are only ever the
    caller's own or those they collaborate on, however ``status`` is spelt (the reference leaked every draft on
    ``status=DRAFT,PUBLISHED``)."""
    if q.statuses is not None:
        statuses = q.statuses
    elif viewer is not None and q.organization_id == viewer:
        statuses = list(model.STATUSES)
    else:
        statuses = ["PUBLISHED"]
    if "DRAFT" in statuses and viewer is None:
        raise Unauthorized("Draft events need a bearer token.")
    clauses: list[dict[str, Any]] = [{"status": {"$in": statuses}}]
    if "DRAFT" in statuses:
        clauses.append({"$or": [{"status": {"$ne": "DRAFT"}}, {"creatorId": viewer}, {"collaboratorIds": viewer}]})
    return clauses


def filters(q: SearchQuery, viewer: str | None, now: datetime) -> list[dict[str, Any]]:
    clauses = visibility(q, viewer)
    if q.title:
        clauses.append({"title": _contains(q.title)})
    if q.query:
        clauses.append({"$or": [{"title": _contains(q.query)}, {"location.name": _contains(q.query)},
                                {"location.city": _contains(q.query)}]})
    if q.city:
        clauses.append({"location.city": _contains(q.city)})
    if q.location_name:
        clauses.append({"location.name": _contains(q.location_name)})
    if q.tags_given and q.other != "feed":  # feed ranks by the tags instead of filtering
        clauses.append({"tags": {"$in": q.tags}})  # no known tag: matches nothing
    dates: dict[str, Any] = {}
    if q.start_date:
        dates["$gte"] = q.start_date
    if q.end_date:
        dates["$lte"] = q.end_date
    if q.other == "upcoming":
        dates["$gte"] = max(dates.get("$gte", ""), stored_date(now))
    if dates:
        clauses.append({"date": dates})
    if q.organization_id:
        clauses.append({"$or": [{"creatorId": q.organization_id}, {"collaboratorIds": q.organization_id}]})
    if q.price:
        low, high = q.price
        bounds = {"$gte": low} if math.isinf(high) else {"$gte": low, "$lte": high}
        clauses.append({"priceList": {"$elemMatch": bounds}})
    return clauses


def order(q: SearchQuery) -> list[tuple[str, int]]:
    """``other`` first, then ``sortBy`` (default date) in ``sortOrder``, then date, then ``_id``: a total order."""
    direction = -1 if q.descending else 1
    keys: list[tuple[str, int]] = []
    if q.other == "popular":
        keys.append(("popularity", -1))
    elif q.other == "recently_added":
        keys.append(("instant", -1))
    keys.append((SORT_FIELDS[q.sort_by or "date"], direction))
    if keys[-1][0] != "date":
        keys.append(("date", 1))
    keys.append(("_id", 1))
    return keys


def segments(q: SearchQuery, viewer: str | None, now: datetime) -> list[Segment]:
    """The result as consecutive runs: ``near`` puts located events first, nearest first, then the rest;
    ``feed`` puts events with any of the given tags first, then the rest; each run in ``order``."""
    base = filters(q, viewer, now)
    keys = order(q)

    def where(*extra):
        return {"$and": base + list(extra)}

    if q.near and q.other not in ("popular", "recently_added", "feed"):  # other > near > sortBy (the reference)
        lat, lon = q.near
        near = {"$near": {"$geometry": {"type": "Point", "coordinates": [lon, lat]}}}
        # $near stays a top-level field (it may not sit inside $and/$or); it orders by distance itself.
        return [Segment({"geo": near, "$and": base}, None, where({"geo": {"$exists": True}})),
                Segment(where({"geo": {"$exists": False}}), keys)]
    if q.other == "feed" and q.tags:
        return [Segment(where({"tags": {"$in": q.tags}}), keys), Segment(where({"tags": {"$nin": q.tags}}), keys)]
    return [Segment(where(), keys)]


def run(collection, segs: list[Segment], offset: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """One page across the runs (limit + 1 fetched to tell ``hasMore``); runs before the page are only counted."""
    skip, need, found = offset, limit + 1, []
    for index, seg in enumerate(segs):
        if need == 0:
            break
        if skip and index < len(segs) - 1:
            size = collection.count_documents(seg.count_filter or seg.filter)
            if skip >= size:
                skip -= size
                continue
        cursor = collection.find(seg.filter)
        if seg.sort is not None:
            cursor = cursor.sort(seg.sort)
        docs = list(cursor.skip(skip).limit(need))
        found += docs
        need -= len(docs)
        skip = 0
    return found[:limit], len(found) > limit


def page(collection, q: SearchQuery, viewer: str | None, now: datetime) -> dict[str, Any]:
    docs, more = run(collection, segments(q, viewer, now), q.offset, q.limit)
    return {"items": [model.view(d) for d in docs], "limit": q.limit, "offset": q.offset, "hasMore": more}
