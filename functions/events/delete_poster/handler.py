"""DELETE events.<HOST>/{eventId}/poster: the creator removes the poster; the event shows the default one.

Unlike the reference (which only reset the URL), the object is deleted too. The SPA calls this when a draft is
saved without a poster, so removing a poster that was never uploaded is fine.
"""
from runtime import Response, entry_points, function, http

from functions.events import access, model, posters


def read_target(event, ctx) -> access.Target:
    event_id = ctx.http.path_params["eventId"]
    access.owned_event(ctx, event_id)
    return access.Target(event_id)


@function("events-delete-poster", http("DELETE", "/{eventId}/poster"), auth="required", body=read_target,
          secrets=posters.SECRETS, indexes=model.INDEXES)
def main(event, ctx):
    event_id = ctx.input.event_id

    def plan(doc):
        posters.refuse_if_completed(doc)
        update = {"$set": {"poster": posters.remove(ctx.config, event_id)}, "$inc": {"_version": 1}}
        return update, [], Response(200, {"message": "Poster deleted successfully"})

    return access.change(ctx, event_id, plan)


handle, new = entry_points(main)
