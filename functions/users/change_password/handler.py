"""PUT users.<HOST>/{userId}/password: the owner changes their password; 204.

``{currentPassword, newPassword, confirmPassword}``: the new password must match its confirmation and the policy
(400, before anything is written). The current password is checked with a password grant; a wrong one is a 400
on ``currentPassword``, not a 401, which the SPA would take for an expired session. The change is recorded on the
profile (``passwordChangedAt``) with the invocation's receipt.

Safe to repeat: if the current password no longer works but the new one does, an earlier attempt with this
request already changed it (a crash before its reply was recorded), so the change is simply confirmed.
"""
from runtime import InvalidInput, NotFound, Response, entry_points, function, http

from functions.users import model
from functions.users.access import owner_only
from functions.users.identity import identity_provider, verify_password

FIELDS = ("currentPassword", "newPassword", "confirmPassword")


@function("users-change-password", http("PUT", "/{userId}/password"), auth="required",
          body=owner_only(model.PasswordChange), request=model.PasswordChange, secrets=["keycloak-client-secret"],
          redact=list(FIELDS),
          indexes=model.INDEXES)
def main(event, ctx):
    user_id = ctx.http.path_params["userId"]
    change: model.PasswordChange = ctx.input
    doc = ctx.db[model.COLLECTION].find_one({"_id": user_id})
    if doc is None or model.is_deleted(doc):
        raise NotFound(f"User with ID {user_id} not found")
    idp = identity_provider(ctx.config)
    username = doc["account"]["username"]
    if verify_password(idp, username, change.currentPassword):
        try:
            idp.reset_password(doc["keycloakId"], change.newPassword)
        except InvalidInput as refused:  # the realm's policy, if stricter than ours: name our field
            raise InvalidInput(refused.message, details=[{"field": "newPassword", "message": d["message"]}
                                                         for d in refused.details]) from None
    elif not verify_password(idp, username, change.newPassword):
        raise InvalidInput("Current password incorrect",
                           details=[{"field": "currentPassword", "message": "incorrect"}])
    reply = ctx.commit(model.COLLECTION, {"_id": user_id}, {"$set": {"passwordChangedAt": ctx.now}},
                       reply=Response(204))
    if reply is None:
        raise NotFound(f"User with ID {user_id} not found")
    return reply


handle, new = entry_points(main)
