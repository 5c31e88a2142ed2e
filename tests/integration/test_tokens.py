"""Tokens a gateway caller may present: only RS256 tokens of our realm, for our audience, unexpired, pass."""
import pytest

from localrunner.bus import wait_until

PLATFORM_ENV = {"JWKS_REFETCH_INTERVAL_SECONDS": "1"}  # 10 s in production: a flood of unknown key ids costs little
pytestmark = pytest.mark.clock  # scripts/test runs it again with the clock a year ahead

BODY = {"title": "Token test", "status": "DRAFT"}


@pytest.fixture
def organization(api):
    return api.register("organization")


def forge(platform, organization, kind):
    idp = platform.idp
    claims = {"user_id": organization["id"], "realm_access": {"roles": ["organization"]}}
    if kind == "forged":
        from cryptography.hazmat.primitives.asymmetric import rsa

        other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return idp.mint(claims, key=other_key, kid=idp.keys.active.kid)
    if kind == "expired":
        return idp.mint(claims, expired=True)
    if kind == "wrong-issuer":
        return idp.mint(claims, issuer="http://evil.example/realms/eventonight")
    if kind == "garbage":
        return "not.a.jwt"
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["forged", "expired", "wrong-issuer", "garbage"])
def test_bad_tokens_are_401_and_change_nothing(api, platform, organization, kind, group_db):
    events = group_db("events")["events"]
    before = events.count_documents({})

    response = api.call("POST", "events", "/", token=forge(platform, organization, kind), json=BODY)

    assert response.status_code == 401 and response.json()["error"] == "unauthorized"
    assert events.count_documents({}) == before


def test_a_token_from_the_identity_provider_is_accepted_by_another_group(api, organization):
    response = api.call("POST", "events", "/", token=organization["accessToken"], json=BODY)

    assert response.status_code == 201


def test_a_rotated_signing_key_is_accepted_once_the_refetch_interval_has_passed(api, platform, organization):
    api.call("POST", "events", "/", token=organization["accessToken"], json=BODY)  # JWKS now cached
    platform.idp.keys.rotate()
    token = platform.idp.mint({"user_id": organization["id"], "realm_access": {"roles": ["organization"]}})

    assert wait_until(lambda: api.call("POST", "events", "/", token=token, json=BODY).status_code == 201, timeout=5)
