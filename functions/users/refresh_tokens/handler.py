"""POST users.<HOST>/refresh: exchange a refresh token for new tokens (no state of ours changes)."""
from runtime import Response, entry_points, function, http

from functions.users import model
from functions.users.identity import identity_provider, login_fields


@function("users-refresh-tokens", http("POST", "/refresh"), state_changing=False, body=model.RefreshRequest,
          secrets=["keycloak-client-secret"], indexes=model.INDEXES)
def main(event, ctx):
    request = ctx.input
    tokens = identity_provider(ctx.config).refresh(request.refreshToken)
    return Response(200, login_fields(tokens))


handle, new = entry_points(main)
