"""Bearer-token verification against the realm's JWKS (design §6).

Every function verifies Keycloak's RS256 access tokens locally: signature by ``kid`` from
``{issuer}/protocol/openid-connect/certs``, ``exp`` (required), ``iat``, ``iss`` and ``aud``; the application user
id comes from the ``user_id`` claim (Keycloak's ``custom_user_id`` attribute mapper), roles from
``realm_access.roles``. Only RS256 is accepted: the reference's dev modes (``none``, HS256, unverified payloads) are
exactly what we refuse.

Every failure is a :class:`runtime.errors.Unauthorized` whose message names the cause but never echoes the token,
the expected issuer/audience or key material. An unreachable JWKS is :class:`runtime.errors.Unavailable` (503,
retried), because the caller did nothing wrong.

``jwt`` is imported inside methods so importing a handler module stays cheap.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .errors import Unauthorized, Unavailable

if TYPE_CHECKING:  # pragma: no cover
    from .config import Config

ALGORITHM = "RS256"
JWKS_LIFESPAN_SECONDS = 300  # how long a fetched key set is trusted before it is refreshed
REFETCH_INTERVAL_SECONDS = 10  # at most one fetch this often, whatever key ids tokens claim
STALE_GRACE_SECONDS = 3600  # how long a key set keeps verifying while the identity provider is unreachable
JWKS_TIMEOUT_SECONDS = 5

# One message per cause; tests and clients may rely on them, so they are stable.
MISSING_TOKEN = "missing bearer token"
MALFORMED = "malformed token"
BAD_ALGORITHM = "token algorithm not accepted"
BAD_SIGNATURE = "token signature is invalid"
EXPIRED = "token has expired"
NOT_YET_VALID = "token is not valid yet"
WRONG_ISSUER = "token issuer not accepted"
WRONG_AUDIENCE = "token audience not accepted"
UNKNOWN_KEY = "token signed by an unknown key"
MISSING_USER_ID = "token carries no user_id"
MISSING_CLAIM = "token lacks a required claim: {claim}"
INVALID = "token is invalid"


@dataclass(frozen=True)
class Principal:
    """The verified caller: ``user_id`` is what every ownership check uses; ``subject`` is Keycloak's own id."""

    user_id: str
    subject: str | None
    roles: frozenset[str]
    username: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def has_role(self, *roles: str) -> bool:
        """True if the caller holds any of ``roles`` (the contract's "one of" semantics)."""
        return any(role in self.roles for role in roles)

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Principal:
        user_id = claims.get("user_id")
        if not isinstance(user_id, str) or not user_id:
            raise Unauthorized(MISSING_USER_ID)
        realm_access = claims.get("realm_access")
        roles = realm_access.get("roles") if isinstance(realm_access, Mapping) else None
        roles = frozenset(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else frozenset()
        return cls(user_id=user_id, subject=claims.get("sub"), roles=roles,
                   username=claims.get("preferred_username"), claims=MappingProxyType(dict(claims)))


def bearer_token(authorization_header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive), else None."""
    if not authorization_header:
        return None
    scheme, _, token = authorization_header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


class TokenVerifier:
    """Verifies access tokens of one issuer for one audience; keeps the issuer's key set across invocations.

    Key set (JWKS) cache, so that nobody can make us hammer the identity provider and no retired key lives on:

    - a token whose ``kid`` the set lacks triggers a refetch, but at most one every ``REFETCH_INTERVAL_SECONDS``
      and one at a time (others wait for it, or get 401 at once when a fetch just happened): a flood of tokens with
      made-up key ids costs one fetch per interval, not one per token. A key Keycloak has just rotated in is
      accepted on its first token unless a fetch happened in the last interval;
    - the set is refreshed after ``JWKS_LIFESPAN_SECONDS``, and replaced whole: a key rotated out of the realm stops
      verifying within that time, not at the next restart;
    - while the identity provider is unreachable, a set it served keeps verifying for ``STALE_GRACE_SECONDS``.
    """

    def __init__(self, issuer: str, audience: str, jwks_url: str | None = None, leeway_seconds: int = 10,
                 clock: Callable[[], float] = time.monotonic, refetch_interval_seconds: float = REFETCH_INTERVAL_SECONDS):
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.jwks_url = jwks_url or f"{self.issuer}/protocol/openid-connect/certs"
        self.leeway_seconds = leeway_seconds
        self._clock = clock
        self.refetch_interval_seconds = refetch_interval_seconds
        self._client = None
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last fetch, successful or not
        self._fetch_lock = threading.Lock()

    def _jwks(self):
        """The HTTP fetcher of the key set (PyJWT's, without its own caches: this class is the cache)."""
        if self._client is None:
            import jwt

            self._client = jwt.PyJWKClient(self.jwks_url, cache_jwk_set=False, timeout=JWKS_TIMEOUT_SECONDS)
        return self._client

    def _fetch(self) -> None:
        import jwt

        try:
            data = self._jwks().fetch_data()
            keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(data).keys
                    if k.key_id and k.public_key_use in ("sig", None)}
        except jwt.exceptions.PyJWKClientConnectionError:
            raise Unavailable("identity provider keys are unreachable") from None
        except (jwt.exceptions.PyJWKClientError, jwt.exceptions.PyJWKSetError, ValueError, TypeError):
            raise Unavailable("identity provider returned unusable keys") from None  # no signing keys, not JSON
        self._keys, self._fetched_at = keys, self._clock()

    def _signing_key(self, kid: str):
        key = self._keys.get(kid)
        if key is not None and self._age() < JWKS_LIFESPAN_SECONDS:
            return key
        with self._fetch_lock:  # one fetch at a time; whoever waited sees its result
            now = self._clock()
            key = self._keys.get(kid)
            if key is not None and self._age() < JWKS_LIFESPAN_SECONDS:
                return key
            if self._attempted_at is None or now - self._attempted_at >= self.refetch_interval_seconds:
                self._attempted_at = now
                try:
                    self._fetch()
                except Unavailable:
                    if key is not None and self._age() < JWKS_LIFESPAN_SECONDS + STALE_GRACE_SECONDS:
                        return key  # the provider is down: a key it served recently still verifies
                    raise
            key = self._keys.get(kid)
        if key is None:
            raise Unauthorized(UNKNOWN_KEY)
        return key

    def _age(self) -> float:
        return float("inf") if self._fetched_at is None else self._clock() - self._fetched_at

    def verify(self, token: str | None) -> Principal:
        """The caller behind ``token``, or :class:`Unauthorized` naming why not (see module docstring)."""
        import jwt
        from jwt import exceptions as e

        if not token:
            raise Unauthorized(MISSING_TOKEN)
        try:
            header = jwt.get_unverified_header(token)
        except e.PyJWTError:
            raise Unauthorized(MALFORMED) from None
        if header.get("alg") != ALGORITHM:
            raise Unauthorized(BAD_ALGORITHM)
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized(UNKNOWN_KEY)
        key = self._signing_key(kid)
        try:
            claims = jwt.decode(token, key.key, algorithms=[ALGORITHM], issuer=self.issuer, audience=self.audience,
                                leeway=self.leeway_seconds, options={"require": ["exp", "iat", "iss", "aud"]})
        except e.MissingRequiredClaimError as exc:
            raise Unauthorized(MISSING_CLAIM.format(claim=exc.claim)) from None
        except e.PyJWTError as exc:
            raise Unauthorized(_message_for(exc)) from None
        return Principal.from_claims(claims)


def _message_for(exc: Exception) -> str:
    """One message per way a decode can fail (most specific PyJWT error first)."""
    from jwt import exceptions as e

    for kind, message in ((e.InvalidSignatureError, BAD_SIGNATURE), (e.ExpiredSignatureError, EXPIRED),
                          (e.ImmatureSignatureError, NOT_YET_VALID), (e.InvalidIssuerError, WRONG_ISSUER),
                          (e.InvalidAudienceError, WRONG_AUDIENCE), (e.InvalidAlgorithmError, BAD_ALGORITHM),
                          (e.DecodeError, MALFORMED)):
        if isinstance(exc, kind):
            return message
    return INVALID


_verifiers: dict[tuple[str, str], TokenVerifier] = {}
_verifiers_lock = threading.Lock()


def verifier_for(config: Config) -> TokenVerifier:
    """The process-wide verifier for ``config``'s issuer and audience, so warm invocations reuse the JWKS cache."""
    key = (config.oidc_issuer, config.oidc_audience)
    verifier = _verifiers.get(key)
    if verifier is None:
        # OIDC_JWKS_URL: where the keys are fetched when the public issuer URL is not reachable from inside the
        # cluster (the ``iss`` check still uses OIDC_ISSUER).
        jwks_url = config.environ.get("OIDC_JWKS_URL") or None
        interval = config.get_int("JWKS_REFETCH_INTERVAL_SECONDS", REFETCH_INTERVAL_SECONDS)
        with _verifiers_lock:
            verifier = _verifiers.setdefault(key, TokenVerifier(*key, jwks_url=jwks_url,
                                                                refetch_interval_seconds=interval))
    return verifier
