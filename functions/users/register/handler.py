"""POST users.<HOST>/register: create the identity, the profile and ``user.created``; answer with tokens.

A saga over two systems. The app user id is derived from the idempotency key, so a retry after a crash finds the
Keycloak account it created before (same ``custom_user_id``) and carries on instead of failing as a duplicate.
If the profile cannot be stored, the Keycloak account is deleted again (compensation) before the error is
returned; a crash between the two steps leaves an account that the next login repairs (see ``login``).
"""
from runtime import Conflict, Response, entry_points, function, http

from functions.users import model
from functions.users.identity import create_or_adopt_user, discard_identity, identity_provider, login_fields


def attach_tokens(event, ctx, response: Response) -> Response:
    """Tokens are never stored in the idempotency ledger: a fresh or replayed registration logs in anew."""
    body = event.get_data()
    tokens = identity_provider(ctx.config).password_grant(body["username"], body["password"])
    return Response(response.status, {**response.body, **login_fields(tokens)}, response.headers)


@function("users-register", http("POST", "/register"), emits=["user.created"], body=model.Registration,
          secrets=["keycloak-client-secret"],
          redact=["password"], finish=attach_tokens, indexes=model.INDEXES)
def main(event, ctx):
    registration = ctx.input
    user_id = ctx.derived_id()  # every retry of one registration converges on one user
    idp = identity_provider(ctx.config)
    keycloak_id = create_or_adopt_user(idp, registration, user_id, ctx.log)
    doc = model.new_document(user_id, registration, keycloak_id, model.default_avatar(ctx.config))
    reply = Response(201, model.owner_view(doc))
    try:
        committed = ctx.commit(model.COLLECTION, {"_id": user_id}, {"$setOnInsert": doc}, upsert=True,
                               reply=reply, emit=[model.user_event("user.created", doc)])
    except Exception:
        discard_identity(idp, keycloak_id, ctx.log)  # compensation: no identity without a profile
        raise
    if committed is None:  # the username or e-mail belongs to another profile already
        discard_identity(idp, keycloak_id, ctx.log)
        raise Conflict("This username or e-mail is already registered.")
    return committed


handle, new = entry_points(main)
