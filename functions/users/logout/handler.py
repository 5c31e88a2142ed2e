"""POST users.<HOST>/logout: end the session of a refresh token at the identity provider; 204.

The session is state at the identity provider, so the call records its idempotency key: a redelivery with the
same key answers the first 204 instead of a 401 for the session it already ended. Nothing token-bearing is
stored (the reply has no body; the ledger keeps only a hash of the request).
"""
from runtime import Response, entry_points, function, http

from functions.users import model
from functions.users.identity import identity_provider


@function("users-logout", http("POST", "/logout"), body=model.LogoutRequest, secrets=["keycloak-client-secret"],
          indexes=model.INDEXES)
def main(event, ctx):
    identity_provider(ctx.config).logout(ctx.input.refreshToken)
    return Response(204)


handle, new = entry_points(main)
