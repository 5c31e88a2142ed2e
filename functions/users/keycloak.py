"""The users functions' adapter to Keycloak: its OIDC token endpoint and admin REST API, over httpx.

The reference's users service is the only component that talks to Keycloak (reference-core §0.2, §1.2): as the
confidential client ``users-service`` (a service account with realm-management ``manage-users``) it creates users
with the attribute ``custom_user_id`` (mapped into tokens as ``user_id``), assigns the realm role, deletes users,
resets passwords; and on behalf of users it runs the password grant, refresh and logout.

Keycloak's answers become the runtime's errors, so a function can let them through: connection failures, timeouts
and 5xx are :class:`Unavailable` (retried); 409 is :class:`Conflict` ("username already taken" / "email already
registered"); a password-policy refusal is :class:`InvalidInput` on ``password``; bad credentials and dead refresh
tokens are :class:`Unauthorized`. Messages never carry tokens or secrets.

The service-account token is cached per client until shortly before it expires; use :func:`keycloak_from_config`
so warm invocations share one client, its connection pool and that token. ``httpx`` is imported lazily.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from runtime import Conflict, InternalError, InvalidInput, NotFound, Secret, TooManyRequests, Unauthorized, Unavailable

if TYPE_CHECKING:  # pragma: no cover
    from runtime import Config

DEFAULT_REALM = "eventonight"
DEFAULT_CLIENT_ID = "users-service"
SECRET_NAME = "keycloak-client-secret"
TIMEOUT_SECONDS = 5.0
TOKEN_MARGIN_SECONDS = 30  # renew the service-account token this long before it expires

USERNAME_TAKEN = "username already taken"
EMAIL_TAKEN = "email already registered"
INVALID_CREDENTIALS = "invalid username or password"
INVALID_REFRESH = "refresh token is invalid or expired"


@dataclass(frozen=True)
class Tokens:
    """What a login or refresh yields (the reference's TokensDTO, in snake case)."""

    access_token: str = field(repr=False)
    expires_in: int
    refresh_token: str = field(repr=False)
    refresh_expires_in: int


def _body(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class KeycloakClient:
    """One realm, one confidential client. Thread-safe; every call is a blocking HTTP request with a timeout."""

    def __init__(self, base_url: str, realm: str, client_id: str, client_secret: Secret,
                 timeout_seconds: float = TIMEOUT_SECONDS):
        self.base_url = base_url.rstrip("/")
        self.realm = realm
        self.client_id = client_id
        self._secret = client_secret
        self._timeout = timeout_seconds
        self._http = None
        self._lock = threading.Lock()
        self._service_token: str | None = None
        self._service_token_expires = 0.0
        self._role_reps: dict[str, dict[str, Any]] = {}

    @property
    def oidc_url(self) -> str:
        return f"{self.base_url}/realms/{self.realm}/protocol/openid-connect"

    @property
    def admin_url(self) -> str:
        return f"{self.base_url}/admin/realms/{self.realm}"

    def __repr__(self) -> str:
        return f"KeycloakClient({self.base_url!r}, realm={self.realm!r}, client_id={self.client_id!r})"

    # ---- transport --------------------------------------------------------------------------------------------

    def _client(self):
        if self._http is None:
            import httpx

            with self._lock:
                if self._http is None:
                    self._http = httpx.Client(timeout=httpx.Timeout(self._timeout), follow_redirects=False)
        return self._http

    def _send(self, method: str, url: str, **kwargs: Any):
        import httpx

        try:
            response = self._client().request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise Unavailable("identity provider timed out") from None
        except httpx.TransportError:
            raise Unavailable("identity provider is unreachable") from None
        if response.status_code == 429:
            retry = response.headers.get("Retry-After")
            raise TooManyRequests("identity provider is rate limiting",
                                  retry_after_seconds=int(retry) if retry and retry.isdigit() else None)
        if response.status_code >= 500:
            raise Unavailable(f"identity provider answered {response.status_code}")
        return response

    def _client_form(self) -> dict[str, str]:
        return {"client_id": self.client_id, "client_secret": self._secret.reveal()}

    def _client_rejected(self, response: Any) -> None:
        """Our own client being refused is a deployment fault (wrong secret, client missing), not the caller's."""
        if _body(response).get("error") in ("invalid_client", "unauthorized_client"):
            raise InternalError(f"identity provider rejected client {self.client_id}")

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    # ---- service account --------------------------------------------------------------------------------------

    def _admin_token(self, renew: bool = False) -> str:
        with self._lock:
            if not renew and self._service_token and time.monotonic() < self._service_token_expires:
                return self._service_token
        response = self._send("POST", f"{self.oidc_url}/token",
                              data={"grant_type": "client_credentials", **self._client_form()})
        if response.status_code != 200:
            self._client_rejected(response)
            raise Unavailable(f"identity provider refused the service-account token ({response.status_code})")
        body = response.json()
        lifetime = int(body.get("expires_in", 60))
        with self._lock:
            self._service_token = body["access_token"]
            self._service_token_expires = time.monotonic() + max(lifetime - TOKEN_MARGIN_SECONDS, lifetime / 2)
            return self._service_token

    def _admin(self, method: str, path: str, **kwargs: Any):
        """An admin API call; a 401 renews the service-account token once (revoked or rotated early)."""
        url = f"{self.admin_url}{path}"
        response = self._send(method, url, headers={"Authorization": f"Bearer {self._admin_token()}"}, **kwargs)
        if response.status_code == 401:
            response = self._send(method, url, headers={"Authorization": f"Bearer {self._admin_token(renew=True)}"},
                                  **kwargs)
        if response.status_code in (401, 403):
            raise InternalError(f"client {self.client_id} may not manage users ({response.status_code})")
        return response

    @staticmethod
    def _expect(response: Any, *statuses: int, what: str) -> Any:
        if response.status_code in statuses:
            return response
        if response.status_code == 404:
            raise NotFound(f"{what} not found in the identity provider")
        raise Unavailable(f"identity provider answered {response.status_code} to {what}")

    @staticmethod
    def _refused_password(body: dict[str, Any]) -> InvalidInput | None:
        """Keycloak reports a policy refusal as ``{"error": "invalidPassword…", "error_description"}`` (reset,
        newer create) or ``{"errorMessage": "Password policy not met"}`` (older create)."""
        code = str(body.get("error") or "")
        text = str(body.get("error_description") or body.get("errorMessage") or "")
        if code.startswith("invalidPassword") or "password" in text.lower():
            message = text or "password does not meet the policy"
            return InvalidInput("password does not meet the policy",
                                details=[{"field": "password", "message": message}])
        return None

    # ---- users ------------------------------------------------------------------------------------------------

    def create_user(self, username: str, email: str, password: str, app_user_id: str) -> str:
        """Create an enabled user with a permanent password and ``custom_user_id``; returns the Keycloak id."""
        rep = {"username": username, "email": email, "enabled": True, "emailVerified": False,
               "attributes": {"custom_user_id": [app_user_id]},
               "credentials": [{"type": "password", "value": password, "temporary": False}]}
        response = self._admin("POST", "/users", json=rep)
        if response.status_code == 201:
            location = response.headers.get("Location", "")
            keycloak_id = location.rstrip("/").rsplit("/", 1)[-1]
            if not keycloak_id:
                raise Unavailable("identity provider created the user but sent no Location")
            return keycloak_id
        body = _body(response)
        if response.status_code == 409:
            if "email" in str(body.get("errorMessage", "")).lower():
                raise Conflict(EMAIL_TAKEN, details=[{"field": "email", "message": EMAIL_TAKEN}])
            raise Conflict(USERNAME_TAKEN, details=[{"field": "username", "message": USERNAME_TAKEN}])
        if response.status_code == 400:
            refused = self._refused_password(body)
            if refused:
                raise refused
            message = str(body.get("errorMessage") or body.get("error_description") or "user rejected")
            raise InvalidInput(f"identity provider rejected the user: {message}")
        return self._expect(response, 201, what="user creation")

    def _role(self, role: str) -> dict[str, Any]:
        rep = self._role_reps.get(role)
        if rep is None:
            response = self._admin("GET", f"/roles/{quote(role, safe='')}")
            if response.status_code == 404:
                raise InternalError(f"realm role {role!r} is not defined in the identity provider")
            body = self._expect(response, 200, what=f"realm role {role}").json()
            rep = self._role_reps[role] = {"id": body["id"], "name": body["name"]}
        return rep

    def assign_realm_role(self, keycloak_id: str, role: str) -> None:
        response = self._admin("POST", f"/users/{quote(keycloak_id, safe='')}/role-mappings/realm",
                               json=[self._role(role)])
        self._expect(response, 204, 200, what="user")

    def get_user(self, keycloak_id: str) -> dict[str, Any]:
        """The Keycloak UserRepresentation."""
        response = self._admin("GET", f"/users/{quote(keycloak_id, safe='')}")
        return self._expect(response, 200, what="user").json()

    def set_attribute(self, keycloak_id: str, name: str, value: str | list[str]) -> None:
        """Set one user attribute, keeping the others (Keycloak's PUT replaces ``attributes`` whole)."""
        rep = self.get_user(keycloak_id)
        attributes = dict(rep.get("attributes") or {})
        attributes[name] = [value] if isinstance(value, str) else list(value)
        response = self._admin("PUT", f"/users/{quote(keycloak_id, safe='')}",
                               json={**rep, "attributes": attributes})
        self._expect(response, 204, 200, what="user")

    def find_user_id(self, username_or_email: str) -> str | None:
        """The Keycloak id of the user with this exact username, else this exact email; None if neither."""
        for param in ("username", "email"):
            response = self._admin("GET", "/users", params={param: username_or_email, "exact": "true"})
            users = self._expect(response, 200, what="user search").json()
            wanted = username_or_email.lower()
            for user in users:
                if str(user.get(param, "")).lower() == wanted:
                    return user["id"]
        return None

    def delete_user(self, keycloak_id: str) -> bool:
        """Delete the user (and so its sessions). False if it was already gone, so retries stay harmless."""
        response = self._admin("DELETE", f"/users/{quote(keycloak_id, safe='')}")
        if response.status_code == 404:
            return False
        self._expect(response, 204, 200, what="user")
        return True

    def reset_password(self, keycloak_id: str, password: str) -> None:
        response = self._admin("PUT", f"/users/{quote(keycloak_id, safe='')}/reset-password",
                               json={"type": "password", "value": password, "temporary": False})
        if response.status_code == 400:
            raise self._refused_password(_body(response)) or InvalidInput("identity provider rejected the password")
        self._expect(response, 204, 200, what="user")

    def logout_user(self, keycloak_id: str) -> None:
        """End every session of the user (their refresh tokens stop working)."""
        response = self._admin("POST", f"/users/{quote(keycloak_id, safe='')}/logout")
        self._expect(response, 204, 200, what="user")

    # ---- on behalf of users -----------------------------------------------------------------------------------

    @staticmethod
    def _tokens(body: dict[str, Any], previous_refresh: str | None = None) -> Tokens:
        return Tokens(access_token=body["access_token"], expires_in=int(body.get("expires_in", 0)),
                      refresh_token=body.get("refresh_token") or previous_refresh or "",
                      refresh_expires_in=int(body.get("refresh_expires_in", 0)))

    def password_grant(self, username: str, password: str) -> Tokens:
        """Log in by username or email (Keycloak accepts either)."""
        response = self._send("POST", f"{self.oidc_url}/token",
                              data={"grant_type": "password", "username": username, "password": password,
                                    **self._client_form()})
        if response.status_code == 200:
            return self._tokens(response.json())
        if response.status_code in (400, 401):
            self._client_rejected(response)
            description = str(_body(response).get("error_description", ""))
            if "disabled" in description.lower():
                raise Unauthorized("account disabled")
            raise Unauthorized(INVALID_CREDENTIALS)
        raise Unavailable(f"identity provider answered {response.status_code} to a login")

    def refresh(self, refresh_token: str) -> Tokens:
        """New tokens for a refresh token; if Keycloak sends no new refresh token the old one is kept."""
        response = self._send("POST", f"{self.oidc_url}/token",
                              data={"grant_type": "refresh_token", "refresh_token": refresh_token,
                                    **self._client_form()})
        if response.status_code == 200:
            return self._tokens(response.json(), refresh_token)
        if response.status_code in (400, 401):
            self._client_rejected(response)
            raise Unauthorized(INVALID_REFRESH)
        raise Unavailable(f"identity provider answered {response.status_code} to a refresh")

    def jwks(self) -> dict[str, Any]:
        """The realm's JSON Web Key Set, fetched afresh (a rotated key shows at once)."""
        response = self._send("GET", f"{self.oidc_url}/certs")
        body = _body(self._expect(response, 200, what="realm keys"))
        if not isinstance(body.get("keys"), list):
            raise Unavailable("identity provider sent no key set")
        return body

    def logout(self, refresh_token: str) -> None:
        """End the session of ``refresh_token``; an invalid or already revoked token is :class:`Unauthorized`."""
        response = self._send("POST", f"{self.oidc_url}/logout",
                              data={"refresh_token": refresh_token, **self._client_form()})
        if response.status_code in (200, 204):
            return
        if response.status_code in (400, 401):
            self._client_rejected(response)
            raise Unauthorized(INVALID_REFRESH)
        raise Unavailable(f"identity provider answered {response.status_code} to a logout")


_ISSUER = re.compile(r"^(?P<base>.*?)/realms/(?P<realm>[^/]+)/?$")
_clients: dict[tuple[str, str, str, str], KeycloakClient] = {}
_clients_lock = threading.Lock()


def keycloak_from_config(config: Config) -> KeycloakClient:
    """The process-wide client for ``config``: KEYCLOAK_URL (default: OIDC_ISSUER without ``/realms/<realm>``),
    KEYCLOAK_REALM (default: the issuer's realm, else ``eventonight``), KEYCLOAK_CLIENT_ID (default
    ``users-service``) and the secret ``keycloak-client-secret``."""
    issuer = _ISSUER.match(config.oidc_issuer)
    base_url = config.get("KEYCLOAK_URL", issuer.group("base") if issuer else config.oidc_issuer)
    realm = config.get("KEYCLOAK_REALM", issuer.group("realm") if issuer else DEFAULT_REALM)
    client_id = config.get("KEYCLOAK_CLIENT_ID", DEFAULT_CLIENT_ID)
    secret = config.secret(SECRET_NAME)
    key = (base_url.rstrip("/"), realm, client_id, secret.reveal())
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = KeycloakClient(base_url, realm, client_id, secret)
        return client
