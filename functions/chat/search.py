"""Search: the caller's conversations whose partner matches, then people of the opposite role to start one with.

The reference (spec §2.2 #3) answered, on the first page, the matching conversations (newest activity first) and,
when they did not fill the page, users of the opposite role (member → organizations, organization → members)
without a conversation with the caller yet, as items with ``id: null``. Here that is one list, conversations then
suggestions (by name, then id), paged as a whole, so later pages continue it instead of dropping the suggestions,
and ``totalItems`` counts both parts exactly.

``name`` matches the partner's current name (the mirror's, so renames follow) as a case-insensitive substring;
``recipientId`` matches the start of the partner's id. Both are escaped: they are text, never a pattern.
"""
from __future__ import annotations

import re
from typing import Any

from runtime import Response

from . import access, directory, model

OPPOSITE = {model.MEMBER: model.ORGANIZATION, model.ORGANIZATION: model.MEMBER}


def user_clauses(name: str | None, id_prefix: str | None) -> list[dict[str, Any]]:
    """Mirror conditions for the two filters; live users only."""
    clauses: list[dict[str, Any]] = [{"deleted": {"$ne": True}}]
    if name:
        clauses.append({"nameKey": {"$regex": re.escape(name.casefold())}})
    if id_prefix:
        clauses.append({"_id": {"$regex": "^" + re.escape(id_prefix), "$options": "i"}})
    return clauses


def split_window(conversations: int, offset: int, limit: int) -> tuple[slice, int, int]:
    """Where the page ``[offset, offset + limit)`` of "conversations then suggestions" falls: the slice of the
    conversations, and how many suggestions to skip and take."""
    head = slice(min(offset, conversations), min(offset + limit, conversations))
    taken = head.stop - head.start
    return head, max(0, offset - conversations), limit - taken


def search(ctx, me: str) -> Response:
    query = access.read_query(ctx, default_limit=access.DEFAULT_LIMIT,
                              text=(("name", model.MAX_NAME_QUERY), ("recipientId", model.MAX_ID)))
    name, id_prefix = query.values.get("name"), query.values.get("recipientId")
    conversations = list(ctx.db[model.CONVERSATIONS].find({"participants": me}, model.CONVERSATION_FIELDS)
                         .sort([("updatedAt", -1), ("_id", -1)]))
    partners = [model.other_participant(c, me) for c in conversations]
    users = ctx.db[model.USERS]
    if name or id_prefix:
        matching = {u["_id"] for u in users.find({"$and": [{"_id": {"$in": partners}},
                                                          *user_clauses(name, id_prefix)]}, {"_id": 1})}
        conversations = [c for c in conversations if model.other_participant(c, me) in matching]
    role = directory.caller_role(ctx)
    strangers = {"$and": [{"role": OPPOSITE.get(role)}, {"_id": {"$nin": [*partners, me]}},
                          *user_clauses(name, id_prefix)]}
    head, skip, take = split_window(len(conversations), query.offset, query.limit)
    shown = conversations[head]
    suggested = list(users.find(strangers, {"_id": 1}).sort([("nameKey", 1), ("_id", 1)]).skip(skip).limit(take)) \
        if role in OPPOSITE and take > 0 else []
    total = len(conversations) + (users.count_documents(strangers) if role in OPPOSITE else 0)
    people = directory.chat_users(ctx, [me, *[p for c in shown for p in c["participants"]],
                                        *[u["_id"] for u in suggested]])
    items = [model.conversation_view(c, me, people) for c in shown]
    items += [model.suggestion_view(people[u["_id"]], people[me], role) for u in suggested]
    return Response(200, model.page(items, total, query.limit, query.offset))
