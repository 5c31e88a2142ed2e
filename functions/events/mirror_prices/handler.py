"""Keeps each event's ticket prices from ``ticket-type.created|updated|deleted`` (the ticketing group's events).

The prices live on the event itself (``ticketTypes``, with ``priceList``/``minPrice``/``isFree`` derived in the
same commit: ``ranking.py``), so the price filter and sort need no join. Each change is an optimistic update on
the event's ``_pricesRev``. Deliveries come at least once and in any order:

- a duplicate changes nothing (the ledger, then the event's receipts);
- ``updated``/``deleted`` name only the ticket type (the reference payloads); when no event holds it yet its
  ``created`` is late, so the delivery answers 404 and the broker retries it; an ``eventId`` in the data, or an
  event that is gone, ends that;
- a deleted ticket type is remembered on the event (``deletedTicketTypes``) so a late ``created`` does not
  bring it back; a ``sequence`` extension, when the producer sends one, orders updates of one ticket type.
"""
from runtime import ACCEPTED, BadRequest, Conflict, NotFound, entry_points, function, on_event, sequence_of

from functions.events import model
from functions.events.access import ATTEMPTS
from functions.events.ranking import price_summary


@function("events-mirror-prices", on_event("ticket-type.created", "ticket-type.updated", "ticket-type.deleted"),
          indexes=model.INDEXES)
def main(event, ctx):
    data, kind = event.get_data() or {}, event.get_type().rsplit(".", 1)[1]
    try:
        type_id = str(data["ticketTypeId"])
        price = float(data["price"]) if kind != "deleted" else None
    except (KeyError, TypeError, ValueError):
        raise BadRequest("ticket-type events need ticketTypeId (and price)", code="invalid_event") from None
    sequence = sequence_of(event, required=False)
    events = ctx.db[model.EVENTS]
    for _ in range(ATTEMPTS):
        doc = _event_of(events, data.get("eventId"), type_id)
        if doc is None:
            if kind == "created" or data.get("eventId"):
                return ACCEPTED  # the event is gone: nothing to price
            raise NotFound(f"No event holds ticket type {type_id} yet; its ticket-type.created may be late.")
        if doc["status"] == model.DELETED:
            return ACCEPTED
        types = [dict(t) for t in doc.get("ticketTypes", [])]
        deleted = list(doc.get("deletedTicketTypes", []))
        mine = next((t for t in types if t["id"] == type_id), None)
        if type_id in deleted or (mine and sequence is not None and mine.get("seq", -1) >= sequence):
            return ACCEPTED  # deleted already, or a stale update
        if kind == "deleted":
            types = [t for t in types if t["id"] != type_id]
            deleted.append(type_id)
        elif mine is None:
            types.append({"id": type_id, "price": price, **({"seq": sequence} if sequence is not None else {})})
        elif kind == "updated":
            mine.update(price=price, **({"seq": sequence} if sequence is not None else {}))
        else:
            return ACCEPTED  # a created for a ticket type an update already brought in
        update = {"$set": {"ticketTypes": types, "deletedTicketTypes": deleted, **price_summary(types)},
                  "$inc": {"_pricesRev": 1}}
        revision = {"_pricesRev": doc["_pricesRev"]} if "_pricesRev" in doc else {"_pricesRev": {"$exists": False}}
        if ctx.commit(model.EVENTS, {"_id": doc["_id"], **revision}, update, reply=ACCEPTED) is not None:
            return ACCEPTED
    raise Conflict("The event's prices kept changing; retrying.", code="concurrent_update")


def _event_of(events, event_id, type_id):
    if event_id:
        return events.find_one({"_id": event_id})
    return events.find_one({"$or": [{"ticketTypes.id": type_id}, {"deletedTicketTypes": type_id}]})


handle, new = entry_points(main)
