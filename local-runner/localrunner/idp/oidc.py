"""The OIDC endpoints under ``/realms/{realm}``, as Keycloak ≥ 17 serves them (no ``/auth`` prefix).

Discovery, ``certs`` (the JWKS), ``token`` (grants ``password`` by username or email, ``refresh_token``,
``client_credentials``), ``logout`` (revokes the session of a refresh token) and ``userinfo``: the HTTP face of
:mod:`.tokens`, which the users functions reach exactly as they would Keycloak.
"""
from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .accounts import Session, check_password
from .errors import AdminError, OAuthError
from .tokens import Tokens


class OidcEndpoints(Tokens):
    """Request handlers for the realm's OpenID Connect endpoints."""

    def _oidc_routes(self) -> list[Route]:
        oidc = "/realms/{realm}/protocol/openid-connect"
        return [
            Route("/realms/{realm}/.well-known/openid-configuration", self.discovery, methods=["GET"]),
            Route(f"{oidc}/certs", self.certs, methods=["GET"]),
            Route(f"{oidc}/token", self.token, methods=["POST"]),
            Route(f"{oidc}/logout", self.logout, methods=["POST"]),
            Route(f"{oidc}/userinfo", self.userinfo, methods=["GET", "POST"]),
        ]

    async def discovery(self, request: Request) -> Response:
        self._check_realm(request)
        oidc = f"{self.issuer}/protocol/openid-connect"
        return JSONResponse({
            "issuer": self.issuer, "authorization_endpoint": f"{oidc}/auth", "token_endpoint": f"{oidc}/token",
            "userinfo_endpoint": f"{oidc}/userinfo", "end_session_endpoint": f"{oidc}/logout",
            "jwks_uri": f"{oidc}/certs", "introspection_endpoint": f"{oidc}/token/introspect",
            "grant_types_supported": ["password", "refresh_token", "client_credentials"],
            "response_types_supported": ["code"], "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "email", "profile", "offline_access", "roles"]})

    async def certs(self, request: Request) -> Response:
        self._check_realm(request)
        return JSONResponse(self.keys.jwks(), headers={"Cache-Control": "no-cache"})

    async def token(self, request: Request) -> Response:
        self._check_realm(request)
        form = await request.form()
        grant = form.get("grant_type")
        scope_param = set(str(form.get("scope") or "").split())
        scope = " ".join(sorted(scope_param | {"email", "profile"}, key=lambda s: (s != "openid", s)))
        with self._lock:
            client_id = self._client(form, request)
            if grant == "password":
                user = self.find_login(str(form.get("username") or ""))
                if user is None or not check_password(str(form.get("password") or ""), user.password_hash):
                    raise OAuthError(401, "invalid_grant", "Invalid user credentials")
                if not user.enabled:
                    raise OAuthError(400, "invalid_grant", "Account disabled")
                now = self.clock()
                session = Session(str(uuid.uuid4()), user.id, client_id, now, now)
                self.sessions[session.id] = session
                return JSONResponse(self._token_response(user, client_id, session, scope))
            if grant == "refresh_token":
                token = form.get("refresh_token")
                if not token:
                    raise OAuthError(400, "invalid_request", "Missing parameter: refresh_token")
                session, scope = self._session_of(str(token), client_id)
                user = self.users.get(session.user_id)
                if user is None or not user.enabled:
                    self.sessions.pop(session.id, None)
                    raise OAuthError(400, "invalid_grant", "Session not active")
                session.last_refresh = self.clock()
                return JSONResponse(self._token_response(user, client_id, session, scope))
            if grant == "client_credentials":
                if self.clients[client_id].get("secret") is None:
                    raise OAuthError(401, "unauthorized_client", "Client not enabled to retrieve service account")
                return JSONResponse(self._token_response(None, client_id, None, "email profile"))
            if not grant:
                raise OAuthError(400, "invalid_request", "Missing form parameter: grant_type")
            raise OAuthError(400, "unsupported_grant_type", "Unsupported grant_type")

    async def logout(self, request: Request) -> Response:
        self._check_realm(request)
        form = await request.form()
        with self._lock:
            client_id = self._client(form, request)
            token = form.get("refresh_token")
            if not token:
                raise OAuthError(400, "invalid_request", "No refresh token")
            session, _ = self._session_of(str(token), client_id)
            self.sessions.pop(session.id, None)
        return Response(status_code=204)

    async def userinfo(self, request: Request) -> Response:
        self._check_realm(request)
        try:
            claims = self._verify_access(request)
        except AdminError:
            raise OAuthError(401, "invalid_token", "Token verification failed") from None
        with self._lock:
            user = self.users.get(claims.get("sub", ""))
            if user is None or claims.get("sid") not in self.sessions:
                raise OAuthError(401, "invalid_token", "User session not found or doesn't have client attached on it")
            info = {"sub": user.id, "email_verified": user.email_verified, "preferred_username": user.username}
            if user.email:
                info["email"] = user.email
            if user.attributes.get("custom_user_id"):
                info["user_id"] = user.attributes["custom_user_id"][0]
        return JSONResponse(info)
