"""What a realm stores about people: users (Keycloak's representation), sessions, and passwords.

Passwords are hashed as Keycloak's pbkdf2-sha256 and checked against the reference realm's policy
(``length(8) and digits(1) and lowerCase(1) and specialChars(1)``). Plain data and functions, no HTTP: the
realm (:mod:`.realm`) keeps these, the token and admin endpoints read and change them.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PBKDF2_ITERATIONS = 27500  # Keycloak's historical pbkdf2-sha256 default
SPECIAL_CHARACTERS = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, PBKDF2_ITERATIONS)
    return f"pbkdf2-sha256${PBKDF2_ITERATIONS}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    _, iterations, salt, digest = stored.split("$")
    candidate = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(candidate.hex(), digest)


def password_policy_violation(password: str) -> tuple[str, str] | None:
    """Keycloak's (message key, description) for the first rule of the reference policy ``password`` breaks."""
    if len(password) < 8:
        return "invalidPasswordMinLengthMessage", "Invalid password: minimum length 8."
    if not any(c.isdigit() for c in password):
        return "invalidPasswordMinDigitsMessage", "Invalid password: must contain at least 1 numerical digits."
    if not any(c.islower() for c in password):
        return "invalidPasswordMinLowerCaseCharsMessage", "Invalid password: must contain at least 1 lower case characters."
    if not any(c in SPECIAL_CHARACTERS for c in password):
        return "invalidPasswordMinSpecialCharsMessage", "Invalid password: must contain at least 1 special characters."
    return None


def attributes_of(raw: Any) -> dict[str, list[str]]:
    """A user representation's ``attributes`` as Keycloak stores them: every value a list of strings."""
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in raw.items()}


@dataclass
class User:
    id: str
    username: str
    email: str | None = None
    enabled: bool = True
    email_verified: bool = False
    first_name: str | None = None
    last_name: str | None = None
    attributes: dict[str, list[str]] = field(default_factory=dict)
    password_hash: str | None = None
    roles: set[str] = field(default_factory=set)
    created: int = 0

    def representation(self) -> dict[str, Any]:
        rep: dict[str, Any] = {"id": self.id, "username": self.username, "enabled": self.enabled,
                               "emailVerified": self.email_verified, "createdTimestamp": self.created, "totp": False,
                               "disableableCredentialTypes": [], "requiredActions": [], "notBefore": 0,
                               "access": {"manage": True, "impersonate": False, "view": True,
                                          "manageGroupMembership": True, "mapRoles": True}}
        for key, value in (("email", self.email), ("firstName", self.first_name), ("lastName", self.last_name)):
            if value is not None:
                rep[key] = value
        if self.attributes:
            rep["attributes"] = {k: list(v) for k, v in self.attributes.items()}
        return rep


@dataclass
class Session:
    id: str
    user_id: str
    client_id: str
    started: float
    last_refresh: float
