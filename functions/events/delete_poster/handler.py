"""DELETE events.<HOST>/{eventId}/poster: the creator removes the poster; the event shows the default one.

Unlike the reference (which only reset the URL), the object is deleted too. The SPA calls this when a draft is
saved without a poster, so removing a poster that was never uploaded is fine.
"""
from runtime.contract import Response, function, http
from runtime.errors import Conflict

from functions.events import access, model, posters


def read_target(event, ctx) -> access.Target:
    event_id = ctx.http.path_params["eventId"]
    access.owned_event(ctx, event_id)
    return access.Target(event_id)


@function("events-delete-poster", http("DELETE", "/{eventId}/poster"), auth="required", body=read_target,
          secrets=posters.SECRETS)
def main(event, ctx):
    event_id = ctx.input.event_id
    doc, replay = access.current(ctx, event_id)
    if replay is not None:
        return replay
    if doc is None or doc["status"] == model.DELETED:
        raise access.not_found(event_id)
    if doc["status"] == "COMPLETED":
        raise Conflict("Cannot update poster of a completed event.", code="event_completed")
    url = posters.remove(ctx.config, event_id)
    done = ctx.commit(model.EVENTS, {"_id": event_id, "status": {"$in": ["DRAFT", "PUBLISHED", "CANCELLED"]}},
                      {"$set": {"poster": url}, "$inc": {"_version": 1}},
                      reply=Response(200, {"message": "Poster deleted successfully"}))
    if done is None:
        raise Conflict("The event was completed or deleted meanwhile.", code="event_changed")
    return done


handle, new = main.handle, main.new
