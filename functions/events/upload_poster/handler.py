"""POST events.<HOST>/{eventId}/poster: the creator replaces an event's poster (multipart ``poster``).

The image is checked before the claim and stored before the commit (``posters.py``); a COMPLETED event's poster
no longer changes (409).
"""
from runtime import UPLOAD_MAX_BODY_BYTES, BadRequest, Response, entry_points, function, http, parse_multipart

from functions.events import access, model, posters


def read_poster(event, ctx) -> access.Target:
    content_type = ctx.http.header("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise BadRequest("Send the poster as multipart/form-data with a 'poster' part.", code="invalid_multipart")
    poster = posters.read_poster(parse_multipart(content_type, ctx.http.body).get("poster"), required=True)
    event_id = ctx.http.path_params["eventId"]
    access.owned_event(ctx, event_id)
    return access.Target(event_id, poster)


@function("events-upload-poster", http("POST", "/{eventId}/poster"), auth="required", body=read_poster,
          secrets=posters.SECRETS, timeout_seconds=20, indexes=model.INDEXES,
          max_body_bytes=UPLOAD_MAX_BODY_BYTES)
def main(event, ctx):
    event_id, poster = ctx.input.event_id, ctx.input.input

    def plan(doc):
        posters.refuse_if_completed(doc)
        url = posters.store(ctx.config, event_id, poster, version=doc["_version"] + 1)
        return ({"$set": {"poster": url}, "$inc": {"_version": 1}}, [],
                Response(200, {"message": "Poster updated successfully", "poster": url}))

    return access.change(ctx, event_id, plan)


handle, new = entry_points(main)
