"""The checkout saga over single-document atomic updates (no multi-document transactions; docs/store.md).

Steps, each one conditional and idempotent by order, so a retry, a duplicate webhook or the sweeper can replay any
of them safely::

    1. order PENDING inserted (upsert by the order id, derived from the request's idempotency key)
    2. for each ticket type, in id order: hold n units   {available >= n, no hold of this order}  $inc, $push
    3. Stripe Checkout Session created (Stripe idempotency key = the order id)
    4. order gets its session                            {status PENDING, sessionId null}  + receipt
    ── later, exactly one of ──
    5a. completed: order COMPLETED (+ payments.order.confirmed)   {status PENDING}
    5b. expired / cancelled / failed: order CANCELLED (+ payments.order.rejected)   {status PENDING}
    6. settle: holds confirmed (pulled) or released (pulled + units back), tickets issued; order settled

Step 5 is the single decision point: whichever of webhook, cancel link, sweeper or compensation commits first wins,
the others match nothing. Step 6 runs right after it and again from the sweeper until ``settled`` is true.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from runtime import Response

from functions.ticketing import model

SESSION_LIFETIME = timedelta(minutes=30)
PURCHASING = {"en": "Purchasing tickets for: {}", "it": "Acquisto biglietti per: {}",
              "es": "Compra de entradas para: {}", "fr": "Achat de billets pour : {}", "de": "Ticketkauf für: {}"}


# ---- step 2: holds --------------------------------------------------------------------------------------------

def hold(db, ticket_type_id: str, order_id: str, n: int) -> bool:
    """Hold ``n`` units for the order; True if held now or already held by an earlier attempt."""
    types = db[model.TICKET_TYPES]
    result = types.update_one(
        {"_id": ticket_type_id, "available": {"$gte": n}, "holds.order": {"$ne": order_id}},
        {"$inc": {"available": -n, "sold": n}, "$push": {"holds": {"order": order_id, "n": n}}})
    if result.modified_count == 1:
        return True
    return types.count_documents({"_id": ticket_type_id, "holds.order": order_id}, limit=1) == 1


def release(db, ticket_type_id: str, order_id: str, n: int) -> None:
    """Give the order's held units back (once: the hold's presence is the condition)."""
    db[model.TICKET_TYPES].update_one({"_id": ticket_type_id, "holds.order": order_id},
                                      {"$pull": {"holds": {"order": order_id}}, "$inc": {"available": n, "sold": -n}})


def confirm(db, ticket_type_id: str, order_id: str) -> None:
    """The held units are sold for good: drop the hold (a later release then finds nothing to give back)."""
    db[model.TICKET_TYPES].update_one({"_id": ticket_type_id, "holds.order": order_id},
                                      {"$pull": {"holds": {"order": order_id}}})


def reserve_all(db, order: dict[str, Any]) -> str | None:
    """Hold every item in ticket-type id order; on the first one that is short, release what was held and answer
    its ticket type id."""
    held = []
    for item in sorted(order["items"], key=lambda i: i["ticketTypeId"]):
        if not hold(db, item["ticketTypeId"], order["_id"], item["n"]):
            for done in held:
                release(db, done["ticketTypeId"], order["_id"], done["n"])
            return item["ticketTypeId"]
        held.append(item)
    return None


# ---- step 1: the order ----------------------------------------------------------------------------------------

def new_order(order_id: str, user_id: str, event_doc: dict[str, Any], types: dict[str, dict[str, Any]],
              request: model.CheckoutRequest, now: datetime, language: str = "en") -> dict[str, Any]:
    tickets, counts = [], {}
    for index, item in enumerate(request.items):
        ticket_type = types[item.ticketTypeId]
        tickets.append({"id": model.derived_id("ticket", order_id, str(index)), "ticketTypeId": ticket_type["_id"],
                        "type": ticket_type["type"], "attendeeName": item.attendeeName,
                        "price": ticket_type["price"], "currency": ticket_type.get("currency", model.CURRENCY)})
        counts[item.ticketTypeId] = counts.get(item.ticketTypeId, 0) + 1
    total = round(sum(t["price"] for t in tickets), 2)
    return {"_id": order_id, "userId": user_id, "eventId": event_doc["_id"], "eventTitle": event_doc.get("title"),
            "items": [{"ticketTypeId": k, "n": v} for k, v in sorted(counts.items())], "tickets": tickets,
            "total": total, "currency": model.CURRENCY, "status": "PENDING", "sessionId": None,
            "successUrl": request.successUrl, "cancelUrl": request.cancelUrl, "createdAt": now, "updatedAt": now,
            "expiresAt": now + SESSION_LIFETIME, "settled": False, "language": language, "free": total == 0}


def free_reply(order: dict[str, Any]) -> Response:
    return Response(201, {"sessionId": None, "redirectUrl": order["successUrl"],
                          "expiresAt": int(order["expiresAt"].timestamp()), "orderId": order["_id"]})


def pending_units(db, user_id: str, event_id: str) -> int:
    """The tickets ``user_id`` holds unpaid for ``event_id``, over all their PENDING orders."""
    found = list(db[model.ORDERS].aggregate([
        {"$match": {"userId": user_id, "eventId": event_id, "status": "PENDING"}},
        {"$unwind": "$items"}, {"$group": {"_id": None, "units": {"$sum": "$items.n"}}}]))
    return found[0]["units"] if found else 0


def checkout_reply(order: dict[str, Any]) -> Response:
    return Response(201, {"sessionId": order["sessionId"], "redirectUrl": order["sessionUrl"],
                          "expiresAt": int(order["expiresAt"].timestamp()), "orderId": order["_id"]})


# ---- step 3: the Stripe session -------------------------------------------------------------------------------

def session_params(order: dict[str, Any], config) -> dict[str, Any]:
    """Deterministic from the order, so a retry sends Stripe the same parameters under the same key."""
    line_items = []
    for item in order["items"]:
        ticket = next(t for t in order["tickets"] if t["ticketTypeId"] == item["ticketTypeId"])
        line_items.append({"quantity": item["n"], "price_data": {
            "currency": ticket["currency"].lower(), "unit_amount": model.minor_units(ticket["price"]),
            "product_data": {"name": ticket["type"]}}})
    base = config.get("TICKETING_URL", "") or f"http://ticketing.{config.public_host}"
    cancel_url = f"{base.rstrip('/')}/checkout-sessions/{order['_id']}/cancel?redirect_to={quote(order['cancelUrl'], safe='')}"
    return {"mode": "payment", "line_items": line_items, "metadata": {"orderId": order["_id"]},
            "client_reference_id": order["_id"], "success_url": order["successUrl"], "cancel_url": cancel_url,
            "expires_at": int(order["expiresAt"].timestamp()),
            "custom_text": {"submit": {"message": PURCHASING.get(order.get("language"), PURCHASING["en"]).format(
                order.get("eventTitle") or "EvenToNight")}}}


# ---- step 5: the decision -------------------------------------------------------------------------------------

def request_cancellation(db, order_id: str) -> None:
    """The buyer asked to cancel: whoever then decides the order (our cancel link, or the ``expired`` webhook that
    expiring the session makes Stripe send) records the buyer's reason, not the session's expiry."""
    db[model.ORDERS].update_one({"_id": order_id, "status": "PENDING"}, {"$set": {"cancelRequested": True}})


def cancel(ctx, order: dict[str, Any], reason: str, reply: Response) -> Response | None:
    """PENDING → CANCELLED with ``payments.order.rejected``, then release; ``None`` if the order had moved on.
    A buyer's own request (``request_cancellation``) outranks any other reason."""
    current = ctx.db[model.ORDERS].find_one({"_id": order["_id"]}, {"cancelRequested": 1}) or {}
    reason = "cancelled_by_user" if current.get("cancelRequested") else reason
    result = ctx.commit(model.ORDERS, {"_id": order["_id"], "status": "PENDING"},
                        {"$set": {"status": "CANCELLED", "reason": reason, "updatedAt": ctx.now}},
                        reply=reply, emit=[model.order_event("payments.order.rejected", order, reason=reason)])
    settle(ctx.db, order["_id"])
    return result


def complete(ctx, order: dict[str, Any], session: dict[str, Any], reply: Response) -> Response | None:
    """PENDING → COMPLETED with ``payments.order.confirmed``, then confirm the holds and issue the tickets."""
    result = ctx.commit(model.ORDERS, {"_id": order["_id"], "status": "PENDING"},
                        {"$set": {"status": "COMPLETED", "paymentIntentId": session.get("payment_intent"),
                                  "sessionId": session["id"], "paidAt": ctx.now, "updatedAt": ctx.now}},
                        reply=reply, emit=[model.order_event("payments.order.confirmed", order)])
    settle(ctx.db, order["_id"])
    return result


# ---- step 6: settle -------------------------------------------------------------------------------------------

def settle(db, order_id: str) -> None:
    """Make stock and tickets agree with the order's decided status; idempotent, repeated by the sweeper."""
    order = db[model.ORDERS].find_one({"_id": order_id})
    if order is None or order.get("settled") or order["status"] == "PENDING":
        return
    if order["status"] == "CANCELLED":
        for item in order["items"]:
            release(db, item["ticketTypeId"], order_id, item["n"])
    else:  # COMPLETED (or REFUNDED later on): the units stay sold
        for item in order["items"]:
            confirm(db, item["ticketTypeId"], order_id)
        issue_tickets(db, order)
    db[model.ORDERS].update_one({"_id": order_id, "settled": False}, {"$set": {"settled": True}})


def issue_tickets(db, order: dict[str, Any]) -> None:
    from pymongo.errors import DuplicateKeyError

    tickets = db[model.TICKETS]
    purchased = order.get("paidAt") or order["createdAt"]
    for t in order["tickets"]:
        doc = {"_id": t["id"], "orderId": order["_id"], "eventId": order["eventId"], "userId": order["userId"],
               "attendeeName": t["attendeeName"], "ticketTypeId": t["ticketTypeId"], "type": t["type"],
               "price": {"amount": t["price"], "currency": t["currency"]}, "purchaseDate": purchased,
               "status": "ACTIVE"}
        try:
            tickets.update_one({"_id": t["id"]}, {"$setOnInsert": doc}, upsert=True)
        except DuplicateKeyError:
            pass
