"""Tokens in Keycloak's layout: access, ID and refresh tokens, client authentication, bearer verification.

Separate from the endpoints because tests mint tokens directly (``mint(...)``, ``access_claims(...)``,
``_sign(...)``) and both HTTP APIs verify bearers the same way. Access tokens carry Keycloak's claims
(``aud`` = [the API audience, "account"], ``typ``, ``azp``, ``sid``, ``realm_access.roles`` with the default roles,
``scope``, profile/email claims) and ``user_id`` from the user's attribute ``custom_user_id`` (the reference's
protocol mapper); service accounts of a ``manage_users`` client get realm-management's roles.
"""
from __future__ import annotations

import base64
import hmac
import uuid
from collections.abc import Mapping
from typing import Any

import jwt
from starlette.requests import Request

from .accounts import Session, User
from .errors import AdminError, OAuthError
from .realm import DEFAULT_ROLES, Realm

ACCESS_TOKEN_LIFESPAN = 300
REFRESH_TOKEN_LIFESPAN = 1800  # SSO session idle, as Keycloak's default
MANAGE_USERS_ROLES = ("manage-users", "view-users", "query-users", "view-realm", "manage-realm")


class Tokens(Realm):
    """Issues and checks the realm's tokens: RS256 access/ID tokens under the active key, HS512 refresh tokens."""

    def _sign(self, claims: Mapping[str, Any], key: Any = None, kid: str | None = None) -> str:
        active = self.keys.active
        return jwt.encode(dict(claims), key or active.private_key, "RS256",
                          headers={"kid": kid or active.kid, "typ": "JWT"})

    def _realm_roles(self, user: User | None) -> list[str]:
        assigned = sorted(user.roles) if user else []
        return assigned + [*DEFAULT_ROLES, f"default-roles-{self.realm}"]

    def access_claims(self, user: User | None, client_id: str, session: Session | None, scope: str) -> dict[str, Any]:
        now = int(self.clock())
        claims: dict[str, Any] = {"exp": now + ACCESS_TOKEN_LIFESPAN, "iat": now, "jti": str(uuid.uuid4()),
                                  "iss": self.issuer, "aud": [self.audience, "account"], "typ": "Bearer",
                                  "azp": client_id, "acr": "1", "scope": scope}
        if user is not None:
            claims.update({"sub": user.id, "sid": session.id if session else None,
                           "realm_access": {"roles": self._realm_roles(user)},
                           "resource_access": {"account": {"roles": ["manage-account", "view-profile"]}},
                           "email_verified": user.email_verified, "preferred_username": user.username})
            if user.email:
                claims["email"] = user.email
            custom = user.attributes.get("custom_user_id")
            if custom:
                claims["user_id"] = custom[0]
            if session is None:
                del claims["sid"]
        else:  # a service account (client_credentials)
            claims.update({"sub": self.service_accounts[client_id], "client_id": client_id,
                           "preferred_username": f"service-account-{client_id}", "email_verified": False,
                           "realm_access": {"roles": self._realm_roles(None)}})
            if self.clients[client_id].get("manage_users"):
                claims["aud"] = ["realm-management", *claims["aud"]]
                claims["resource_access"] = {"realm-management": {"roles": list(MANAGE_USERS_ROLES)}}
        return claims

    def mint(self, claims_overrides: Mapping[str, Any] | None = None, *, key: Any = None, expired: bool = False,
             issuer: str | None = None, kid: str | None = None, user: User | None = None) -> str:
        """A signed access token for tests: Keycloak's layout for ``user`` (or a synthetic member), then overrides.

        An override of ``None`` removes the claim. ``key`` signs with another private key (the header keeps the
        active ``kid`` unless ``kid`` is given); ``expired`` dates it an hour back; ``issuer`` replaces ``iss``.
        """
        if user is None:
            user = User(id=str(uuid.uuid4()), username="test-user", email="test-user@example.com",
                        attributes={"custom_user_id": [str(uuid.uuid4())]}, roles={"member"})
        claims = self.access_claims(user, "eventonight-web", Session(str(uuid.uuid4()), user.id, "eventonight-web",
                                                                     self.clock(), self.clock()), "email profile")
        if expired:
            claims["iat"] -= 3600
            claims["exp"] -= 3600
        if issuer is not None:
            claims["iss"] = issuer
        for name, value in (claims_overrides or {}).items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return self._sign(claims, key=key, kid=kid)

    def _refresh_token(self, session: Session, scope: str) -> str:
        now = int(self.clock())
        exp = now + REFRESH_TOKEN_LIFESPAN
        claims = {"exp": exp, "iat": now, "jti": str(uuid.uuid4()), "iss": self.issuer, "aud": self.issuer,
                  "sub": session.user_id, "typ": "Refresh", "azp": session.client_id, "sid": session.id,
                  "scope": scope}
        return jwt.encode(claims, self._refresh_secret, "HS512", headers={"kid": "refresh"})

    def _token_response(self, user: User | None, client_id: str, session: Session | None, scope: str) -> dict:
        body: dict[str, Any] = {"access_token": self._sign(self.access_claims(user, client_id, session, scope)),
                                "expires_in": ACCESS_TOKEN_LIFESPAN, "refresh_expires_in": 0,
                                "token_type": "Bearer", "not-before-policy": 0, "scope": scope}
        if session is not None:
            body.update({"refresh_token": self._refresh_token(session, scope),
                         "refresh_expires_in": REFRESH_TOKEN_LIFESPAN, "session_state": session.id})
        if user is not None and "openid" in scope.split():
            id_claims = {k: v for k, v in self.access_claims(user, client_id, session, scope).items()
                         if k not in ("realm_access", "resource_access", "scope")}
            id_claims.update({"typ": "ID", "aud": client_id})
            body["id_token"] = self._sign(id_claims)
        return body

    def _session_of(self, refresh_token: str, client_id: str) -> tuple[Session, str]:
        try:
            claims = jwt.decode(refresh_token, self._refresh_secret, algorithms=["HS512"], audience=self.issuer,
                                issuer=self.issuer, options={"verify_exp": False})
        except jwt.PyJWTError:
            raise OAuthError(400, "invalid_grant", "Invalid refresh token") from None
        if claims.get("typ") != "Refresh":
            raise OAuthError(400, "invalid_grant", "Invalid refresh token")
        if claims["exp"] < self.clock():
            raise OAuthError(400, "invalid_grant", "Token is not active")
        if claims.get("azp") != client_id:
            raise OAuthError(400, "invalid_grant", "Invalid refresh token. Token client and authorized client don't match")
        session = self.sessions.get(claims.get("sid"))
        if session is None or session.last_refresh + REFRESH_TOKEN_LIFESPAN < self.clock():
            raise OAuthError(400, "invalid_grant", "Session not active")
        return session, claims.get("scope", "email profile")

    def _client(self, form: Mapping[str, str], request: Request) -> str:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode("utf-8").partition(":")
            except ValueError:
                raise OAuthError(401, "invalid_client", "Invalid client or Invalid client credentials") from None
        client = self.clients.get(client_id or "")
        if client is None:
            raise OAuthError(401, "invalid_client", "Invalid client or Invalid client credentials")
        expected = client.get("secret")
        if expected is not None and not hmac.compare_digest(str(secret or ""), expected):
            raise OAuthError(401, "unauthorized_client", "Invalid client or Invalid client credentials")
        return client_id

    def _verify_access(self, request: Request) -> dict[str, Any]:
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AdminError(401, {"error": "HTTP 401 Unauthorized"})
        try:
            kid = jwt.get_unverified_header(token.strip()).get("kid")
            key = self.keys.find(kid)
            if key is None:
                raise jwt.InvalidTokenError("unknown kid")
            return jwt.decode(token.strip(), key.private_key.public_key(), algorithms=["RS256"], issuer=self.issuer,
                              options={"verify_aud": False, "require": ["exp", "iat", "iss"]})
        except jwt.PyJWTError:
            raise AdminError(401, {"error": "HTTP 401 Unauthorized"}) from None
