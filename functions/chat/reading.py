"""Reading a conversation: its messages newest first, and the read marker they move.

Pages come from the index ``(conversationId, sentMicros desc, _id desc)``: ``limit``/``offset`` as the SPA sends
them, and ``before=<messageId>`` (a keyset cursor) to go further back than ``offset`` reaches without skipping.

Reading marks read, for the reader only: ``read.<me>`` moves forward (``$max``) to the other's ``sent`` count as
this read observed it, *before* it fetched the page, so every message it counts exists and a message sent while
the reader was reading stays unread. ``$max`` makes marking idempotent and monotone by itself: a replayed or late
mark never moves the marker back, and unread (``sent(other) - read(me)``) is never negative.
"""
from __future__ import annotations

from typing import Any

from runtime import InvalidInput, Response

from . import access, directory, model

DEFAULT_LIMIT = 50
NEWEST_FIRST = [("sentMicros", -1), ("_id", -1)]


def messages_page(ctx, conversation: dict[str, Any], me: str) -> Response:
    query = access.read_query(ctx, default_limit=DEFAULT_LIMIT, text=(("before", model.MAX_ID),))
    messages = ctx.db[model.MESSAGES]
    selection: dict[str, Any] = {"conversationId": conversation["_id"]}
    if "before" in query.values:
        selection = {**selection, **older_than(ctx, conversation["_id"], query.values["before"])}
    docs = list(messages.find(selection, model.MESSAGE_FIELDS).sort(NEWEST_FIRST)
                .skip(query.offset).limit(query.limit))
    total = messages.count_documents(selection)
    people = directory.chat_users(ctx, conversation["participants"])
    items = [model.message_view(doc, conversation, me, people) for doc in docs]
    mark_read(ctx, conversation, me)
    return Response(200, model.page(items, total, query.limit, query.offset))


def older_than(ctx, conversation_id: str, message_id: str) -> dict[str, Any]:
    """The keyset condition for messages older than ``message_id`` (which must be in this conversation)."""
    cursor = ctx.db[model.MESSAGES].find_one({"_id": message_id, "conversationId": conversation_id},
                                             {"sentMicros": 1})
    if cursor is None:
        raise InvalidInput("before is not a message of this conversation.",
                           details=[{"field": "before", "message": "not a message of this conversation"}])
    at = cursor["sentMicros"]
    return {"$or": [{"sentMicros": {"$lt": at}}, {"sentMicros": at, "_id": {"$lt": message_id}}]}


def mark_read(ctx, conversation: dict[str, Any], me: str) -> None:
    """``me`` has read the other's messages as far as ``conversation`` (read before the page) counted them."""
    observed = model.sent_by(conversation, model.other_participant(conversation, me))
    if observed > model.read_by(conversation, me):
        ctx.db[model.CONVERSATIONS].update_one({"_id": conversation["_id"]}, {"$max": {f"read.{me}": observed}})
