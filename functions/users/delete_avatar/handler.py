"""DELETE users.<HOST>/{userId}/avatar: the owner goes back to the default avatar; ``user.updated``; 204.

Removing an avatar that was never uploaded is not an error (the reference answered 400): the desired state holds.
The stored object is deleted after the commit; if that fails, the profile already shows the default and the
object is left unreferenced (the next upload of that type overwrites it).
"""
from runtime import Conflict, NotFound, Response, entry_points, function, http, storage_from_config

from functions.users import model
from functions.users.access import owner_only

ATTEMPTS = 5


@function("users-delete-avatar", http("DELETE", "/{userId}/avatar"), auth="required", emits=["user.updated"],
          body=owner_only(), secrets=["s3-access-key", "s3-secret-key"], indexes=model.INDEXES)
def main(event, ctx):
    user_id = ctx.http.path_params["userId"]
    users = ctx.db[model.COLLECTION]
    default = model.default_avatar(ctx.config)
    for _ in range(ATTEMPTS):
        doc = users.find_one({"_id": user_id})
        if doc is None or model.is_deleted(doc):
            raise NotFound(f"User with ID {user_id} not found")
        ours = ctx.prior_reply(doc) is not None
        if doc["profile"]["avatar"] == default and not doc.get("avatarKey") and not ours:
            return Response(204)  # nothing to remove: no event, since nothing changed
        changed = {**doc, "profile": {**doc["profile"], "avatar": default}, "_version": doc["_version"] + 1}
        reply = ctx.commit(model.COLLECTION, {"_id": user_id, "_version": doc["_version"]},
                           model.with_avatar(doc, default, None), reply=Response(204),
                           emit=[model.user_event("user.updated", changed)])
        if reply is not None:
            break
    else:
        raise Conflict("The profile changed concurrently too often; retry.")
    if doc.get("avatarKey"):
        storage_from_config(ctx.config).delete(doc["avatarKey"])
    return reply


handle, new = entry_points(main)
