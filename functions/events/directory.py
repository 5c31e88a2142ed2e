"""Who a user is, for the events group: its mirror of users (``user.*`` events), read through to the users group.

Collaborators must be organizations. The SPA picks them from the users search, so the mirror nearly always
knows them; when it does not (yet), the users group is asked (``GET users.<HOST>/{userId}``, its public view
carries the role) instead of refusing, as design §6 asks. Nothing is written: the mirror catches up by events.
A user the mirror knows as deleted is not asked about again.
"""
from __future__ import annotations

from collections.abc import Iterable

from . import model


def roles(ctx, user_ids: Iterable[str]) -> dict[str, str | None]:
    """``{id: role}`` for each id; ``None`` for a user that does not exist or was deleted."""
    ids = list(user_ids)
    known = {u["_id"]: u for u in ctx.db[model.USERS].find({"_id": {"$in": ids}}, {"role": 1, "deleted": 1})}
    found: dict[str, str | None] = {}
    for user_id in ids:
        user = known.get(user_id)
        if user is not None:
            found[user_id] = None if user.get("deleted") else user.get("role")
        else:
            found[user_id] = (ctx.ask("users", "/{}", user_id) or {}).get("role")
    return found


def collaborator_problems(ctx, collaborator_ids: list[str]) -> list[dict[str, str]]:
    """Collaborators must be organizations; every bad id is listed (``collaboratorIds.<index>``)."""
    if not collaborator_ids:
        return []
    found = roles(ctx, collaborator_ids)
    problems = []
    for index, user_id in enumerate(collaborator_ids):
        if found[user_id] is None:
            problems.append({"field": f"collaboratorIds.{index}", "message": f"{user_id} is not a known user"})
        elif found[user_id] != "organization":
            problems.append({"field": f"collaboratorIds.{index}",
                             "message": f"Only organizations can be collaborators. {user_id} is not an organization."})
    return problems
