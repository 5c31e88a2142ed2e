"""The ticketing group's domain: ticket types with their stock, orders, tickets, the mirror of events, and views.

Collections (database ``eventonight_ticketing``):

- ``ticket_types``: ``{_id: "ett_<uuid>", eventId, type, description?, price, currency, available, sold,
  holds: [{order, n}], _version}``. ``available + sold`` is the total; ``sold`` counts reserved-but-unpaid units
  too. ``holds`` lists the orders whose reservation is not settled yet: reserving pushes a hold under the condition
  ``available >= n`` and ``no hold of this order``, releasing pulls it (and gives the units back) under the
  condition ``the hold is there``, confirming pulls it (the units stay sold). So every step is one atomic
  conditional update, idempotent by order, and stock can never go negative or be released twice.
- ``orders``: the order aggregate: ``{_id: "order_<uuid>", userId, eventId, items: [{ticketTypeId, n}],
  tickets: [...], status, sessionId?, expiresAt?, paymentIntentId?, settled, ...}``. Its status only moves forward:
  PENDING → COMPLETED | CANCELLED, COMPLETED → REFUNDED.
- ``tickets``: issued (paid) tickets, one document each: ``{_id: "ticket_<uuid>", orderId, eventId, userId,
  attendeeName, ticketTypeId, type, price: {amount, currency}, purchaseDate, status}``; ACTIVE → USED | CANCELLED.
- ``events``: the mirror of the events group (creator, collaborators, status, date, title), kept from ``event.*``.
- ``users``: the mirror of users' languages, kept from ``user.*`` (PDF labels, Stripe's checkout message).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pydantic import Field, field_validator

from runtime import Emit, Forbidden, InvalidInput, NotFound, Strict, index, iso, stamp

TICKET_TYPES, ORDERS, TICKETS, EVENTS, USERS = "ticket_types", "orders", "tickets", "events", "users"
LANGUAGES = ("en", "it", "es", "fr", "de")
TYPES = ("STANDARD", "VIP")
CURRENCY = "USD"
MAX_PRICE = 1000
MAX_QUANTITY = 100_000
MAX_ITEMS = 20  # tickets per checkout
MAX_PENDING_UNITS = 20  # unpaid tickets one user may hold for one event at a time, over all their checkouts
ON_SALE = "PUBLISHED"


INDEXES = (
    index(TICKET_TYPES, "eventId", "type", name="event_type", unique=True),
    index(ORDERS, "status", "createdAt", name="status_created"),
    index(ORDERS, "status", "expiresAt", "_id", name="status_expires"),
    index(ORDERS, "sessionId", name="session", sparse=True),
    index(ORDERS, "eventId", "status", name="event_status"),
    index(ORDERS, "userId", "eventId", "status", name="user_event_status"),
    index(TICKETS, "userId", ("purchaseDate", -1), name="user_purchase"),
    index(TICKETS, "orderId", name="order"),
    index(TICKETS, "eventId", "status", name="event_status"),
)


def derived_id(prefix: str, *parts: str) -> str:
    """A deterministic id from other ids (a ticket from its order and position): retries converge on one document."""
    return f"{prefix}_{uuid.uuid5(uuid.NAMESPACE_URL, 'eventonight/ticketing/' + '/'.join(parts))}"


def minor_units(amount: float) -> int:
    """USD major units to Stripe's cents, round half up on the decimal the amount was written as (1.005 → 101,
    where binary ``1.005 * 100`` is 100.4999...)."""
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# ---- requests -------------------------------------------------------------------------------------------------

def _price(v: float) -> float:
    if v is None or v < 0 or v > MAX_PRICE or v != v:
        raise ValueError(f"a price from 0 to {MAX_PRICE} (USD)")
    if round(v, 2) != v:
        raise ValueError("at most two decimals")
    return float(v)


class NewTicketType(Strict):
    type: Literal["STANDARD", "VIP"]
    description: str | None = Field(default=None, min_length=1, max_length=500)
    price: float
    quantity: int = Field(ge=1, le=MAX_QUANTITY)

    @field_validator("price")
    @classmethod
    def _check_price(cls, v):
        return _price(v)

    @field_validator("type", mode="before")
    @classmethod
    def _upper(cls, v):
        return v.upper() if isinstance(v, str) else v


class TicketTypeChange(Strict):
    description: str | None = Field(default=None, min_length=1, max_length=500)
    price: float
    quantity: int = Field(ge=1, le=MAX_QUANTITY)

    @field_validator("price")
    @classmethod
    def _check_price(cls, v):
        return _price(v)


class CheckoutItem(Strict):
    ticketTypeId: str = Field(min_length=1, max_length=100)
    attendeeName: str = Field(min_length=1, max_length=200)


class CheckoutRequest(Strict):
    userId: str = Field(min_length=1, max_length=100)
    items: list[CheckoutItem] = Field(min_length=1, max_length=MAX_ITEMS)
    successUrl: str = Field(max_length=2048)
    cancelUrl: str = Field(max_length=2048)

    @field_validator("successUrl", "cancelUrl")
    @classmethod
    def _url(cls, v):
        from urllib.parse import urlsplit

        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("an http(s) URL with its protocol")
        return v


def spa_origins(config) -> set[str]:
    """Where a checkout may send the buyer back: ``SPA_ORIGINS`` (comma-separated), else the SPA at the public host
    and Vite's development server."""
    configured = {o.strip().rstrip("/") for o in config.get("SPA_ORIGINS", "").split(",") if o.strip()}
    host = config.public_host
    return configured or {f"http://{host}", f"https://{host}", "http://localhost:5173", "http://127.0.0.1:5173"}


def return_url_problems(request: CheckoutRequest, config) -> list[dict[str, str]]:
    """The success and cancel URLs must be the SPA's own pages: our cancel link redirects there, and a redirect to
    anywhere else would make it an open redirect on our domain."""
    from urllib.parse import urlsplit

    allowed = spa_origins(config)
    return [{"field": name, "message": f"must be a page of the SPA ({', '.join(sorted(allowed))})"}
            for name in ("successUrl", "cancelUrl")
            if "{0.scheme}://{0.netloc}".format(urlsplit(getattr(request, name))) not in allowed]


# ---- ticket types ---------------------------------------------------------------------------------------------

def ticket_type_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "eventId": doc["eventId"], "type": doc["type"], "description": doc.get("description"),
            "price": doc["price"], "currency": doc.get("currency", CURRENCY),
            "availableQuantity": doc["available"], "soldQuantity": doc["sold"],
            "totalQuantity": doc["available"] + doc["sold"], "isSoldOut": doc["available"] <= 0}


def ticket_type_event(kind: str, doc: dict[str, Any], price: float | None = None) -> Emit:
    data: dict[str, Any] = {"ticketTypeId": doc["_id"], "eventId": doc["eventId"]}
    if kind != "ticket-type.deleted":
        data.update(price=doc["price"] if price is None else price, type=doc["type"],
                    totalQuantity=doc["available"] + doc["sold"])
    return Emit(kind, data, subject=doc["_id"], extensions=stamp(doc.get("_version", 1)))


def ticket_type_deletion(doc: dict[str, Any], now: datetime) -> tuple[dict[str, Any], Emit]:
    """The update that turns a ticket type into a tombstone (its type name freed for a new one) and its
    ``ticket-type.deleted``; the tombstone keeps its counts and carries the event's outbox."""
    version = doc.get("_version", 1) + 1
    update = {"$set": {"deleted": True, "type": f"{doc['type']}#deleted#{doc['_id']}", "deletedType": doc["type"],
                       "_version": version, "updatedAt": now}}
    return update, ticket_type_event("ticket-type.deleted", {**doc, "_version": version})


# ---- events (the mirror) --------------------------------------------------------------------------------------

def is_organizer(event_doc: dict[str, Any], user_id: str | None) -> bool:
    return user_id is not None and (user_id == event_doc.get("creatorId")
                                    or user_id in (event_doc.get("collaboratorIds") or []))


def visible(event_doc: dict[str, Any] | None, user_id: str | None) -> bool:
    """Drafts (and deleted events) exist only for their organizers, as in the events group: 404 to others."""
    if event_doc is None or event_doc.get("deleted"):
        return False
    return event_doc.get("status") != "DRAFT" or is_organizer(event_doc, user_id)


def same_user(ctx, user_id: str) -> str:
    if ctx.principal.user_id != user_id:
        raise Forbidden("You can only access your own tickets and orders.")
    return user_id


def require_creator(event_doc: dict[str, Any] | None, user_id: str) -> dict[str, Any]:
    if not visible(event_doc, user_id):
        raise NotFound("Event not found")
    if event_doc.get("creatorId") != user_id:
        raise Forbidden("Only the event's creator manages its ticket types.")
    return event_doc


def event_view(doc: dict[str, Any]) -> dict[str, Any]:
    """The mirror's view of an event, as the reference's ``GET /events/{eventId}``: ``{id, creatorId, status,
    date?, title?}`` (the date in the events group's format, UTC wall time without a zone)."""
    out = {"id": doc["_id"], "creatorId": doc.get("creatorId"), "status": doc.get("status")}
    for name in ("date", "title"):
        if doc.get(name):
            out[name] = doc[name]
    return out


# ---- orders and tickets ---------------------------------------------------------------------------------------

def order_view(doc: dict[str, Any]) -> dict[str, Any]:
    out = {"id": doc["_id"], "userId": doc["userId"], "eventId": doc["eventId"],
           "ticketIds": [t["id"] for t in doc["tickets"]], "status": doc["status"],
           "createdAt": iso(doc["createdAt"]), "total": doc.get("total"), "currency": doc.get("currency", CURRENCY)}
    for name in ("paymentIntentId", "sessionId"):
        if doc.get(name):
            out[name] = doc[name]
    return out


def ticket_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "orderId": doc["orderId"], "eventId": doc["eventId"], "userId": doc["userId"],
            "attendeeName": doc["attendeeName"], "ticketTypeId": doc["ticketTypeId"], "type": doc.get("type"),
            "price": doc["price"]["amount"], "currency": doc["price"]["currency"],
            "purchaseDate": iso(doc["purchaseDate"]), "status": doc["status"]}


def order_event(kind: str, order: dict[str, Any], **extra: Any) -> Emit:
    data = {"orderId": order["_id"], "userId": order["userId"], "eventId": order["eventId"], **extra}
    return Emit(kind, data, subject=order["_id"])


def invalid(field: str, message: str, summary: str | None = None) -> InvalidInput:
    return InvalidInput(summary or message, details=[{"field": field, "message": message}])


def language_of(db, user_id: str) -> str:
    """The user's language from the mirror; English when unknown (the mirror may lag) or unsupported."""
    doc = db[USERS].find_one({"_id": user_id}, {"language": 1}) or {}
    language = (doc.get("language") or "en").lower()[:2]
    return language if language in LANGUAGES else "en"


def callers_ticket(ctx, ticket_id: str) -> dict[str, Any]:
    """The ticket if it is the caller's: 404 when missing, 403 when someone else's."""
    ticket = ctx.db[TICKETS].find_one({"_id": ticket_id})
    if ticket is None:
        raise NotFound("Ticket not found")
    if ticket["userId"] != ctx.principal.user_id:
        raise Forbidden("Not authorized to view this ticket")
    return ticket
