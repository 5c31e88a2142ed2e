"""DELETE ticketing.<HOST>/events/{eventId}/ticket-types: the creator removes all of an event's ticket types.

As deleting one type: refused (409 ``has_sales``) when any of them has sold or reserved units, since their buyers
hold tickets and cancelling the event is what refunds them. Each type becomes a tombstone with its own
``ticket-type.deleted``, one commit per type keyed on this request and the type; the request's key replays the
first answer. A checkout that reserves a type between the check and its commit keeps that type (409; the types
already deleted stay deleted).
"""
from runtime import Conflict, Response, entry_points, function, http

from functions.ticketing import mirror, model

HAS_SALES = "Tickets of this event are sold or reserved; cancel the event to refund them."


@function("ticketing-delete-event-ticket-types", http("DELETE", "/events/{eventId}/ticket-types"),
          auth="required", emits=["ticket-type.deleted"], indexes=model.INDEXES)
def main(event, ctx):
    event_id = ctx.http.path_params["eventId"]
    model.require_creator(mirror.find_event(ctx, event_id), ctx.principal.user_id)
    types = ctx.db[model.TICKET_TYPES]
    docs = list(types.find({"eventId": event_id, "deleted": {"$ne": True}}).sort([("_id", 1)]))
    if any(doc["sold"] for doc in docs):
        raise Conflict(HAS_SALES, code="has_sales")
    for doc in docs:
        update, deleted = model.ticket_type_deletion(doc, ctx.now)
        done = ctx.scoped(doc["_id"]).commit(
            model.TICKET_TYPES, {"_id": doc["_id"], "sold": 0, "deleted": {"$ne": True}}, update,
            reply=Response(204), emit=[deleted])
        if done is None and types.count_documents({"_id": doc["_id"], "deleted": True}, limit=1) == 0:
            raise Conflict(HAS_SALES, code="has_sales")  # a checkout reserved it meanwhile
    return Response(204)


handle, new = entry_points(main)
