"""The development identity provider: Keycloak's paths, token layout, JWKS and the admin calls we use (design §8).

Keycloak cannot run here, and the mocks that exist lack the password grant, the admin API or a Keycloak-shaped
token (standins §3.1), so this is our own, small and in memory. It imitates Keycloak ≥ 17 (no ``/auth`` prefix):

* OIDC under ``/realms/{realm}``: discovery, ``certs`` (an RS256 ``sig`` key per generation plus an RSA-OAEP
  ``enc`` key, as Keycloak lists), ``token`` (grants ``password`` by username or email, ``refresh_token``,
  ``client_credentials``), ``logout`` (revokes the session of a refresh token) and ``userinfo``.
* Admin REST under ``/admin/realms/{realm}`` for a bearer holding realm-management ``manage-users`` (a
  ``client_credentials`` token of a client configured with ``manage_users``): users (create, query, read, update,
  delete, reset-password, logout), realm roles and realm role mappings.
* Access tokens carry Keycloak's claims (``aud`` = [the API audience, "account"], ``typ``, ``azp``, ``sid``,
  ``realm_access.roles`` with the default roles, ``scope``, profile/email claims) and ``user_id`` from the user's
  attribute ``custom_user_id`` (the reference's protocol mapper).
* Errors in Keycloak's JSON shapes and statuses; the realm password policy of the reference
  (``length(8) and digits(1) and lowerCase(1) and specialChars(1)``); usernames and emails lower-cased.

Tests reach in through :class:`IdentityProvider` (``keys.rotate()``, ``mint(...)``, ``add_user(...)``); the
production code only ever talks HTTP to it, exactly as to Keycloak.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ACCESS_TOKEN_LIFESPAN = 300
REFRESH_TOKEN_LIFESPAN = 1800  # SSO session idle, as Keycloak's default
PBKDF2_ITERATIONS = 27500  # Keycloak's historical pbkdf2-sha256 default
SPECIAL_CHARACTERS = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ")
REALM_ROLES = ("member", "organization")
DEFAULT_ROLES = ("offline_access", "uma_authorization")
MANAGE_USERS_ROLES = ("manage-users", "view-users", "query-users", "view-realm", "manage-realm")

# client_id -> {"secret": str | None (None = public client), "manage_users": bool}
DEFAULT_CLIENTS: dict[str, dict[str, Any]] = {
    "users-service": {"secret": "users-service-secret", "manage_users": True},
    "eventonight-web": {"secret": None},
}


# ---- keys -----------------------------------------------------------------------------------------------------

def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @classmethod
    def generate(cls, realm: str) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, realm)])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=3650)).sign(key, hashes.SHA256()))
        return cls(_b64url(secrets.token_bytes(24)), key, cert)

    def jwk(self, alg: str, use: str) -> dict[str, Any]:
        numbers = self.private_key.public_key().public_numbers()
        der = self.certificate.public_bytes(serialization.Encoding.DER)

        def uint(n: int) -> str:
            return _b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))

        return {"kid": self.kid, "kty": "RSA", "alg": alg, "use": use, "n": uint(numbers.n), "e": uint(numbers.e),
                "x5c": [base64.b64encode(der).decode("ascii")], "x5t": _b64url(hashlib.sha1(der).digest()),
                "x5t#S256": _b64url(hashlib.sha256(der).digest())}


class Keys:
    """The realm's keys: signing keys by generation (the newest signs, all verify) and one encryption key."""

    def __init__(self, realm: str):
        self._realm = realm
        self._lock = threading.Lock()
        self._signing: list[SigningKey] = [SigningKey.generate(realm)]
        self._encryption = SigningKey.generate(realm)

    @property
    def active(self) -> SigningKey:
        return self._signing[-1]

    def rotate(self) -> SigningKey:
        """A new signing key becomes active; the old ones stay in the JWKS (Keycloak's passive keys)."""
        key = SigningKey.generate(self._realm)
        with self._lock:
            self._signing.append(key)
        return key

    def remove(self, kid: str) -> None:
        """Drop a signing key from the JWKS (a key Keycloak has deleted)."""
        with self._lock:
            self._signing = [k for k in self._signing if k.kid != kid] or self._signing

    def find(self, kid: str | None) -> SigningKey | None:
        return next((k for k in self._signing if k.kid == kid), None)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.jwk("RS256", "sig") for k in reversed(self._signing)]
                + [self._encryption.jwk("RSA-OAEP", "enc")]}


# ---- state ----------------------------------------------------------------------------------------------------

def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
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


class OAuthError(Exception):
    """Answered in Keycloak's OAuth shape ``{"error", "error_description"}``."""

    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.error, "error_description": self.description}, self.status)


class AdminError(Exception):
    """Answered as the admin API does: ``{"errorMessage": ...}`` or a raw body."""

    def __init__(self, status: int, body: dict[str, Any]):
        super().__init__(str(body))
        self.status, self.body = status, body

    def response(self) -> JSONResponse:
        return JSONResponse(self.body, self.status)


def _attributes(raw: Any) -> dict[str, list[str]]:
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in raw.items()}


class IdentityProvider:
    """One realm's state, keys and HTTP app. Thread-safe: tests call it while the app serves requests."""

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
        self.app = self._build_app()

    # ---- users ------------------------------------------------------------------------------------------------

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
                        enabled=enabled, attributes=_attributes(attributes or {}),
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

    # ---- tokens -----------------------------------------------------------------------------------------------

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

    # ---- HTTP: OIDC -------------------------------------------------------------------------------------------

    def _check_realm(self, request: Request) -> None:
        if request.path_params["realm"] != self.realm:
            raise AdminError(404, {"error": "Realm does not exist"})

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

    # ---- HTTP: admin ------------------------------------------------------------------------------------------

    def _admin(self, request: Request) -> None:
        self._check_realm(request)
        claims = self._verify_access(request)
        roles = (claims.get("resource_access") or {}).get("realm-management", {}).get("roles", [])
        if "manage-users" not in roles:
            raise AdminError(403, {"error": "HTTP 403 Forbidden"})

    @staticmethod
    async def _json(request: Request) -> Any:
        try:
            return await request.json()
        except ValueError:
            raise AdminError(400, {"errorMessage": "Invalid JSON"}) from None

    async def create_user(self, request: Request) -> Response:
        self._admin(request)
        rep = await self._json(request)
        if not isinstance(rep, dict):
            raise AdminError(400, {"errorMessage": "Invalid user representation"})
        username = str(rep.get("username") or "").strip()
        if not username:
            raise AdminError(400, {"field": "username", "errorMessage": "error-user-attribute-required",
                                   "params": ["username"]})
        password = None
        for credential in rep.get("credentials") or []:
            if isinstance(credential, dict) and credential.get("type", "password") == "password":
                password = str(credential.get("value") or "")
        with self._lock:
            self._check_unique(username, rep.get("email"))  # Keycloak checks duplicates before the policy
            user = self.add_user(username, rep.get("email"), password, attributes=rep.get("attributes"),
                                 enabled=bool(rep.get("enabled", False)))
            user.email_verified = bool(rep.get("emailVerified", False))
            user.first_name, user.last_name = rep.get("firstName"), rep.get("lastName")
        location = f"{self.base_url}/admin/realms/{self.realm}/users/{user.id}"
        return Response(status_code=201, headers={"Location": location})

    async def query_users(self, request: Request) -> Response:
        self._admin(request)
        q = request.query_params
        exact = q.get("exact", "false").lower() == "true"

        def matches(value: str | None, wanted: str | None) -> bool:
            if wanted is None:
                return True
            if value is None:
                return False
            return value == wanted.lower() if exact else wanted.lower() in value

        attribute_query = dict(part.split(":", 1) for part in q.get("q", "").split() if ":" in part)
        search = q.get("search")
        with self._lock:
            found = [u for u in sorted(self.users.values(), key=lambda u: u.username)
                     if matches(u.username, q.get("username")) and matches(u.email, q.get("email"))
                     and all(v in u.attributes.get(k, []) for k, v in attribute_query.items())
                     and (search is None or search.lower().strip("*") in u.username
                          or search.lower().strip("*") in (u.email or ""))]
            first, maximum = int(q.get("first", 0)), int(q.get("max", 100))
            return JSONResponse([u.representation() for u in found[first:first + maximum]])

    async def get_user(self, request: Request) -> Response:
        self._admin(request)
        with self._lock:
            return JSONResponse(self._user(request.path_params["id"]).representation())

    async def update_user(self, request: Request) -> Response:
        self._admin(request)
        rep = await self._json(request)
        if not isinstance(rep, dict):
            raise AdminError(400, {"errorMessage": "Invalid user representation"})
        with self._lock:
            user = self._user(request.path_params["id"])
            self._check_unique(rep.get("username"), rep.get("email"), except_id=user.id)
            if rep.get("username"):
                user.username = str(rep["username"]).lower()
            if "email" in rep:
                user.email = str(rep["email"]).lower() if rep["email"] else None
            for key, attr in (("enabled", "enabled"), ("emailVerified", "email_verified"),
                              ("firstName", "first_name"), ("lastName", "last_name")):
                if key in rep:
                    setattr(user, attr, rep[key])
            if "attributes" in rep:
                user.attributes.update(_attributes(rep["attributes"]))
            if not user.enabled:
                self.revoke_user_sessions(user.id)
        return Response(status_code=204)

    async def delete_user(self, request: Request) -> Response:
        self._admin(request)
        with self._lock:
            user = self._user(request.path_params["id"])
            self.revoke_user_sessions(user.id)
            del self.users[user.id]
        return Response(status_code=204)

    async def get_role(self, request: Request) -> Response:
        self._admin(request)
        name = request.path_params["role"]
        if name not in self.roles:
            raise AdminError(404, {"error": "Could not find role"})
        return JSONResponse({"id": self.roles[name], "name": name, "composite": name.startswith("default-roles-"),
                             "clientRole": False, "containerId": self.realm})

    async def role_mappings(self, request: Request) -> Response:
        self._admin(request)
        reps = await self._json(request) if request.method != "GET" else []
        if not isinstance(reps, list):
            raise AdminError(400, {"errorMessage": "Invalid role representations"})
        with self._lock:
            user = self._user(request.path_params["id"])
            if request.method == "GET":
                return JSONResponse([{"id": self.roles[r], "name": r, "composite": False, "clientRole": False,
                                      "containerId": self.realm} for r in sorted(user.roles)])
            names = []
            for rep in reps:
                name = rep.get("name") if isinstance(rep, dict) else None
                if name not in self.roles or (rep.get("id") and rep["id"] != self.roles[name]):
                    raise AdminError(404, {"error": "Role not found"})
                names.append(name)
            if request.method == "DELETE":
                user.roles.difference_update(names)
            else:
                implicit = {*DEFAULT_ROLES, f"default-roles-{self.realm}"}  # in every token already
                user.roles.update(n for n in names if n not in implicit)
        return Response(status_code=204)

    async def reset_password(self, request: Request) -> Response:
        self._admin(request)
        rep = await self._json(request)
        password = str((rep or {}).get("value") or "") if isinstance(rep, dict) else ""
        violation = password_policy_violation(password)
        with self._lock:
            user = self._user(request.path_params["id"])
            if violation:
                raise AdminError(400, {"error": violation[0], "error_description": violation[1]})
            user.password_hash = hash_password(password)
        return Response(status_code=204)

    async def logout_user(self, request: Request) -> Response:
        self._admin(request)
        with self._lock:
            self._user(request.path_params["id"])
            self.revoke_user_sessions(request.path_params["id"])
        return Response(status_code=204)

    def _build_app(self) -> Starlette:
        oidc = "/realms/{realm}/protocol/openid-connect"
        admin = "/admin/realms/{realm}"
        routes = [
            Route("/realms/{realm}/.well-known/openid-configuration", self.discovery, methods=["GET"]),
            Route(f"{oidc}/certs", self.certs, methods=["GET"]),
            Route(f"{oidc}/token", self.token, methods=["POST"]),
            Route(f"{oidc}/logout", self.logout, methods=["POST"]),
            Route(f"{oidc}/userinfo", self.userinfo, methods=["GET", "POST"]),
            Route(f"{admin}/users", self.create_user, methods=["POST"]),
            Route(f"{admin}/users", self.query_users, methods=["GET"]),
            Route(f"{admin}/users/{{id}}", self.get_user, methods=["GET"]),
            Route(f"{admin}/users/{{id}}", self.update_user, methods=["PUT"]),
            Route(f"{admin}/users/{{id}}", self.delete_user, methods=["DELETE"]),
            Route(f"{admin}/users/{{id}}/role-mappings/realm", self.role_mappings, methods=["GET", "POST", "DELETE"]),
            Route(f"{admin}/users/{{id}}/reset-password", self.reset_password, methods=["PUT"]),
            Route(f"{admin}/users/{{id}}/logout", self.logout_user, methods=["POST"]),
            Route(f"{admin}/roles/{{role}}", self.get_role, methods=["GET"]),
        ]

        async def oauth_error(request: Request, exc: Exception) -> Response:
            return exc.response()  # type: ignore[attr-defined]

        app = Starlette(routes=routes, exception_handlers={OAuthError: oauth_error, AdminError: oauth_error})
        app.state.idp = self
        return app


def create_app(base_url: str, realm: str = "eventonight", clients: Mapping[str, Mapping[str, Any]] | None = None,
               audience: str = "eventonight-api", clock: Callable[[], float] = time.time) -> Starlette:
    """The Starlette app of a fresh identity provider; the provider itself is ``app.state.idp``."""
    return IdentityProvider(base_url, realm, clients, audience, clock).app


# ---- serving --------------------------------------------------------------------------------------------------

class ServedIdp:
    """A running provider: ``url`` (the base, without ``/realms``), ``issuer``, ``idp`` and ``stop()``."""

    def __init__(self, idp: IdentityProvider, server: Any, thread: threading.Thread):
        self.idp, self._server, self._thread = idp, server, thread
        self.url = idp.base_url
        self.issuer = idp.issuer

    @property
    def keys(self) -> Keys:
        return self.idp.keys

    def mint(self, *args: Any, **kwargs: Any) -> str:
        return self.idp.mint(*args, **kwargs)

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> ServedIdp:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve(host: str = "127.0.0.1", port: int = 0, **options: Any) -> ServedIdp:
    """Run a provider under uvicorn in a daemon thread; ``port=0`` picks a free port. Returns once it accepts."""
    import uvicorn

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    idp = IdentityProvider(f"http://{shown_host}:{bound_port}", **options)
    server = uvicorn.Server(uvicorn.Config(idp.app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"idp-{bound_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("identity provider did not start")
        time.sleep(0.01)
    return ServedIdp(idp, server, thread)
