"""Sending a message: three single-document writes, in an order that loses nothing if the process dies between
any two of them, and that a retry with the same key finishes without doing anything twice.

1. **claim** the message document: its id derives from the invocation's key (a retry finds it), its ``ordinal``
   is the sender's next number in the conversation, claimed by a unique index (no two messages share one, none
   is skipped). The message exists from here on, but nobody counts it yet.
2. **count** it in the conversation (``ctx.commit``): ``$max`` of ``sent.<sender>`` to the ordinal, so doing it
   twice is doing it once whatever else happened meanwhile; ``lastMessage`` if it is the newest; ``updatedAt``;
   the conversation is created here for a first message (an upsert: two sides starting at once meet in one).
3. **announce** it (``ctx.commit`` on the message): ``chat.message.created`` in the message's own outbox and the
   invocation's receipt, which marks the send done; the event leaves after the message exists and is counted.

A retry after a crash finds the message (1); if its receipt is there (3 happened) it answers the first reply,
otherwise it runs 2 (a no-op if it had happened) and 3. The event sits on the message, not on the conversation:
the conversation is the hot document of a busy chat, and every concurrent sender's fast path would publish the
whole of its outbox, putting each event on the wire several times.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from pymongo.errors import DuplicateKeyError

from runtime import Conflict, Response

from . import directory, model

MAX_CLAIMS = 50  # ordinals taken by the sender's own concurrent sends before ours; beyond: 409 busy
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Outgoing:
    """A validated send (built by the functions' ``body`` step, before anything is written)."""

    conversation_id: str
    recipient_id: str
    content: str
    sender: dict[str, Any]  # the sender's mirror copy (name and avatar for the event)
    opening: dict[str, Any] | None = None  # the conversation's fields when this send may create it


def send(ctx, outgoing: Outgoing) -> Response:
    message = claim(ctx, outgoing)
    done = ctx.prior_reply(message)
    if done is not None:  # a retry of a send that completed
        return done
    reply = Response(201, model.sent_view(message))
    count(ctx, message, outgoing.opening, reply)
    return announce(ctx, message, outgoing, reply)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch, exactly (the order of messages; BSON dates keep only milliseconds)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def claim(ctx, outgoing: Outgoing) -> dict[str, Any]:
    """Step 1: the message document with the sender's next ordinal (found again by a retry)."""
    messages = ctx.db[model.MESSAGES]
    message_id = ctx.derived_id("msg")
    sender = ctx.principal.user_id
    created = ctx.now.replace(microsecond=ctx.now.microsecond // 1000 * 1000)  # as stored, so replies agree
    for _ in range(MAX_CLAIMS):
        last = messages.find_one({"conversationId": outgoing.conversation_id, "senderId": sender}, {"ordinal": 1},
                                 sort=[("ordinal", -1)])
        doc = {"_id": message_id, "conversationId": outgoing.conversation_id, "senderId": sender,
               "ordinal": (last["ordinal"] if last else 0) + 1, "content": outgoing.content, "createdAt": created,
               "sentMicros": micros(ctx.now)}
        try:
            messages.insert_one(doc)
            return doc
        except DuplicateKeyError:  # this send's earlier attempt made it, or a concurrent send took the ordinal
            found = messages.find_one({"_id": message_id})
            if found is not None:
                return found
    raise Conflict("Too many messages are being sent at once; retry shortly.", code="busy", retry_after_seconds=1)


def count(ctx, message: dict[str, Any], opening: dict[str, Any] | None, reply: Response) -> None:
    """Step 2: the conversation counts the message (and is created by a first one)."""
    counters = {"$max": {f"sent.{message['senderId']}": message["ordinal"], "updatedAt": message["createdAt"]}}
    last = {"messageId": message["_id"], "senderId": message["senderId"], "content": message["content"],
            "createdAt": message["createdAt"], "sentMicros": message["sentMicros"]}
    newest = {"$or": [{"lastMessage": {"$exists": False}}, {"lastMessage.sentMicros": {"$lt": message["sentMicros"]}}]}
    update: dict[str, Any] = {**counters, "$set": {"lastMessage": last}}
    if opening is not None:
        update["$setOnInsert"] = opening
    conversations, conversation_id = model.CONVERSATIONS, message["conversationId"]
    done = ctx.commit(conversations, {"_id": conversation_id, **newest}, update, reply=reply,
                      upsert=opening is not None)
    if done is None:  # a newer message is the last one already, or the other side's start created it just now
        done = ctx.commit(conversations, {"_id": conversation_id}, counters, reply=reply)
    if done is None:  # not reached: the conversation exists by now, and conversations are never deleted
        raise Conflict("The conversation changed concurrently; try again.", code="concurrent_update")


def announce(ctx, message: dict[str, Any], outgoing: Outgoing, reply: Response) -> Response:
    """Step 3: ``chat.message.created`` and the receipt, on the message itself."""
    sender = directory.chat_user(ctx, message["senderId"], outgoing.sender)
    return ctx.commit(model.MESSAGES, {"_id": message["_id"]}, {"$set": {"announced": True}}, reply=reply,
                      emit=[model.message_created(message, outgoing.recipient_id, sender)])
