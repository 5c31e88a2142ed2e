"""DELETE users.<HOST>/{userId}: the owner deletes their account: profile, identity and avatar; ``user.deleted``.

Steps, each safe to repeat under the same idempotency key:

1. the profile becomes a tombstone in one commit that also queues ``user.deleted`` (its ``sequence`` is newer
   than every earlier event of the user, so mirrors that keep tombstones drop the user for good, whatever the
   order of delivery); the username and e-mail are free at once;
2. the identity is deleted (and with it every session), then the avatar object.

A failure in step 2 fails the call; its retry finds its own commit (the receipt) and finishes step 2. If nobody
retries, the next login with the surviving identity finishes it (``identity.load_or_repair``).
"""
from runtime import Conflict, NotFound, Response, entry_points, function, http, storage_from_config

from functions.users import model
from functions.users.access import owner_only
from functions.users.identity import identity_provider

ATTEMPTS = 5


@function("users-delete-user", http("DELETE", "/{userId}"), auth="required", emits=["user.deleted"],
          body=owner_only(), secrets=["keycloak-client-secret", "s3-access-key", "s3-secret-key"],
          indexes=model.INDEXES)
def main(event, ctx):
    user_id = ctx.http.path_params["userId"]
    users = ctx.db[model.COLLECTION]
    for _ in range(ATTEMPTS):
        doc = users.find_one({"_id": user_id})
        ours = ctx.prior_reply(doc) is not None
        if doc is None or (model.is_deleted(doc) and not ours):
            raise NotFound(f"User with ID {user_id} not found")
        reply = ctx.commit(model.COLLECTION, {"_id": user_id, "_version": doc["_version"]},
                           model.tombstone_update(doc, ctx.now), reply=Response(204),
                           emit=[model.deleted_event(doc)])
        if reply is not None:
            break
    else:
        raise Conflict("The account changed concurrently too often; retry.")
    identity_provider(ctx.config).delete_user(doc["keycloakId"])
    if doc.get("avatarKey"):
        storage_from_config(ctx.config).delete(doc["avatarKey"])
    return reply


handle, new = entry_points(main)
