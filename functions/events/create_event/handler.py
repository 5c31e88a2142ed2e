"""POST events.<HOST>/: an organization creates an event, as DRAFT or directly as PUBLISHED.

Who may create is decided from the token's role (``organization``), never from the users mirror, which may lag
behind the broker. Creating as PUBLISHED emits ``event.published`` too (the reference forgot it), and publishing
needs the fields and future date its validators asked for. The body is JSON, or multipart with an ``event`` part.
"""
import json

from runtime.contract import Response, function, http
from runtime.errors import BadRequest, Forbidden
from runtime.forms import parse_multipart
from runtime.validation import parse

from functions.events import model


def read_event(event, ctx) -> model.NewEvent:
    """The event, checked whole before anything is written: JSON, or the ``event`` part of a multipart form (how
    the SPA sends it); the caller must be its creator, and publishing needs the fields and a future date."""
    fields = parse(model.NewEvent, _event_json(event, ctx.http))
    if fields.creatorId is not None and fields.creatorId != ctx.principal.user_id:
        raise Forbidden("Creator ID does not match authenticated user")
    if fields.status == "PUBLISHED":
        problems = model.publish_problems(fields, ctx.now)
        if problems:
            raise model.invalid(problems)
    return fields


def _event_json(event, request):
    content_type = request.header("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return event.get_data()
    parts = parse_multipart(content_type, request.body)
    unknown = sorted(set(parts) - {"event"})
    if unknown:
        raise BadRequest(f"Unexpected form parts: {', '.join(unknown)}. Posters are uploaded with "
                         "POST /{eventId}/poster once the media storage is available.", code="invalid_multipart")
    if "event" not in parts:
        raise BadRequest("The form needs an 'event' part with the event as JSON.", code="invalid_multipart")
    try:
        return json.loads(parts["event"].data)
    except ValueError:
        raise BadRequest("The 'event' part is not valid JSON.", code="invalid_json") from None


@function("events-create-event", http("POST", "/"), roles=["organization"],
          emits=["event.created", "event.published"], body=read_event)
def main(event, ctx):
    fields, creator_id = ctx.input, ctx.principal.user_id
    model.ensure_indexes(ctx.db)
    doc = model.new_document(model.new_event_id(ctx.spec.name, ctx.key), creator_id, fields, ctx.now)
    emit = [model.created_event(doc)]
    if doc["status"] == "PUBLISHED":
        mirror = ctx.db[model.USERS].find_one({"_id": creator_id}) or {}
        emit.append(model.published_event(doc, mirror.get("name") or ctx.principal.username or creator_id))
    return ctx.commit(model.EVENTS, {"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True,
                      reply=Response(201, {"eventId": doc["_id"]}), emit=emit)


handle, new = main.handle, main.new
