"""PUT users.<HOST>/{userId}: the owner replaces their account settings and profile; emits ``user.updated``.

Optimistic concurrency: the update applies only to the version it was computed from, and ``user.updated``
carries the new version as its ``sequence``, so mirrors apply a user's events in order whatever the broker does.
"""
from runtime import Conflict, NotFound, Response, entry_points, function, http

from functions.users import model
from functions.users.access import owner_only

ATTEMPTS = 5


@function("users-update-user", http("PUT", "/{userId}"), auth="required", emits=["user.updated"],
          body=owner_only(model.UserUpdate), request=model.UserUpdate, indexes=model.INDEXES)
def main(event, ctx):
    user_id = ctx.http.path_params["userId"]
    update = ctx.input
    users = ctx.db[model.COLLECTION]
    for _ in range(ATTEMPTS):
        doc = users.find_one({"_id": user_id})
        if doc is None or model.is_deleted(doc):
            raise NotFound(f"User with ID {user_id} not found")
        changed = {**doc, **model.apply_update(doc, update), "_version": doc["_version"] + 1}
        committed = ctx.commit(model.COLLECTION, {"_id": user_id, "_version": doc["_version"]},
                               {"$set": {"account": changed["account"], "profile": changed["profile"],
                                         "nameKey": changed["nameKey"], "_version": changed["_version"]}},
                               reply=Response(204), emit=[model.user_event("user.updated", changed)])
        if committed is not None:
            return committed
    raise Conflict("The profile changed concurrently too often; retry.")


handle, new = entry_points(main)
