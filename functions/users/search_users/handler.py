"""GET users.<HOST>/search: users by role and by a prefix of their username or name, paged (``data`` key).

``prefix`` is trimmed and matched case-insensitively at the start of the username or the profile name; results
are ordered by username (unique), so pages are stable; ``hasMore`` says whether another page exists.
"""
import re

from runtime import InvalidInput, Response, entry_points, function, http

from functions.users import model

MAX_OFFSET = 10_000  # as runtime.query_offset: deeper pages are refused
MAX_PREFIX_LENGTH = 64  # a username is at most that long


def read_query(event, ctx) -> dict:
    """Every bad parameter at once: role outside member|organization, limit ≤ 0, offset < 0, non-integers."""
    request, problems = ctx.http, []
    role = request.query_one("role") or None
    if role is not None and role not in model.ROLES:
        problems.append({"field": "role", "message": f"Invalid role: {role}"})
    numbers = {}
    for name, default, minimum, rule in (("limit", model.SEARCH_DEFAULT_LIMIT, 1, "must be positive"),
                                         ("offset", 0, 0, "must be non-negative")):
        raw = request.query_one(name)
        try:
            numbers[name] = default if raw in (None, "") else int(raw)
        except ValueError:
            problems.append({"field": name, "message": f"{name} must be an integer, got {raw}"})
            continue
        if numbers[name] < minimum:
            problems.append({"field": name, "message": f"{name.capitalize()} {rule}, got {numbers[name]}"})
        elif name == "offset" and numbers[name] > MAX_OFFSET:
            problems.append({"field": name, "message": f"Offset must be at most {MAX_OFFSET}, got {numbers[name]}"})
    if problems:
        raise InvalidInput("The search has invalid parameters.", details=problems)
    prefix = (request.query_one("prefix") or "").strip()[:MAX_PREFIX_LENGTH]
    return {"role": role, "prefix": model.search_key(prefix), "offset": numbers["offset"],
            "limit": min(numbers["limit"], model.SEARCH_MAX_LIMIT)}


@function("users-search-users", http("GET", "/search"), body=read_query, indexes=model.INDEXES)
def main(event, ctx):
    query = ctx.input
    filter_: dict = {"deleted": {"$ne": True}}
    if query["role"]:
        filter_["role"] = query["role"]
    if query["prefix"]:
        starts = {"$regex": "^" + re.escape(query["prefix"])}
        filter_["$or"] = [{"usernameKey": starts}, {"nameKey": starts}]
    cursor = (ctx.db[model.COLLECTION].find(filter_, {"role": 1, "account.username": 1, "profile": 1})
              .sort([("usernameKey", 1), ("_id", 1)]).skip(query["offset"]).limit(query["limit"] + 1))
    docs = list(cursor)
    return Response(200, {"data": [model.search_view(d) for d in docs[:query["limit"]]], "limit": query["limit"],
                          "offset": query["offset"], "hasMore": len(docs) > query["limit"]})


handle, new = entry_points(main)
