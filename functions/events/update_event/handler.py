"""PUT events.<HOST>/{eventId}: the creator edits an event and moves it along its lifecycle.

As the SPA sends it (reference-core §2.4 E5) but without the reference's clearing bugs: an omitted field is
kept (the reference cleared omitted ``tags`` and ``date``), ``null``/``""``/``[]`` clear it (so collaborators can
be removed), ``status`` is optional. Transitions: DRAFT→PUBLISHED (publish: needs title, description, location
and a future date; emits ``event.published``), PUBLISHED→CANCELLED (emits ``event.cancelled``), same→same is an
edit; a COMPLETED event is not editable (409). A PUBLISHED event keeps its required fields, and a new date must
be in the future. Every change emits ``event.updated``. The update is optimistic on the event's version.
"""
from runtime import Forbidden, Response, entry_points, function, http, parse

from functions.events import access, directory, model
from functions.events.ranking import publication_score

UPDATED = {"message": "Event updated successfully"}


def read_update(event, ctx) -> access.Target:
    update = parse(model.EventUpdate, event.get_data())
    if update.creatorId is not None and update.creatorId != ctx.principal.user_id:
        raise Forbidden("Creator ID does not match authenticated user")
    event_id = ctx.http.path_params["eventId"]
    doc = access.owned_event(ctx, event_id)
    if ctx.prior_reply(doc) is None and doc["status"] != model.DELETED:
        plan(ctx, doc, update)  # bad input is refused before the claim; main re-plans on the committed state
    return access.Target(event_id, update)


def plan(ctx, doc, update: model.EventUpdate):
    """The checked update of ``doc``: the document after it, the MongoDB update and the events it emits."""
    target = update.status or doc["status"]
    model.check_transition(doc["status"], target)
    after, mongo = model.apply_update(doc, update)
    problems = []
    if "collaboratorIds" in update.model_fields_set:
        problems += directory.collaborator_problems(ctx, after.get("collaboratorIds", []))
    if target == "PUBLISHED":
        new_date = after.get("date") != doc.get("date")
        problems += model.publish_problems(after, ctx.now, future_date=doc["status"] == "DRAFT" or new_date)
    if problems:
        raise model.invalid(problems)
    emit = [model.updated_event(after)]
    if doc["status"] == "DRAFT" and target == "PUBLISHED":
        mongo.setdefault("$set", {})["publishedAt"] = ctx.now
        mongo.setdefault("$inc", {})["popularity"] = publication_score(ctx.now)
        emit.append(model.published_event(after, model.creator_name(ctx.db, after, ctx.principal)))
    elif doc["status"] == "PUBLISHED" and target == "CANCELLED":
        emit.append(model.id_event("event.cancelled", after))
    return mongo, emit


@function("events-update-event", http("PUT", "/{eventId}"), auth="required", body=read_update,
          request=model.EventUpdate,
          emits=["event.updated", "event.published", "event.cancelled"], indexes=model.INDEXES)
def main(event, ctx):
    update = ctx.input.input
    return access.change(ctx, ctx.input.event_id, lambda doc: (*plan(ctx, doc, update), Response(200, UPDATED)))


handle, new = entry_points(main)
