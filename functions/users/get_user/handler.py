"""GET users.<HOST>/{userId}: the full profile to its owner, the public view to everyone else."""
from runtime import NotFound, Response, entry_points, function, http

from functions.users import model


@function("users-get-user", http("GET", "/{userId}"), auth="optional", indexes=model.INDEXES)
def main(event, ctx):
    user_id = ctx.http.path_params["userId"]
    doc = ctx.db[model.COLLECTION].find_one({"_id": user_id})
    if doc is None or model.is_deleted(doc):
        raise NotFound(f"User with ID {user_id} not found")
    owner = ctx.principal is not None and ctx.principal.user_id == user_id
    return Response(200, model.owner_view(doc) if owner else model.public_view(doc))


handle, new = entry_points(main)
