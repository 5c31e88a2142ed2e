"""GET users.<HOST>/public-keys: the realm's signing keys as the reference served them to other services,
``{keys: [{kid, publicKey}]}`` with base64 DER SubjectPublicKeyInfo keys, from the realm's JWKS.

The endpoint is public, so the key set is cached for ``PUBLIC_KEYS_CACHE_SECONDS`` (default 30; clients may cache
as long, ``Cache-Control``): however often it is asked, the identity provider is asked at most once per period, one
request at a time. A rotated key shows within that period (Keycloak publishes a new key before it signs with it).
"""
import threading
import time

from runtime import Response, entry_points, function, http

from functions.users.identity import identity_provider, public_keys

DEFAULT_CACHE_SECONDS = 30
_cache: dict[str, tuple[float, list]] = {}  # JWKS URL -> (fetched at, keys), per process
_lock = threading.Lock()


@function("users-public-keys", http("GET", "/public-keys"), secrets=["keycloak-client-secret"])
def main(event, ctx):
    ttl = ctx.config.get_int("PUBLIC_KEYS_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)
    idp = identity_provider(ctx.config)
    with _lock:
        fetched_at, keys = _cache.get(idp.oidc_url, (float("-inf"), []))
        if time.monotonic() - fetched_at >= ttl:
            keys = public_keys(idp.jwks())
            _cache[idp.oidc_url] = (time.monotonic(), keys)
    return Response(200, {"keys": keys}, {"Cache-Control": f"public, max-age={ttl}"})


handle, new = entry_points(main)
