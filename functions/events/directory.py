"""Who a user is, for the events group: its mirror of users (``user.*`` events), read through to the users group.

Collaborators must be organizations. The SPA picks them from the users search, so the mirror nearly always
knows them; when it does not (yet), the users group is asked (``GET users.<HOST>/{userId}``, its public view
carries the role) instead of refusing, as design §6 asks. Nothing is written: the mirror catches up by events.
A user the mirror knows as deleted is not asked about again.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from runtime.errors import Unavailable

from . import model

READ_THROUGH_TIMEOUT_SECONDS = 3.0


def users_base_url(config) -> str:
    return config.get("USERS_URL", "") or f"http://users.{config.public_host}"


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
            found[user_id] = (_fetch_user(ctx, user_id) or {}).get("role")
    return found


def _fetch_user(ctx, user_id: str) -> dict[str, Any] | None:
    import httpx

    headers = {"Accept": "application/json"}
    host = ctx.config.get("USERS_HOST", "")
    if host:  # the local runner's gateway routes by Host header on 127.0.0.1
        headers["Host"] = host
    try:
        response = httpx.get(f"{users_base_url(ctx.config).rstrip('/')}/{user_id}", headers=headers,
                             timeout=READ_THROUGH_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        raise Unavailable("The users service could not be reached; try again.") from exc
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        ctx.log.warning("users read-through failed", fields={"status": response.status_code})
        raise Unavailable("The users service could not answer; try again.")
    return response.json()


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
