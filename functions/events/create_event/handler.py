"""POST events.<HOST>/: an organization creates an event, as DRAFT or directly as PUBLISHED.

Who may create is decided from the token's role (``organization``), never from the users mirror, which may lag
behind the broker. Creating as PUBLISHED emits ``event.published`` too (the reference forgot it), and publishing
needs the fields and future date its validators asked for. The body is JSON, or multipart with an ``event`` part
and an optional ``poster`` image (how the SPA sends it); the poster is stored before the event is committed
(``posters.py``), so a retry converges on one event with one poster.
"""
import json
from dataclasses import dataclass

from runtime import (
    UPLOAD_MAX_BODY_BYTES,
    BadRequest,
    Forbidden,
    Response,
    entry_points,
    function,
    http,
    parse,
    parse_multipart,
)

from functions.events import directory, model, posters


@dataclass(frozen=True)
class Creation:
    fields: model.NewEvent
    poster: posters.Poster | None


def read_event(event, ctx) -> Creation:
    """The event, checked whole before anything is written: the caller must be its creator, collaborators must be
    organizations, publishing needs the fields and a future date, and a poster must be an image."""
    data, poster = _event_parts(event, ctx.http)
    fields = parse(model.NewEvent, data)
    if fields.creatorId is not None and fields.creatorId != ctx.principal.user_id:
        raise Forbidden("Creator ID does not match authenticated user")
    collaborators = [c for c in fields.collaboratorIds or [] if c != ctx.principal.user_id]
    problems = directory.collaborator_problems(ctx, collaborators)
    if fields.status == "PUBLISHED":
        problems += model.publish_problems(fields, ctx.now)
    if problems:
        raise model.invalid(problems)
    return Creation(fields, poster)


def _event_parts(event, request):
    content_type = request.header("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return event.get_data(), None
    parts = parse_multipart(content_type, request.body)
    unknown = sorted(set(parts) - {"event", "poster"})
    if unknown:
        raise BadRequest(f"Unexpected form parts: {', '.join(unknown)}; expected 'event' and optionally 'poster'.",
                         code="invalid_multipart")
    if "event" not in parts:
        raise BadRequest("The form needs an 'event' part with the event as JSON.", code="invalid_multipart")
    try:
        data = json.loads(parts["event"].data)
    except ValueError:
        raise BadRequest("The 'event' part is not valid JSON.", code="invalid_json") from None
    return data, posters.read_poster(parts.get("poster"), required=False)


@function("events-create-event", http("POST", "/"), roles=["organization"], secrets=posters.SECRETS,
          emits=["event.created", "event.published"], body=read_event, request=model.NewEvent, indexes=model.INDEXES,
          max_body_bytes=UPLOAD_MAX_BODY_BYTES)
def main(event, ctx):
    creation, creator_id = ctx.input, ctx.principal.user_id
    event_id = ctx.derived_id()  # every retry of one creation converges on one event
    poster = (posters.store(ctx.config, event_id, creation.poster, version=1) if creation.poster
              else posters.default_url(ctx.config))
    doc = model.new_document(event_id, creator_id, creation.fields, ctx.now, poster)
    emit = [model.created_event(doc)]
    if doc["status"] == "PUBLISHED":
        emit.append(model.published_event(doc, model.creator_name(ctx.db, doc, ctx.principal)))
    return ctx.commit(model.EVENTS, {"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True,
                      reply=Response(201, {"eventId": doc["_id"]}), emit=emit)


handle, new = entry_points(main)
