"""GET ticketing.<HOST>/events: the ids of the events with at least one ticket type priced within a range.

``minPrice`` / ``maxPrice`` (USD, both optional, inclusive) filter the ticket types; ``limit`` (default 20, at most
100) and ``offset`` page the answer, in event id order (stable while events change). Only events the caller may
see are listed: drafts only to their organizers, deleted events to nobody. Ticketing sells in USD only, so another
``currency`` is a 400 (the reference converted with a live FX lookup).
"""
import math

from runtime import InvalidInput, Response, entry_points, function, http, query_int, query_offset

from functions.ticketing import model

MAX_LIMIT = 100


@function("ticketing-list-events", http("GET", "/events"), auth="optional", indexes=model.INDEXES)
def main(event, ctx):
    problems = []
    limit = _checked(problems, lambda: query_int(ctx.http, "limit", 20, minimum=1, maximum=MAX_LIMIT))
    offset = _checked(problems, lambda: query_offset(ctx.http))
    low = _checked(problems, lambda: _price(ctx.http, "minPrice"))
    high = _checked(problems, lambda: _price(ctx.http, "maxPrice"))
    currency = (ctx.http.query_one("currency") or model.CURRENCY).strip().upper()
    if currency != model.CURRENCY:
        problems.append({"field": "currency", "message": f"only {model.CURRENCY}: ticket types are priced in it"})
    if low is not None and high is not None and low > high:
        problems.append({"field": "minPrice", "message": "not above maxPrice"})
    if problems:
        raise InvalidInput("The query has invalid parameters.", details=problems)

    types = {"deleted": {"$ne": True}}
    price = {op: value for op, value in (("$gte", low), ("$lte", high)) if value is not None}
    if price:
        types["price"] = price
    event_ids = ctx.db[model.TICKET_TYPES].distinct("eventId", types)
    viewer = ctx.principal.user_id if ctx.principal else None
    shown = [{"status": {"$ne": "DRAFT"}}]
    if viewer:
        shown += [{"creatorId": viewer}, {"collaboratorIds": viewer}]
    query = {"_id": {"$in": event_ids}, "deleted": {"$ne": True}, "$or": shown}
    events = ctx.db[model.EVENTS]
    total = events.count_documents(query)
    items = [e["_id"] for e in events.find(query, {"_id": 1}).sort([("_id", 1)]).skip(offset).limit(limit)]
    return Response(200, {"items": items, "totalItems": total, "limit": limit, "offset": offset,
                          "hasMore": offset + len(items) < total})


def _checked(problems, read):
    try:
        return read()
    except InvalidInput as exc:
        problems.extend(exc.details)
        return None


def _price(request, name: str) -> float | None:
    raw = request.query_one(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise model.invalid(name, "a number of at least 0 (USD)")
    return value


handle, new = entry_points(main)
