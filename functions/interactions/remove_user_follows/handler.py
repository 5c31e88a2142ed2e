"""DELETE interactions.<HOST>/users/{userId}: a user drops every follow from and to them.

Only for oneself (403); the user must exist (404). Each follow goes in its own commit (keyed on the request's key
and the follow) with ``interactions.follow.deleted``, so the notifications group's follow mirror follows (the
reference removed them silently). A follow that changed meanwhile answers 409: a retry with the same key finishes
what is left. The user's copy is kept (only ``user.deleted`` removes it), as the reference.
"""
from runtime import Conflict, Forbidden, entry_points, function, http

from functions.interactions import cascade, mirror, model


def read_target(event, ctx) -> str:
    if ctx.http.path_params["userId"] != ctx.principal.user_id:
        raise Forbidden("You are not allowed to remove another user's follows")
    return mirror.require_user(ctx, ctx.principal.user_id)["_id"]


@function("interactions-remove-user-follows", http("DELETE", "/users/{userId}"), auth="required", body=read_target,
          emits=["interactions.follow.deleted"], indexes=model.INDEXES)
def main(event, ctx):
    if cascade.remove_follows(ctx, ctx.input):
        raise Conflict("Some follows changed meanwhile; retry with the same Idempotency-Key.",
                       code="concurrent_update")
    return model.message(200, "All follow relationships removed successfully")


handle, new = entry_points(main)
