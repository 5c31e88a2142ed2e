"""The chat group's domain: conversations between two users, their messages, unread counts, views, the event.

Collections (database ``eventonight_chat``, docs/chat.md):

- ``conversations``: one per pair of users, whichever side starts it: ``_id`` is derived from the *unordered* pair
  (``conversation_id``), so two starts converge on one document through an upsert. ``organizationId``/``userId``
  keep the reference's orientation (the organization first; between organizations the smaller id first) for the
  lookups by pair. ``participants`` (sorted ids), ``createdAt``, ``updatedAt`` (newest activity), ``lastMessage``,
  and the counters that make unread counts exact: ``sent.<userId>`` (how many messages that user sent: the
  highest ordinal committed, moved with ``$max``) and ``read.<userId>`` (how many of the other's messages that
  user has read, moved with ``$max`` to a ``sent`` value a read observed). unread(me) = sent(other) - read(me).
- ``messages``: ``{_id, conversationId, senderId, ordinal, content, createdAt, sentMicros}``. ``ordinal`` numbers a
  sender's messages in the conversation 1, 2, 3... without gaps (a unique index claims each number once), so a
  counter set with ``$max`` to an ordinal is exact and idempotent. Pages come newest first from the index on
  ``(conversationId, sentMicros desc, _id desc)``; ``sentMicros`` is the send time in microseconds (BSON dates
  keep milliseconds, which tie under concurrent senders).
- ``users``: the mirror of users (role, name, avatar) kept from ``user.*`` (``directory.py``).
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import Field

from runtime import Emit, Forbidden, InvalidInput, Strict, index, iso, stamp

CONVERSATIONS, MESSAGES, USERS = "conversations", "messages", "users"
MEMBER, ORGANIZATION = "member", "organization"
MAX_CONTENT = 10_000
MAX_ID = 200
MAX_NAME_QUERY = 100
UNKNOWN_NAME = "Unknown User"  # a deleted (or never known) user, as the reference showed them
# What reads fetch (the documents also carry the commits' receipts and outbox, which no view needs).
CONVERSATION_FIELDS = dict.fromkeys(("participants", "organizationId", "userId", "createdAt", "updatedAt", "sent",
                                     "read", "lastMessage"), 1)
MESSAGE_FIELDS = dict.fromkeys(("conversationId", "senderId", "ordinal", "content", "createdAt", "sentMicros"), 1)

INDEXES = (
    index(CONVERSATIONS, "participants", ("updatedAt", -1), ("_id", -1), name="participant_activity"),
    index(MESSAGES, "conversationId", ("sentMicros", -1), ("_id", -1), name="conversation_messages"),
    index(MESSAGES, "conversationId", "senderId", "ordinal", name="sender_ordinal", unique=True),
    index(USERS, "role", "nameKey", "_id", name="role_name"),
)


# ---- requests -------------------------------------------------------------------------------------------------

class NewConversation(Strict):
    """POST /users/{userId}/conversations: the first message to ``recipientId`` (trimmed, as the SPA does)."""

    recipientId: str = Field(min_length=1, max_length=MAX_ID)
    content: str = Field(min_length=1, max_length=MAX_CONTENT)


class NewMessage(Strict):
    content: str = Field(min_length=1, max_length=MAX_CONTENT)


class NoBody(Strict):
    """PATCH .../read: the SPA sends ``{}``; any field is unknown."""


def safe_id(user_id: str) -> str:
    """The caller's id becomes a field name (``sent.<id>``): no dots, no leading ``$``, bounded."""
    if not user_id or len(user_id) > MAX_ID or "." in user_id or user_id.startswith("$"):
        raise InvalidInput("userId is not a valid user id.", details=[{"field": "userId", "message": "not a user id"}])
    return user_id


# ---- pairs ----------------------------------------------------------------------------------------------------

def conversation_id(a: str, b: str) -> str:
    """The one conversation of the unordered pair {a, b}: the same id whoever starts it."""
    return "conv_" + str(uuid.uuid5(uuid.NAMESPACE_URL, "eventonight/chat/" + json.dumps(sorted((a, b)))))


def orientation(a: str, a_role: str | None, b: str, b_role: str | None) -> tuple[str, str]:
    """``(organizationId, userId)`` as the reference stored a pair: the organization first; between two
    organizations the smaller id first. Two members (or an unknown role) may not talk: 403."""
    if a_role == ORGANIZATION and b_role == ORGANIZATION:
        first, second = sorted((a, b))
        return first, second
    if a_role == ORGANIZATION and b_role == MEMBER:
        return a, b
    if b_role == ORGANIZATION and a_role == MEMBER:
        return b, a
    if a_role == MEMBER and b_role == MEMBER:
        raise Forbidden("Conversations between two members are not allowed.")
    raise Forbidden("Only members and organizations can have conversations.")


def other_participant(conversation: Mapping[str, Any], me: str) -> str:
    first, second = conversation["participants"]
    return second if first == me else first


def is_participant(conversation: Mapping[str, Any] | None, user_id: str) -> bool:
    return conversation is not None and user_id in conversation.get("participants", ())


def opening(organization_id: str, user_id: str, now: datetime) -> dict[str, Any]:
    """The fields a conversation is created with (``$setOnInsert``: whoever creates it first sets them)."""
    return {"organizationId": organization_id, "userId": user_id,
            "participants": sorted((organization_id, user_id)), "createdAt": now}


# ---- counters -------------------------------------------------------------------------------------------------

def sent_by(conversation: Mapping[str, Any], user_id: str) -> int:
    return int((conversation.get("sent") or {}).get(user_id, 0))


def read_by(conversation: Mapping[str, Any], user_id: str) -> int:
    return int((conversation.get("read") or {}).get(user_id, 0))


def unread(conversation: Mapping[str, Any], me: str) -> int:
    """The other's messages ``me`` has not read; never negative (``read`` only ever takes an observed ``sent``)."""
    return max(0, sent_by(conversation, other_participant(conversation, me)) - read_by(conversation, me))


def is_read(message: Mapping[str, Any], conversation: Mapping[str, Any], me: str) -> bool:
    """The other's message: ``me`` had read it before this request. ``me``'s own: the other has read it."""
    reader = other_participant(conversation, me) if message["senderId"] == me else me
    return message["ordinal"] <= read_by(conversation, reader)


# ---- views ----------------------------------------------------------------------------------------------------

def last_message_view(conversation: Mapping[str, Any]) -> dict[str, Any] | None:
    last = conversation.get("lastMessage")
    if not last:
        return None
    return {"content": last["content"], "senderId": last["senderId"], "timestamp": iso(last["createdAt"])}


def conversation_view(conversation: Mapping[str, Any], me: str, people: Mapping[str, dict]) -> dict[str, Any]:
    """The reference's ConversationItem for ``me``: both sides, the last message and ``me``'s unread count."""
    return {"id": conversation["_id"], "organization": people[conversation["organizationId"]],
            "member": people[conversation["userId"]], "lastMessage": last_message_view(conversation),
            "unreadCount": unread(conversation, me)}


def pair_view(conversation: Mapping[str, Any], people: Mapping[str, dict]) -> dict[str, Any]:
    """GET /conversations/{organizationId}/{userId}: ``{id, organization, member, createdAt, updatedAt}``."""
    return {"id": conversation["_id"], "organization": people[conversation["organizationId"]],
            "member": people[conversation["userId"]], "createdAt": iso(conversation["createdAt"]),
            "updatedAt": iso(conversation["updatedAt"])}


def suggestion_view(user: dict, caller: dict, caller_role: str) -> dict[str, Any]:
    """A search hit without a conversation yet (``id: null``): the slots filled by role, as the reference did."""
    organization, member = (caller, user) if caller_role == ORGANIZATION else (user, caller)
    return {"id": None, "organization": organization, "member": member, "lastMessage": None, "unreadCount": 0}


def message_view(message: Mapping[str, Any], conversation: Mapping[str, Any], me: str,
                 people: Mapping[str, dict]) -> dict[str, Any]:
    return {"id": message["_id"], "conversationId": message["conversationId"],
            "sender": people[message["senderId"]], "content": message["content"],
            "createdAt": iso(message["createdAt"]), "isRead": is_read(message, conversation, me)}


def sent_view(message: Mapping[str, Any]) -> dict[str, Any]:
    """What a send answers (the reference's MessageResponseDto)."""
    return {"id": message["_id"], "conversationId": message["conversationId"], "senderId": message["senderId"],
            "content": message["content"], "createdAt": iso(message["createdAt"])}


def page(items: list, total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "totalItems": total, "limit": limit, "offset": offset,
            "hasMore": offset + len(items) < total}


# ---- the event ------------------------------------------------------------------------------------------------

def message_created(message: Mapping[str, Any], receiver_id: str, sender: Mapping[str, Any]) -> Emit:
    """``chat.message.created`` (the reference's payload); a message never changes, so its version is 1."""
    return Emit("chat.message.created", {
        "receiverId": receiver_id, "conversationId": message["conversationId"], "senderId": message["senderId"],
        "senderName": sender["name"], "message": message["content"], "messageId": message["_id"],
        "senderAvatar": sender["avatar"], "createdAt": iso(message["createdAt"])},
        subject=message["_id"], extensions=stamp(1))
