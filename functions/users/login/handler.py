"""POST users.<HOST>/login: password grant at the identity provider, answered with the profile and tokens.

Changes no state of ours, so it records no idempotency key (tokens must never be stored for replay) — except
when it repairs an account whose registration crashed after the identity was created (see ``register``).
"""
from runtime import Response, entry_points, function, http

from functions.users import model
from functions.users.identity import identity_provider, load_or_repair, login_fields


@function("users-login", http("POST", "/login"), state_changing=False, emits=["user.created"], body=model.Credentials,
          secrets=["keycloak-client-secret"], redact=["password"], indexes=model.INDEXES)
def main(event, ctx):
    credentials = ctx.input
    idp = identity_provider(ctx.config)
    tokens = idp.password_grant(credentials.username, credentials.password)
    doc = load_or_repair(ctx, tokens.access_token, idp)
    return Response(200, {**model.owner_view(doc), **login_fields(tokens)})


handle, new = entry_points(main)
