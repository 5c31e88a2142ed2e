"""The provider's state in a data directory (``scripts/run``: ``.data/idp/realm.json``), so that accounts,
sessions and keys outlive a restart: a user registered before it logs in after it, and a token issued before it
still verifies (same signing keys, same refresh-token secret).

Saved by :class:`~localrunner.datadir.Autosave` (within a second of a change, and at stop), loaded when the
provider is built. Clients are configuration, not state: they come from the code each time.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ..datadir import Autosave
from .accounts import Session, User
from .realm import Realm

STATE_FILE = "realm.json"
FORMAT_VERSION = 1


def realm_state(realm: Realm) -> dict[str, Any]:
    with realm._lock:
        return {"version": FORMAT_VERSION, "realm": realm.realm, "keys": realm.keys.export(),
                "refresh_secret": realm._refresh_secret.hex(), "roles": dict(realm.roles),
                "service_accounts": dict(realm.service_accounts),
                "users": [{**dataclasses.asdict(u), "roles": sorted(u.roles)} for u in realm.users.values()],
                "sessions": [dataclasses.asdict(s) for s in realm.sessions.values()]}


def restore_realm(realm: Realm, state: dict[str, Any], origin: Path) -> None:
    if state.get("version") != FORMAT_VERSION or state.get("realm") != realm.realm:
        raise ValueError(f"{origin} holds realm {state.get('realm')!r} in format {state.get('version')}, not realm "
                         f"{realm.realm!r} in format {FORMAT_VERSION}: move it away or start afresh (scripts/run "
                         f"--fresh)")
    with realm._lock:
        realm.keys.restore(state["keys"])
        realm._refresh_secret = bytes.fromhex(state["refresh_secret"])
        realm.roles.update(state["roles"])
        realm.service_accounts.update({cid: sid for cid, sid in state["service_accounts"].items()
                                       if cid in realm.clients})
        realm.users = {u["id"]: User(**{**u, "roles": set(u["roles"])}) for u in state["users"]}
        realm.sessions = {s["id"]: Session(**s) for s in state["sessions"]}


def persist(realm: Realm, directory: Path) -> Autosave:
    """Load ``directory``'s state into ``realm`` (when there is one) and keep saving it there."""
    path = directory / STATE_FILE
    return Autosave(path, lambda: realm_state(realm), holder="identity provider",
                    restore=lambda state: restore_realm(realm, state, path)).start()
