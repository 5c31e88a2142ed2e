"""The users group's use of the identity provider: registration steps that survive retries, login answers.

``keycloak.py`` speaks Keycloak's REST API; this module holds the group's rules on top of it.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from runtime.contract import Response
from runtime.errors import Conflict, NotFound

from functions.users import model
from functions.users.keycloak import KeycloakClient, Tokens, keycloak_from_config


def identity_provider(config) -> KeycloakClient:
    return keycloak_from_config(config)


def login_fields(tokens: Tokens) -> dict[str, Any]:
    """The token half of the reference's LoginResponse / TokensDTO."""
    return {"accessToken": tokens.access_token, "expiresIn": tokens.expires_in,
            "refreshToken": tokens.refresh_token, "refreshExpiresIn": tokens.refresh_expires_in}


def create_or_adopt_user(idp: KeycloakClient, registration: model.Registration, app_user_id: str) -> str:
    """Create the identity with its role and app id; a retry adopts the identity its first attempt created."""
    try:
        keycloak_id = idp.create_user(registration.username, registration.email, registration.password, app_user_id)
    except Conflict:
        existing = idp.find_user_id(registration.username) or idp.find_user_id(registration.email)
        rep = idp.get_user(existing) if existing else {}
        if (rep.get("attributes") or {}).get("custom_user_id") != [app_user_id]:
            raise
        keycloak_id = existing
    idp.assign_realm_role(keycloak_id, registration.role)
    return keycloak_id


def load_or_repair(ctx, access_token: str) -> dict[str, Any]:
    """The caller's profile; if a registration crashed after creating the identity, recreate the profile from
    the token's claims (and emit the ``user.created`` the crash swallowed)."""
    from runtime.invoke import default_runtime  # the verifier is per process, shared with the pipeline

    principal = default_runtime().verifier().verify(access_token)
    users = ctx.db[model.COLLECTION]
    doc = users.find_one({"_id": principal.user_id})
    if doc is not None:
        return doc
    role = next((r for r in model.ROLES if r in principal.roles), None)
    username, email = principal.claims.get("preferred_username"), principal.claims.get("email")
    if role is None or not username or not email:
        raise NotFound("This account has no profile and cannot be repaired; register again.")
    registration = model.Registration.model_construct(username=username, email=email, password="", role=role)
    doc = model.new_document(principal.user_id, registration, principal.subject, model.default_avatar(ctx.config))
    repair = dataclasses.replace(ctx, key=f"repair/{principal.user_id}")
    ctx.log.warning("repairing a profile missing after registration", fields={"user": principal.user_id})
    model.ensure_indexes(ctx.db)
    repair.commit(model.COLLECTION, {"_id": principal.user_id}, {"$setOnInsert": doc}, upsert=True,
                  reply=Response(200), emit=[model.user_event("user.created", doc)])
    return users.find_one({"_id": principal.user_id}) or doc
