"""Who a user is, for the chat group: the mirror of users (role, name, avatar) kept from ``user.*`` events, read
through to the users group when the mirror has not heard of someone yet.

A user registered a second ago may not have reached the mirror when someone writes to them; then the users group
is asked (``GET users.<HOST>/{userId}``, whose public view has the role, name and avatar) and the mirror seeded
with version 0, so every real event overrides the seed. Names and avatars shown in conversations and messages are
read from the mirror at read time, so a rename shows everywhere at once; a deleted user (a tombstone) shows as
"Unknown User" with the default avatar and can no longer send.
Who the *caller* is (their id and role) comes from the token, never from here.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from runtime import Forbidden, Mirror, NotFound

from . import model


def user_state(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """What the mirror keeps of a user; ``nameKey`` (the name without case) is what search matches and sorts."""
    name = data.get("name") or ""
    return {"role": data.get("role"), "name": name, "nameKey": name.casefold(), "avatar": data.get("avatar")}


USERS = Mirror(model.USERS, user_state, forget=("name", "nameKey", "avatar"))


def default_avatar(ctx) -> str:
    """The users group's default avatar (what it gives a user without one)."""
    return f"http://media.{ctx.config.public_host}/users/default.png"


def find(ctx, user_id: str) -> dict[str, Any] | None:
    """The mirror's copy of the user (a tombstone included); read through to the users group when there is none."""
    doc = ctx.db[model.USERS].find_one({"_id": user_id})
    if doc is not None:
        return doc
    fetched = ctx.ask("users", "/{}", user_id)
    if fetched is None:
        return None
    profile = fetched.get("profile") or {}
    return USERS.seed(ctx, user_id, user_state("read-through", {"role": fetched.get("role"),
                                                                 "name": profile.get("name"),
                                                                 "avatar": profile.get("avatar")}))


def is_live(doc: Mapping[str, Any] | None) -> bool:
    return doc is not None and not doc.get("deleted")


def require_sender(ctx) -> dict[str, Any]:
    """The caller as a sender: a deleted (or unknown) account can no longer send (403)."""
    doc = find(ctx, ctx.principal.user_id)
    if not is_live(doc):
        raise Forbidden("Your account is deleted or unknown to the platform: it can no longer send messages.")
    return doc


def require_recipient(ctx, user_id: str) -> dict[str, Any]:
    doc = find(ctx, user_id)
    if not is_live(doc):
        raise NotFound(f"User {user_id} not found")
    return doc


def caller_role(ctx) -> str | None:
    """The caller's role, from the token (an organization that is also a member talks as an organization)."""
    for role in (model.ORGANIZATION, model.MEMBER):
        if ctx.principal.has_role(role):
            return role
    return None


def chat_user(ctx, user_id: str, doc: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{id, name, avatar}`` as views show a user; unknown or deleted users as "Unknown User"."""
    if not is_live(doc):
        return {"id": user_id, "name": model.UNKNOWN_NAME, "avatar": default_avatar(ctx)}
    return {"id": user_id, "name": doc.get("name") or model.UNKNOWN_NAME, "avatar": doc.get("avatar")
            or default_avatar(ctx)}


def chat_users(ctx, user_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``{id: ChatUser}`` for every id, from the mirror as it stands (one query)."""
    ids = sorted(set(user_ids))
    docs = {d["_id"]: d for d in ctx.db[model.USERS].find({"_id": {"$in": ids}},
                                                            {"name": 1, "avatar": 1, "deleted": 1})}
    return {user_id: chat_user(ctx, user_id, docs.get(user_id)) for user_id in ids}
