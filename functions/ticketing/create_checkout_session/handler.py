"""POST ticketing.<HOST>/checkout-sessions: reserve the tickets, then open a Stripe Checkout Session for them.

The two-phase saga of ``functions.ticketing.saga``. Phase 1 inserts the PENDING order (its id derived from the
caller and the idempotency key, so a retry finds it) and holds the units with one conditional update per ticket
type: no oversell at any concurrency. Phase 2 creates the Stripe session with the order id as Stripe's idempotency
key and records it on the order with this invocation's receipt. An order of free tickets skips Stripe: it is
confirmed at once and the reply sends the buyer straight to the success URL (``sessionId`` null). If Stripe fails, the order is cancelled and the
units released before the error is answered (compensation); if the process dies between the phases, the sweeper
cancels the order after a grace period. Only PUBLISHED events that have not started sell tickets. A visibly
sold-out sale is refused before the idempotency claim (docs/ticketing.md, "Hot sale").
"""
from dataclasses import dataclass

from pymongo.errors import DuplicateKeyError

from runtime import (
    BadRequest,
    Conflict,
    Forbidden,
    FunctionError,
    InvalidInput,
    NotFound,
    Response,
    TooManyRequests,
    entry_points,
    function,
    http,
    parse,
    stored_date,
)

from functions.ticketing import mirror, model, payments, saga


@dataclass(frozen=True)
class Checkout:
    request: model.CheckoutRequest
    types: dict[str, dict]  # the requested ticket types as read before the claim


def read_checkout(event, ctx) -> Checkout:
    """Everything that refuses without writing, before the idempotency claim: the body, the caller, unknown types,
    and a sale visibly sold out (2/3 of a hot sale's checkouts: two reads, no ledger record; the conditional hold
    still decides for the others). A retry of a checkout whose order exists is never refused here."""
    request = parse(model.CheckoutRequest, event.get_data())
    problems = model.return_url_problems(request, ctx.config)
    if problems:
        raise InvalidInput("The request has invalid fields.", details=problems)
    if request.userId != ctx.principal.user_id:
        raise Forbidden("userId must be the authenticated user.")
    types = ticket_types(ctx, request)
    short = short_type(types, request)
    if short is not None and not order_exists(ctx):
        raise Conflict(f'Ticket type "{short["type"]}" is sold out', code="sold_out")
    return Checkout(request, types)


@function("ticketing-create-checkout-session", http("POST", "/checkout-sessions"), auth="required",
          emits=["payments.order.rejected", "payments.order.confirmed"], secrets=["stripe-secret-key"],
          timeout_seconds=20, body=read_checkout, request=model.CheckoutRequest, indexes=model.INDEXES)
def main(event, ctx):
    request, user_id = ctx.input.request, ctx.principal.user_id
    orders = ctx.db[model.ORDERS]
    order_id = ctx.derived_id("order")  # the caller's retries converge on one order
    order = place_order(ctx, request, ctx.input.types, order_id) or orders.find_one({"_id": order_id})
    if order["status"] == "CANCELLED":
        raise refusal(ctx, order)
    if order.get("sessionId"):
        return saga.checkout_reply(order)
    if order.get("free") and order["status"] == "COMPLETED":
        return saga.free_reply(order)
    if order["status"] != "PENDING":
        raise Conflict("This checkout is already settled.", code="checkout_settled")
    if saga.pending_units(ctx.db, user_id, order["eventId"]) > model.MAX_PENDING_UNITS:
        # Counted after this order is in and before it holds anything: two checkouts racing each other both see
        # both and give up, so the cap is never exceeded. Nothing was held or announced: no event.
        orders.update_one({"_id": order_id, "status": "PENDING"},
                          {"$set": {"status": "CANCELLED", "reason": "pending_limit", "settled": True,
                                    "updatedAt": ctx.now}})
        raise refusal(ctx, {**order, "reason": "pending_limit"})

    short = saga.reserve_all(ctx.db, order)
    if short is not None:  # nothing is held any more: the order was never visible to anyone, so no event
        orders.update_one({"_id": order_id, "status": "PENDING"},
                          {"$set": {"status": "CANCELLED", "reason": "sold_out", "soldOut": short, "settled": True,
                                    "updatedAt": ctx.now}})
        raise refusal(ctx, {**order, "reason": "sold_out", "soldOut": short})

    if order["free"]:  # nothing to pay (Stripe would refuse a zero total): confirmed at once, no session
        return saga.complete(ctx, order, {"id": None, "payment_intent": None}, saga.free_reply(order)) or \
            saga.free_reply(order)
    try:
        session = payments.create_session(ctx.config, saga.session_params(order, ctx.config), order_id)
    except payments.PaymentProviderError as failure:
        ctx.log.warning("checkout compensated: the payment provider failed", fields={"order": order_id})
        saga.cancel(ctx, order, "payment_provider_error", reply=_error_reply(failure))
        raise
    order.update(sessionId=session["id"], sessionUrl=session["url"])
    result = ctx.commit(model.ORDERS, {"_id": order_id, "status": "PENDING", "sessionId": None},
                        {"$set": {"sessionId": session["id"], "sessionUrl": session["url"], "updatedAt": ctx.now}},
                        reply=saga.checkout_reply(order))
    if result is None:  # the order was given up meanwhile (sweeper): its session must not take a payment
        payments.expire_session(ctx.config, session["id"])
        raise Conflict("This checkout took too long and was released; start a new one.", code="checkout_expired")
    return result


def place_order(ctx, request: model.CheckoutRequest, types: dict[str, dict], order_id: str) -> dict | None:
    """Insert this key's PENDING order; ``None`` when it exists already (a retry: it goes on with that order,
    whatever the event or the stock say now). Inserting first and reading only on a duplicate spares the common
    case a lookup."""
    try:
        event_doc = on_sale_event(ctx, types)
    except FunctionError:
        if order_exists(ctx):
            return None
        raise
    order = saga.new_order(order_id, ctx.principal.user_id, event_doc, types, request, ctx.now,
                           model.language_of(ctx.db, ctx.principal.user_id))
    try:
        ctx.db[model.ORDERS].insert_one(order)
    except DuplicateKeyError:  # a concurrent or earlier attempt with this key got there first
        return None
    return order


def order_exists(ctx) -> bool:
    return ctx.db[model.ORDERS].find_one({"_id": ctx.derived_id("order")}, {"_id": 1}) is not None


def short_type(types: dict[str, dict], request: model.CheckoutRequest) -> dict | None:
    """The first requested type (in id order) that visibly lacks the units asked for."""
    wanted = {t: sum(i.ticketTypeId == t for i in request.items) for t in types}
    return next((types[t] for t in sorted(types) if types[t]["available"] < wanted[t]), None)


def on_sale_event(ctx, types: dict[str, dict]) -> dict:
    event_ids = sorted({t["eventId"] for t in types.values()})
    if len(event_ids) > 1:
        raise BadRequest("One checkout buys tickets of one event.", code="several_events")
    event_doc = mirror.find_event(ctx, event_ids[0])
    if not model.visible(event_doc, ctx.principal.user_id):
        raise NotFound(f"Event with id {event_ids[0]} not found")
    if event_doc.get("status") != model.ON_SALE:
        raise BadRequest(f"Cannot reserve tickets for event {event_ids[0]} because it is not published",
                         code="event_not_on_sale")
    if event_doc.get("date") and event_doc["date"] <= stored_date(ctx.now):
        raise BadRequest(f"Cannot reserve tickets for event {event_ids[0]} because it has started",
                         code="event_started")
    return event_doc


def ticket_types(ctx, request: model.CheckoutRequest) -> dict[str, dict]:
    ids = sorted({item.ticketTypeId for item in request.items})
    found = {d["_id"]: d for d in ctx.db[model.TICKET_TYPES].find({"_id": {"$in": ids}, "deleted": {"$ne": True}})}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"Ticket type {missing[0]} not found")
    return found


def refusal(ctx, order: dict) -> Conflict | TooManyRequests:
    if order.get("reason") == "pending_limit":
        return TooManyRequests(f"You already hold {model.MAX_PENDING_UNITS} unpaid tickets for this event; pay or "
                               "cancel those first.", code="pending_limit",
                               retry_after_seconds=int(saga.SESSION_LIFETIME.total_seconds()))
    if order.get("reason") == "sold_out":
        doc = ctx.db[model.TICKET_TYPES].find_one({"_id": order.get("soldOut")}, {"deletedType": 1, "type": 1}) or {}
        name = doc.get("deletedType") or doc.get("type") or "requested"
        return Conflict(f'Ticket type "{name}" is sold out', code="sold_out")
    return Conflict("This checkout was cancelled and released its tickets; start a new one.",
                    code="checkout_cancelled")


def _error_reply(error):
    return Response(error.status, error.body())


handle, new = entry_points(main)
