"""The users group's domain: request shapes, the stored user document, the views the SPA reads, its events.

One collection ``users`` (the reference split members and organizations; one collection with ``role`` keeps every
lookup a single indexed read). Username and e-mail are unique case-insensitively here as well as in Keycloak.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, Field, ValidationInfo, field_validator

from runtime import Emit, InvalidInput, Strict, index, stamp

COLLECTION = "users"
ROLES = ("member", "organization")
DEFAULT_LANGUAGE = "en"
PASSWORD_RULES = (
    (lambda p: len(p) >= 8, "at least 8 characters"),
    (lambda p: re.search(r"\d", p), "a digit"),
    (lambda p: re.search(r"[a-z]", p), "a lower-case letter"),
    (lambda p: re.search(r"[^A-Za-z0-9]", p), "a special character"),
)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT = 10, 20


INDEXES = (index(COLLECTION, "usernameKey", name="username_unique", unique=True),
           index(COLLECTION, "emailKey", name="email_unique", unique=True),
           index(COLLECTION, "nameKey", name="name_prefix"))


def search_key(text: str) -> str:
    """How names are compared in search: case-insensitively (usernames are stored the same way)."""
    return text.lower()


def password_problems(password: str) -> list[str]:
    return [rule for check, rule in PASSWORD_RULES if not check(password)]


def default_avatar(config) -> str:
    return f"http://media.{config.public_host}/users/default.png"


# ---- requests -------------------------------------------------------------------------------------------------

class Registration(Strict):
    username: str = Field(max_length=64)
    email: str = Field(max_length=254)
    password: str = Field(max_length=128)
    role: Literal["member", "organization"]

    @field_validator("username")
    @classmethod
    def _username(cls, v: str) -> str:
        if not v:
            raise ValueError("must not be blank")
        return v

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        if not EMAIL.match(v):
            raise ValueError("not an e-mail address")
        return v

    @field_validator("password")
    @classmethod
    def _password(cls, v: str) -> str:
        problems = password_problems(v)
        if problems:
            raise ValueError("the password needs " + ", ".join(problems))
        return v


class Credentials(Strict):
    username: str = Field(max_length=254)  # or the e-mail address
    password: str = Field(max_length=128)


class RefreshRequest(Strict):
    refreshToken: str = Field(max_length=8192)


class LogoutRequest(Strict):
    refreshToken: str = Field(max_length=8192)


class PasswordChange(Strict):
    currentPassword: str = Field(max_length=128)
    newPassword: str = Field(max_length=128)
    confirmPassword: str = Field(max_length=128)

    @field_validator("newPassword")
    @classmethod
    def _policy(cls, v: str) -> str:
        problems = password_problems(v)
        if problems:
            raise ValueError("the password needs " + ", ".join(problems))
        return v

    @field_validator("confirmPassword")
    @classmethod
    def _confirmed(cls, v: str, info: ValidationInfo) -> str:
        if "newPassword" in info.data and v != info.data["newPassword"]:
            raise ValueError("New password and confirm password do not match")
        return v


class AccountUpdate(Strict):
    darkMode: bool
    language: str = Field(max_length=5)
    gender: Literal["male", "female"] | None = None
    birthDate: datetime | None = None
    interests: list[Annotated[str, Field(max_length=50)]] | None = Field(default=None, max_length=20)
    username: str | None = Field(default=None, max_length=64)  # the SPA echoes it back; never changed here

    @field_validator("language")
    @classmethod
    def _language(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z]{2}(-[A-Z]{2})?", v):
            raise ValueError("a language code such as en or it")
        return v

    @field_validator("birthDate", mode="before")
    @classmethod
    def _birth_date(cls, v: Any) -> Any:
        """An ISO date or date-time string (what the SPA sends), never a number read as seconds since 1970."""
        if v is None:
            return None
        if not isinstance(v, str) or len(v) > 40:
            raise ValueError("a date such as 1990-05-17")
        return v

    @field_validator("birthDate")
    @classmethod
    def _born_in_the_past(cls, v: datetime | None) -> datetime | None:
        if v is not None and not datetime(1900, 1, 1, tzinfo=timezone.utc) <= (
                v if v.tzinfo else v.replace(tzinfo=timezone.utc)) <= datetime.now(timezone.utc):
            raise ValueError("a date of birth between 1900 and today")
        return v


class ProfileUpdate(Strict):
    name: str = Field(max_length=100)
    bio: str | None = Field(default=None, max_length=1000)
    contacts: list[AnyHttpUrl] | None = Field(default=None, max_length=10)
    avatar: str | None = Field(default=None, max_length=2048)  # echoed back by the SPA; see the avatar endpoints

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v:
            raise ValueError("Insert a valid name")
        return v


class UserUpdate(Strict):
    accountDTO: AccountUpdate
    profileDTO: ProfileUpdate


# ---- stored document and views --------------------------------------------------------------------------------

def new_document(user_id: str, registration: Registration, keycloak_id: str, avatar: str) -> dict[str, Any]:
    return {
        "_id": user_id, "role": registration.role, "keycloakId": keycloak_id,
        "usernameKey": registration.username.lower(), "emailKey": registration.email.lower(),
        "nameKey": search_key(registration.username),
        "account": {"username": registration.username, "email": registration.email, "darkMode": False,
                    "language": DEFAULT_LANGUAGE},
        "profile": {"name": registration.username, "avatar": avatar},
        "_version": 1,
    }


def apply_update(doc: dict[str, Any], update: UserUpdate) -> dict[str, Any]:
    """Full replace of the editable fields (omitted optional fields are cleared), as the reference does;
    members have no contacts, organizations no gender or birth date."""
    a, p = update.accountDTO, update.profileDTO
    account = {"username": doc["account"]["username"], "email": doc["account"]["email"],
               "darkMode": a.darkMode, "language": a.language}
    if a.interests is not None:
        account["interests"] = a.interests
    if doc["role"] == "member":
        if a.gender is not None:
            account["gender"] = a.gender
        if a.birthDate is not None:
            account["birthDate"] = a.birthDate
    profile = {"name": p.name, "avatar": doc["profile"]["avatar"]}
    if p.bio:
        profile["bio"] = p.bio
    if doc["role"] == "organization" and p.contacts is not None:
        profile["contacts"] = [str(url) for url in p.contacts]
    return {"account": account, "profile": profile, "nameKey": search_key(p.name)}


def is_deleted(doc: dict[str, Any] | None) -> bool:
    return bool(doc and doc.get("deleted"))


def tombstone_update(doc: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What a deleted user leaves: its ids (to finish the identity and avatar deletion on a retry) and its version
    (so ``user.deleted`` orders after every earlier event). The unique keys become placeholders no registration
    can take (names are trimmed, so none starts with a space), so the username and e-mail are free again at once
    and nobody can block a deletion by registering its placeholder."""
    placeholder = f" deleted {doc['_id']}"
    return {"$set": {"deleted": True, "deletedAt": now, "usernameKey": placeholder, "emailKey": placeholder,
                     "_version": doc["_version"] + 1},
            "$unset": {"account": "", "profile": "", "nameKey": ""}}


def deleted_event(doc: dict[str, Any]) -> Emit:
    """``user.deleted``; its ``sequence`` is the tombstone's version, newer than every earlier event of the user."""
    return Emit("user.deleted", {"id": doc["_id"]}, subject=doc["_id"],
                extensions=stamp(doc["_version"] + 1))


def with_avatar(doc: dict[str, Any], url: str, key: str | None) -> dict[str, Any]:
    """The update that sets the avatar (``key`` None: back to the default) and bumps the version."""
    return {"$set": {"profile.avatar": url, "avatarKey": key, "_version": doc["_version"] + 1}}


def owner_view(doc: dict[str, Any]) -> dict[str, Any]:
    account = dict(doc["account"])
    if isinstance(account.get("birthDate"), datetime):
        account["birthDate"] = account["birthDate"].isoformat().replace("+00:00", "Z")
    return {"id": doc["_id"], "role": doc["role"], "account": account, "profile": dict(doc["profile"])}


def public_view(doc: dict[str, Any]) -> dict[str, Any]:
    profile = {k: doc["profile"][k] for k in ("name", "avatar", "bio", "contacts") if k in doc["profile"]}
    return {"id": doc["_id"], "role": doc["role"], "account": {"username": doc["account"]["username"]},
            "profile": profile}


def search_view(doc: dict[str, Any]) -> dict[str, Any]:
    """A search hit as the reference listed it: ``{id, role, account:{username}, profile:{name, avatar, bio?}}``."""
    profile = {k: doc["profile"][k] for k in ("name", "avatar", "bio") if doc["profile"].get(k) is not None}
    return {"id": doc["_id"], "role": doc["role"], "account": {"username": doc["account"]["username"]},
            "profile": profile}


def user_event(event_type: str, doc: dict[str, Any]) -> Emit:
    """``user.created`` / ``user.updated``: the AsyncAPI payload; ``sequence`` orders a user's events."""
    data = {"id": doc["_id"], "username": doc["account"]["username"], "name": doc["profile"]["name"],
            "email": doc["account"]["email"], "avatar": doc["profile"]["avatar"],
            "bio": doc["profile"].get("bio"), "interests": doc["account"].get("interests"),
            "language": doc["account"]["language"], "role": doc["role"]}
    return Emit(event_type, data, subject=doc["_id"], extensions=stamp(doc["_version"]))


def invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", details=[{"field": field, "message": message}])
