"""The users group's use of the identity provider: registration steps that survive retries, login answers.

``keycloak.py`` speaks Keycloak's REST API; this module holds the group's rules on top of it.
"""
from __future__ import annotations

import base64
from typing import Any

from runtime import Conflict, FunctionError, NotFound, Response, Unauthorized

from functions.users import model
from functions.users.keycloak import KeycloakClient, Tokens, keycloak_from_config


def identity_provider(config) -> KeycloakClient:
    return keycloak_from_config(config)


def login_fields(tokens: Tokens) -> dict[str, Any]:
    """The token half of the reference's LoginResponse / TokensDTO."""
    return {"accessToken": tokens.access_token, "expiresIn": tokens.expires_in,
            "refreshToken": tokens.refresh_token, "refreshExpiresIn": tokens.refresh_expires_in}


def create_or_adopt_user(idp: KeycloakClient, registration: model.Registration, app_user_id: str, log) -> str:
    """Create the identity with its role and app id; a retry adopts the identity its first attempt created."""
    try:
        keycloak_id = idp.create_user(registration.username, registration.email, registration.password, app_user_id)
    except Conflict:
        existing = idp.find_user_id(registration.username) or idp.find_user_id(registration.email)
        rep = idp.get_user(existing) if existing else {}
        if (rep.get("attributes") or {}).get("custom_user_id") != [app_user_id]:
            raise
        keycloak_id = existing
    try:
        idp.assign_realm_role(keycloak_id, registration.role)
    except Exception:
        discard_identity(idp, keycloak_id, log)  # compensation: no identity without its role
        raise
    return keycloak_id


def discard_identity(idp: KeycloakClient, keycloak_id: str, log) -> None:
    """Delete an identity a failed step left behind; if even that fails, the next login or a retry of the same
    registration finishes the job (see ``load_or_repair`` and ``create_or_adopt_user``)."""
    try:
        idp.delete_user(keycloak_id)
    except FunctionError as exc:
        log.warning("could not discard an identity left by a failed step",
                    fields={"keycloak_id": keycloak_id, "error": exc.message})


def load_or_repair(ctx, access_token: str, idp: KeycloakClient) -> dict[str, Any]:
    """The caller's profile, after finishing whatever a crash left half-done:

    - a registration that created the identity but not the profile: recreate the profile from the token's
      claims (and emit the ``user.created`` the crash swallowed);
    - a registration that created the identity but could not give it a role (nor delete it): delete it, so the
      username is free for a new registration;
    - a deletion that removed the profile but not the identity: delete the identity.
    """
    principal = ctx.verify_token(access_token)
    users = ctx.db[model.COLLECTION]
    doc = users.find_one({"_id": principal.user_id})
    if model.is_deleted(doc):
        ctx.log.warning("finishing an account deletion", fields={"user": principal.user_id})
        idp.delete_user(principal.subject)
        raise Unauthorized("This account has been deleted.")
    if doc is not None:
        return doc
    role = next((r for r in model.ROLES if r in principal.roles), None)
    username, email = principal.claims.get("preferred_username"), principal.claims.get("email")
    if role is None:
        ctx.log.warning("discarding an identity whose registration did not finish", fields={"user": principal.user_id})
        idp.delete_user(principal.subject)
        raise Unauthorized("The registration of this account did not finish; register again.")
    if not username or not email:
        raise NotFound("This account has no profile and cannot be repaired; register again.")
    registration = model.Registration.model_construct(username=username, email=email, password="", role=role)
    doc = model.new_document(principal.user_id, registration, principal.subject, model.default_avatar(ctx.config))
    repair = ctx.keyed(f"repair/{principal.user_id}")  # two logins racing repair it once
    ctx.log.warning("repairing a profile missing after registration", fields={"user": principal.user_id})
    repair.commit(model.COLLECTION, {"_id": principal.user_id}, {"$setOnInsert": doc}, upsert=True,
                  reply=Response(200), emit=[model.user_event("user.created", doc)])
    return users.find_one({"_id": principal.user_id}) or doc


def public_keys(jwks: dict[str, Any]) -> list[dict[str, str]]:
    """The reference's ``/public-keys`` entries: each RSA signing key as ``{kid, publicKey}``, the key being the
    base64 DER SubjectPublicKeyInfo (what the reference's consumers wrap in PEM). Encryption keys are left out,
    so a consumer that falls back to the first key still gets a signing key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

    def uint(value: str) -> int:
        return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")

    entries = []
    for jwk in jwks.get("keys", []):
        if jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig" or not jwk.get("kid"):
            continue
        key = RSAPublicNumbers(uint(jwk["e"]), uint(jwk["n"])).public_key()
        der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        entries.append({"kid": jwk["kid"], "publicKey": base64.b64encode(der).decode("ascii")})
    return entries


def verify_password(idp: KeycloakClient, username: str, password: str) -> bool:
    """Whether ``password`` is the user's (a password grant); the session it opens is closed again at once."""
    try:
        tokens = idp.password_grant(username, password)
    except Unauthorized:
        return False
    try:
        idp.logout(tokens.refresh_token)
    except FunctionError:
        pass  # the session expires on its own; the answer stands
    return True
