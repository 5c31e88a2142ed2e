"""GET users.<HOST>/public-keys: the realm's signing keys as the reference served them to other services,
``{keys: [{kid, publicKey}]}`` with base64 DER SubjectPublicKeyInfo keys, read afresh from the realm's JWKS."""
from runtime import Response, entry_points, function, http

from functions.users.identity import identity_provider, public_keys


@function("users-public-keys", http("GET", "/public-keys"), secrets=["keycloak-client-secret"])
def main(event, ctx):
    return Response(200, {"keys": public_keys(identity_provider(ctx.config).jwks())})


handle, new = entry_points(main)
