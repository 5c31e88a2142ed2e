"""Who users and events are, for the interactions group: its mirrors, read through to the owning groups.

``users`` keeps each user's name, username, avatar and role from ``user.*``; ``events`` each event's creator,
collaborators, status and name from ``event.*`` (``runtime.Mirror``: the newest ``sequence`` wins, a deletion
stays a tombstone). A user who registered a second ago, or an event created a second ago, may not have reached
the mirror yet: then the owning group is asked (``GET users.<HOST>/{id}``; ``GET events.<HOST>/{id}`` with the
caller's token, so a draft is seen by its organizers only) and the mirror seeded with the answer (version 0:
every real event overrides it). A copy that lacks its creator (a status event came before any event naming the
organizers, and ``event.created`` then lost to the newer version) takes it from the answer too: who created an
event never changes. A tombstone is final: a deleted user or event is never asked about again.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from runtime import Mirror, NotFound

from functions.interactions import model

USER_FIELDS = ("role", "username", "name", "avatar")
STATUS_OF_TYPE = {"event.published": "PUBLISHED", "event.cancelled": "CANCELLED", "event.completed": "COMPLETED"}
DESCRIBING = ("event.created", "event.updated", "event.published")  # the types that say who organizes it


def user_fields(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    return {name: data.get(name) for name in USER_FIELDS}


def event_fields(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """What the copy keeps of an ``event.*``; ``event.completed`` and the like carry no status: the type is it."""
    fields = {"status": data.get("status") or STATUS_OF_TYPE.get(event_type)}
    if event_type in DESCRIBING:
        fields.update(creatorId=data.get("creatorId"), collaboratorIds=data.get("collaboratorIds"),
                      name=data.get("name"))
    return fields


USERS = Mirror(model.USERS, user_fields, forget=USER_FIELDS)
EVENTS = Mirror(model.EVENTS, event_fields, id_field="eventId", forget=("name", "collaboratorIds"))


# ---- users ----------------------------------------------------------------------------------------------------

def find_user(ctx, user_id: str) -> dict[str, Any] | None:
    """The live copy of a user, read through when the mirror has never heard of them; None if there is none."""
    doc = ctx.db[model.USERS].find_one({"_id": user_id})
    if doc is None:
        answer = ctx.ask("users", "/{}", user_id)
        if answer is None:
            return None
        profile, account = answer.get("profile") or {}, answer.get("account") or {}
        doc = USERS.seed(ctx, user_id, {"role": answer.get("role"), "username": account.get("username"),
                                        "name": profile.get("name"), "avatar": profile.get("avatar"),
                                        "source": "read-through"})
    return None if doc is None or doc.get("deleted") else doc


def require_user(ctx, user_id: str) -> dict[str, Any]:
    user = find_user(ctx, user_id)
    if user is None:
        raise NotFound(f"User with ID {user_id} not found")
    return user


def users_by_id(ctx, user_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The live copies of many users at once (lists): no read-through, unknown users are simply absent."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return {}
    found = ctx.db[model.USERS].find({"_id": {"$in": wanted}, "deleted": {"$ne": True}})
    return {doc["_id"]: doc for doc in found}


def user_infos(ctx, user_ids: list[str]) -> list[dict[str, str]]:
    known = users_by_id(ctx, user_ids)
    return [model.user_info(user_id, known.get(user_id)) for user_id in user_ids]


def is_deleted_user(ctx, user_id: str) -> bool:
    return USERS.is_deleted(ctx, user_id)


# ---- events ---------------------------------------------------------------------------------------------------

def find_event(ctx, event_id: str) -> dict[str, Any] | None:
    """The live copy of an event, visible to the caller (a draft to its organizers only); read through when the
    mirror does not know who organizes it yet. None when it does not exist, was deleted or is not visible."""
    doc = ctx.db[model.EVENTS].find_one({"_id": event_id})
    if doc is not None and doc.get("deleted"):
        return None
    if doc is None or not doc.get("creatorId"):
        answer = ctx.ask("events", "/{}", event_id, as_caller=True)
        if answer is None:
            return None
        organizers = {"creatorId": answer.get("creatorId"), "collaboratorIds": answer.get("collaboratorIds") or []}
        if doc is None:
            doc = EVENTS.seed(ctx, event_id, {**organizers, "status": answer.get("status"),
                                              "name": answer.get("title"), "source": "read-through"})
        else:  # a status event came before any that names the organizers: who created it never changes
            ctx.db[model.EVENTS].update_one({"_id": event_id, "creatorId": {"$exists": False}}, {"$set": organizers})
            doc = {**doc, **organizers}
        if doc is None or doc.get("deleted"):
            return None
    viewer = ctx.principal.user_id if ctx.principal else None
    if doc.get("status") == "DRAFT" and not model.is_organizer(doc, viewer):
        return None
    return doc


def require_event(ctx, event_id: str) -> dict[str, Any]:
    event = find_event(ctx, event_id)
    if event is None:
        raise NotFound(f"Event with ID {event_id} not found")
    return event


def is_deleted_event(ctx, event_id: str) -> bool:
    return EVENTS.is_deleted(ctx, event_id)
