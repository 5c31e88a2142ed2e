"""runtime.auth.TokenVerifier against the development identity provider's real JWKS endpoint."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from localrunner.idp import serve
from runtime import auth
from runtime.auth import Principal, TokenVerifier, bearer_token, verifier_for
from runtime.config import Config
from runtime.errors import Unauthorized, Unavailable


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unauthorized(verifier, token, message):
    with pytest.raises(Unauthorized) as caught:
        verifier.verify(token)
    assert caught.value.message == message
    assert caught.value.status == 401
    return caught.value


def count_fetches(verifier):
    client = verifier._jwks()
    calls = []
    original = client.fetch_data

    def counting():
        calls.append(1)
        return original()

    client.fetch_data = counting
    return calls


def test_valid_token_gives_user_id_roles_and_username(idp, verifier):
    token = idp.mint({"user_id": "app-42", "preferred_username": "alice",
                      "realm_access": {"roles": ["organization", "offline_access"]}})
    principal = verifier.verify(token)
    assert principal.user_id == "app-42"
    assert principal.username == "alice"
    assert principal.roles == frozenset({"organization", "offline_access"})
    assert principal.has_role("organization") and principal.has_role("member", "organization")
    assert not principal.has_role("member")
    assert principal.subject and principal.claims["typ"] == "Bearer"


def test_keycloak_default_layout_verifies(idp, verifier):
    principal = verifier.verify(idp.mint())
    assert {"member", "offline_access", "uma_authorization", "default-roles-eventonight"} <= principal.roles


def test_forged_with_another_key_under_the_same_kid(idp, verifier):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    unauthorized(verifier, idp.mint(key=other), auth.BAD_SIGNATURE)


def test_tampered_payload(idp, verifier):
    header, payload, signature = idp.mint({"user_id": "victim"}).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["user_id"] = "attacker"
    claims["realm_access"] = {"roles": ["organization"]}
    forged = ".".join([header, b64(json.dumps(claims).encode()), signature])
    unauthorized(verifier, forged, auth.BAD_SIGNATURE)


def test_expired(idp, verifier):
    unauthorized(verifier, idp.mint(expired=True), auth.EXPIRED)


def test_expiry_within_leeway_is_accepted(idp, verifier):
    import time

    now = int(time.time())
    assert verifier.verify(idp.mint({"exp": now - 5, "iat": now - 300})).user_id


def test_missing_exp(idp, verifier):
    unauthorized(verifier, idp.mint({"exp": None}), "token lacks a required claim: exp")


def test_iat_in_the_future(idp, verifier):
    import time

    now = int(time.time())
    unauthorized(verifier, idp.mint({"iat": now + 3600, "exp": now + 7200}), auth.NOT_YET_VALID)


def test_wrong_issuer(idp, verifier):
    unauthorized(verifier, idp.mint(issuer="http://127.0.0.1:1/realms/other"), auth.WRONG_ISSUER)


def test_wrong_audience(idp, verifier):
    error = unauthorized(verifier, idp.mint({"aud": "account"}), auth.WRONG_AUDIENCE)
    assert "eventonight-api" not in error.message  # never tells what would have been accepted


def test_missing_audience(idp, verifier):
    unauthorized(verifier, idp.mint({"aud": None}), "token lacks a required claim: aud")


def test_hs256_alg_confusion_with_the_public_key(idp, verifier):
    public_pem = idp.keys.active.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    good = jwt.decode(idp.mint(), options={"verify_signature": False})
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": idp.keys.active.kid}).encode())
    payload = b64(json.dumps(good).encode())
    signature = b64(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    unauthorized(verifier, f"{header}.{payload}.{signature}", auth.BAD_ALGORITHM)


def test_none_alg(idp, verifier):
    good = jwt.decode(idp.mint(), options={"verify_signature": False})
    token = jwt.encode(good, None, algorithm="none", headers={"kid": idp.keys.active.kid})
    unauthorized(verifier, token, auth.BAD_ALGORITHM)


def test_missing_user_id(idp, verifier):
    unauthorized(verifier, idp.mint({"user_id": None}), auth.MISSING_USER_ID)


def test_service_account_token_is_not_a_user(idp, verifier):
    """A client_credentials token has no user_id: it never passes as an application user."""
    claims = idp.idp.access_claims(None, "users-service", None, "email profile")
    unauthorized(verifier, idp.idp._sign(claims), auth.MISSING_USER_ID)


def test_missing_and_malformed(verifier):
    unauthorized(verifier, None, auth.MISSING_TOKEN)
    unauthorized(verifier, "", auth.MISSING_TOKEN)
    unauthorized(verifier, "not-a-jwt", auth.MALFORMED)
    unauthorized(verifier, "a.b.c", auth.MALFORMED)


def test_unknown_kid(idp, verifier):
    unauthorized(verifier, idp.mint(kid="no-such-key"), auth.UNKNOWN_KEY)


def test_messages_are_all_distinct():
    messages = [auth.MISSING_TOKEN, auth.MALFORMED, auth.BAD_ALGORITHM, auth.BAD_SIGNATURE, auth.EXPIRED,
                auth.NOT_YET_VALID, auth.WRONG_ISSUER, auth.WRONG_AUDIENCE, auth.UNKNOWN_KEY, auth.MISSING_USER_ID]
    assert len(set(messages)) == len(messages)


def test_keys_are_cached_across_verifications(idp, verifier):
    fetches = count_fetches(verifier)
    for _ in range(20):
        verifier.verify(idp.mint())
    assert len(fetches) <= 1


class Clock:
    """A monotonic clock the test moves (the verifier's refetch interval and key-set lifespan are measured on it)."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


def test_a_rotated_key_is_accepted_on_its_first_token_once_the_refetch_interval_has_passed():
    with serve("127.0.0.1", 0) as idp:
        clock = Clock()
        verifier = TokenVerifier(idp.issuer, "eventonight-api", clock=clock)
        fetches = count_fetches(verifier)
        old_token = idp.mint()
        assert verifier.verify(old_token).user_id  # the key set is fetched now
        new_kid = idp.keys.rotate().kid
        new_token = idp.mint()
        assert jwt.get_unverified_header(new_token)["kid"] == new_kid

        unauthorized(verifier, new_token, auth.UNKNOWN_KEY)  # within the interval: no second fetch
        clock.advance(auth.REFETCH_INTERVAL_SECONDS)
        assert verifier.verify(new_token).user_id  # one refetch, and the new key verifies

        assert len(fetches) == 2
        assert verifier.verify(old_token).user_id and verifier.verify(idp.mint()).user_id  # passive key too
        assert len(fetches) == 2


def test_tokens_with_made_up_key_ids_cost_one_fetch_per_interval(idp):
    """The flood the security review measured (20 junk tokens = 21 fetches, serialised): one fetch now."""
    from concurrent.futures import ThreadPoolExecutor

    clock = Clock()
    verifier = TokenVerifier(idp.issuer, "eventonight-api", clock=clock)
    fetches = count_fetches(verifier)
    junk = [idp.mint(kid=f"junk-{i}") for i in range(20)]

    with ThreadPoolExecutor(8) as pool:
        refused = list(pool.map(lambda token: pytest.raises(Unauthorized, verifier.verify, token), junk))

    assert len(refused) == 20 and all(r.value.message == auth.UNKNOWN_KEY for r in refused)
    assert len(fetches) == 1
    clock.advance(auth.REFETCH_INTERVAL_SECONDS)
    unauthorized(verifier, junk[0], auth.UNKNOWN_KEY)
    assert len(fetches) == 2


def test_a_key_rotated_out_of_the_realm_stops_verifying_when_the_key_set_is_refreshed():
    with serve("127.0.0.1", 0) as idp:
        clock = Clock()
        verifier = TokenVerifier(idp.issuer, "eventonight-api", clock=clock)
        old_kid = idp.keys.active.kid
        old_token = idp.mint()
        assert verifier.verify(old_token).user_id
        idp.keys.rotate()
        idp.keys.remove(old_kid)

        assert verifier.verify(old_token).user_id  # until the set is due for a refresh
        clock.advance(auth.JWKS_LIFESPAN_SECONDS)

        unauthorized(verifier, old_token, auth.UNKNOWN_KEY)


def test_jwks_unreachable_is_unavailable(idp, closed_port):
    verifier = TokenVerifier(idp.issuer, "eventonight-api",
                             jwks_url=f"http://127.0.0.1:{closed_port}/realms/eventonight/protocol/openid-connect/certs")
    with pytest.raises(Unavailable) as caught:
        verifier.verify(idp.mint())
    assert caught.value.status == 503 and caught.value.retryable


def test_jwks_not_found_is_unavailable(idp):
    verifier = TokenVerifier(idp.issuer, "eventonight-api", jwks_url=f"{idp.url}/realms/eventonight/nothing-here")
    with pytest.raises(Unavailable):
        verifier.verify(idp.mint())


def test_known_keys_survive_an_idp_outage_for_a_while():
    idp = serve("127.0.0.1", 0)
    clock = Clock()
    verifier = TokenVerifier(idp.issuer, "eventonight-api", clock=clock)
    token = idp.mint()
    verifier.verify(token)
    idp.keys.rotate()
    new_token = idp.mint()
    idp.stop()

    assert verifier.verify(token).user_id  # cached: no fetch needed
    clock.advance(auth.JWKS_LIFESPAN_SECONDS)
    assert verifier.verify(token).user_id  # due for a refresh, the provider is down: the set it served still holds
    clock.advance(auth.REFETCH_INTERVAL_SECONDS)
    with pytest.raises(Unavailable):  # a new kid needs the key set, which is down
        verifier.verify(new_token)
    clock.advance(auth.STALE_GRACE_SECONDS)
    with pytest.raises(Unavailable):  # and after the grace, old keys are not trusted blindly either
        verifier.verify(token)


def test_default_jwks_url_follows_keycloak():
    verifier = TokenVerifier("http://kc:8080/realms/eventonight/", "api")
    assert verifier.issuer == "http://kc:8080/realms/eventonight"
    assert verifier.jwks_url == "http://kc:8080/realms/eventonight/protocol/openid-connect/certs"


def test_verifier_for_reuses_one_verifier_per_issuer_and_audience():
    a = Config({"OIDC_ISSUER": "http://kc:1/realms/x", "OIDC_AUDIENCE": "api"})
    b = Config({"OIDC_ISSUER": "http://kc:1/realms/x/", "OIDC_AUDIENCE": "api"})
    c = Config({"OIDC_ISSUER": "http://kc:1/realms/x", "OIDC_AUDIENCE": "other"})
    assert verifier_for(a) is verifier_for(b)
    assert verifier_for(a) is not verifier_for(c)
    d = Config({"OIDC_ISSUER": "http://kc:1/realms/y", "OIDC_JWKS_URL": "http://keycloak.internal/certs"})
    assert verifier_for(d).jwks_url == "http://keycloak.internal/certs"


def test_bearer_token():
    assert bearer_token("Bearer abc.def.ghi") == "abc.def.ghi"
    assert bearer_token("bearer   abc ") == "abc"
    assert bearer_token(None) is None
    assert bearer_token("") is None
    assert bearer_token("Basic dXNlcjpwYXNz") is None
    assert bearer_token("Bearer") is None
    assert bearer_token("Bearer ") is None


def test_principal_from_claims_tolerates_odd_roles():
    principal = Principal.from_claims({"user_id": "u", "realm_access": {"roles": "member"}})
    assert principal.roles == frozenset()
    assert principal.subject is None


def test_importing_runtime_auth_does_not_import_jwt():
    import subprocess
    import sys

    code = "import sys, runtime.auth; print('jwt' in sys.modules)"
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == "False"
