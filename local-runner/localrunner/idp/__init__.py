"""The development identity provider: Keycloak's paths, token layout, JWKS and the admin calls we use (design §8).

Keycloak cannot run here, and the mocks that exist lack the password grant, the admin API or a Keycloak-shaped
token (standins §3.1), so this is our own, small and in memory (given a data directory, as ``scripts/run`` does,
it also keeps its state on disk: :mod:`.persistence`). It imitates Keycloak ≥ 17 (no ``/auth`` prefix).
One module per role, each layer building on the one below:

* :mod:`.keys`: RS256 ``sig`` keys by generation plus an RSA-OAEP ``enc`` key, and the JWKS Keycloak lists.
* :mod:`.accounts`: users, sessions, password hashing and the reference realm's password policy.
* :mod:`.realm`: one realm's clients, roles, keys, users and sessions, and the directory operations on them.
* :mod:`.tokens`: access, ID and refresh tokens in Keycloak's layout, client authentication, bearer checks.
* :mod:`.oidc`: discovery, ``certs``, ``token`` (password, refresh_token, client_credentials), ``logout``,
  ``userinfo`` under ``/realms/{realm}``.
* :mod:`.admin`: the admin REST API under ``/admin/realms/{realm}`` (users, realm roles, role mappings).
* :mod:`.server`: :class:`IdentityProvider` (all of the above as one Starlette app) and :func:`serve`.
* :mod:`.persistence`: the realm's state in a data directory, loaded at start and kept up to date.

Tests reach in through :class:`IdentityProvider` (``keys.rotate()``, ``mint(...)``, ``add_user(...)``); the
production code only ever talks HTTP to it, exactly as to Keycloak.
"""
from __future__ import annotations

from .accounts import (
    PBKDF2_ITERATIONS,
    SPECIAL_CHARACTERS,
    Session,
    User,
    check_password,
    hash_password,
    password_policy_violation,
)
from .errors import AdminError, OAuthError
from .keys import Keys, SigningKey
from .realm import DEFAULT_CLIENTS, DEFAULT_ROLES, REALM_ROLES
from .server import IdentityProvider, ServedIdp, serve
from .tokens import ACCESS_TOKEN_LIFESPAN, MANAGE_USERS_ROLES, REFRESH_TOKEN_LIFESPAN

__all__ = ["ACCESS_TOKEN_LIFESPAN", "DEFAULT_CLIENTS", "DEFAULT_ROLES", "MANAGE_USERS_ROLES", "PBKDF2_ITERATIONS",
           "REALM_ROLES", "REFRESH_TOKEN_LIFESPAN", "SPECIAL_CHARACTERS", "AdminError", "IdentityProvider", "Keys",
           "OAuthError", "ServedIdp", "Session", "SigningKey", "User", "check_password", "hash_password",
           "password_policy_violation", "serve"]
