"""One realm's state (clients, roles, keys, users, sessions) and the directory operations on it.

The base the token layer and both HTTP APIs build on: it owns the lock that makes the provider thread-safe
(tests call it while the app serves requests) and the uniqueness rules the admin API and seeds share.
"""
from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from starlette.requests import Request

from .accounts import Session, User, attributes_of, hash_password, password_policy_violation
from .errors import AdminError
from .keys import Keys

REALM_ROLES = ("member", "organization")
DEFAULT_ROLES = ("offline_access", "uma_authorization")

# client_id -> {"secret": str | None (None = public client), "manage_users": bool}
DEFAULT_CLIENTS: dict[str, dict[str, Any]] = {
    "users-service": {"secret": "users-service-secret", "manage_users": True},
    "eventonight-web": {"secret": None},
}


class Realm:
    """A realm's clients, roles, keys, users and sessions, under one re-entrant lock."""

    def __init__(self, base_url: str, realm: str = "eventonight", clients: Mapping[str, Mapping[str, Any]] | None = None,
                 audience: str = "eventonight-api", clock: Callable[[], float] = time.time):
        self.base_url = base_url.rstrip("/")
        self.realm = realm
        self.issuer = f"{self.base_url}/realms/{realm}"
        self.audience = audience
        self.clients = {cid: dict(c) for cid, c in (DEFAULT_CLIENTS if clients is None else clients).items()}
        self.clock = clock
        self.keys = Keys(realm)
        self.roles = {name: str(uuid.uuid4()) for name in (*REALM_ROLES, *DEFAULT_ROLES, f"default-roles-{realm}")}
        self.users: dict[str, User] = {}
        self.sessions: dict[str, Session] = {}
        self.service_accounts = {cid: str(uuid.uuid4()) for cid in self.clients}
        self._refresh_secret = secrets.token_bytes(64)  # HS512 wants ≥ 64 bytes
        self._lock = threading.RLock()

    def add_user(self, username: str, email: str | None, password: str | None, *, roles: Iterable[str] = (),
                 attributes: Mapping[str, Any] | None = None, enabled: bool = True, enforce_policy: bool = True) -> User:
        """Create a user directly (seeds, tests); same rules as the admin API."""
        if password is not None and enforce_policy:
            violation = password_policy_violation(password)
            if violation:
                raise AdminError(400, {"error": violation[0], "error_description": violation[1]})
        with self._lock:
            self._check_unique(username, email)
            user = User(id=str(uuid.uuid4()), username=username.lower(), email=email.lower() if email else None,
                        enabled=enabled, attributes=attributes_of(attributes or {}),
                        password_hash=hash_password(password) if password is not None else None,
                        roles={r for r in roles}, created=int(self.clock() * 1000))
            self.users[user.id] = user
            return user

    def _check_unique(self, username: str | None, email: str | None, except_id: str | None = None) -> None:
        for other in self.users.values():
            if other.id == except_id:
                continue
            if username and other.username == username.lower():
                raise AdminError(409, {"errorMessage": "User exists with same username"})
            if email and other.email and other.email == email.lower():
                raise AdminError(409, {"errorMessage": "User exists with same email"})

    def find_login(self, username_or_email: str) -> User | None:
        needle = username_or_email.strip().lower()
        with self._lock:
            for user in self.users.values():
                if user.username == needle:
                    return user
            for user in self.users.values():
                if user.email == needle:
                    return user
        return None

    def _user(self, user_id: str) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise AdminError(404, {"error": "User not found"})
        return user

    def revoke_user_sessions(self, user_id: str) -> None:
        with self._lock:
            for sid in [s.id for s in self.sessions.values() if s.user_id == user_id]:
                del self.sessions[sid]

    def _check_realm(self, request: Request) -> None:
        if request.path_params["realm"] != self.realm:
            raise AdminError(404, {"error": "Realm does not exist"})
