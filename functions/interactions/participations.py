"""Participations: a user takes part in an event while they hold a confirmed, unrefunded order for it.

One document per (event, user) holds the set of such orders (``orderIds``) and its size (``orderCount``);
``payments.order.confirmed`` adds an order, ``payments.order.refunded`` removes it, each one conditional update.
A refunded order is remembered (``refundedOrderIds``), so its confirmation arriving late cannot bring it back;
a duplicate changes nothing. ``createdAt`` is when the first order was confirmed (``$min``, whatever order the
confirmations arrive in). A participation removed with its user or event (``removed``) takes no more orders.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from runtime import ACCEPTED, Conflict

from functions.interactions import model

ATTEMPTS = 5
TAKES_PART = {"orderCount": {"$gt": 0}}


def participation_id(event_id: str, user_id: str) -> str:
    return model.pair_id("participation", event_id, user_id)


def confirm(ctx, event_id: str, user_id: str, order_id: str, confirmed_at: datetime) -> None:
    """Add a confirmed order (a duplicate, a refunded or a removed one changes nothing)."""
    fresh = {"_id": participation_id(event_id, user_id), "orderIds": {"$ne": order_id},
             "refundedOrderIds": {"$ne": order_id}, "removed": {"$ne": True}}
    ctx.commit(model.PARTICIPATIONS, fresh,
               {"$addToSet": {"orderIds": order_id}, "$inc": {"orderCount": 1},
                "$min": {"createdAt": confirmed_at}, "$set": {"updatedAt": ctx.now},
                "$setOnInsert": {"eventId": event_id, "userId": user_id}},
               upsert=True, reply=ACCEPTED)  # None: already there, refunded or removed


def refund(ctx, event_id: str, user_id: str, order_id: str) -> None:
    """Withdraw a refunded order; one refunded before its confirmation arrived is remembered as refunded."""
    doc_id = participation_id(event_id, user_id)
    for _ in range(ATTEMPTS):
        held = ctx.commit(model.PARTICIPATIONS, {"_id": doc_id, "orderIds": order_id},
                          {"$pull": {"orderIds": order_id}, "$addToSet": {"refundedOrderIds": order_id},
                           "$inc": {"orderCount": -1}, "$set": {"updatedAt": ctx.now}}, reply=ACCEPTED)
        if held is not None:
            return
        early = ctx.commit(model.PARTICIPATIONS,
                           {"_id": doc_id, "orderIds": {"$ne": order_id}, "refundedOrderIds": {"$ne": order_id}},
                           {"$addToSet": {"refundedOrderIds": order_id}, "$set": {"updatedAt": ctx.now},
                            "$setOnInsert": {"eventId": event_id, "userId": user_id, "orderCount": 0}},
                           upsert=True, reply=ACCEPTED)
        if early is not None:
            return
        doc = ctx.db[model.PARTICIPATIONS].find_one({"_id": doc_id}, {"refundedOrderIds": 1, "removed": 1}) or {}
        if order_id in (doc.get("refundedOrderIds") or []) or doc.get("removed"):
            return  # already withdrawn (a duplicate), or gone with its user or event
        # else its confirmation landed between the two commits: withdraw it now
    raise Conflict("The participation kept changing; retrying.", code="concurrent_update")


def takes_part(ctx, event_id: str, user_id: str) -> bool:
    return ctx.db[model.PARTICIPATIONS].count_documents(
        {"_id": participation_id(event_id, user_id), **TAKES_PART}, limit=1) == 1


# ---- the list the SPA filters (profile, review dialog) ----------------------------------------------------------

def event_filter(statuses: list[str], organization_id: str | None, title: str | None) -> dict[str, Any] | None:
    """The events mirror filter of ``eventStatus``, ``organizationId`` (creator or collaborator) and ``title``
    (case-insensitive substring of the name); None when none is given."""
    query: dict[str, Any] = {}
    if statuses:
        query["status"] = {"$in": statuses}
    if organization_id:
        query["$or"] = [{"creatorId": organization_id}, {"collaboratorIds": organization_id}]
    if title:
        query["name"] = {"$regex": re.escape(title), "$options": "i"}
    return query or None


def user_query(ctx, user_id: str, events: dict[str, Any] | None, reviewed: bool | None) -> dict[str, Any]:
    """The user's participations, narrowed by the event filter (matched against the events mirror: an event it
    does not know matches no filter) and by whether the user reviewed the event. Events the mirror knows as
    deleted are left out while their cascade runs. The user's own participations bound every set read here."""
    query: dict[str, Any] = {"userId": user_id, **TAKES_PART}
    every = set(ctx.db[model.PARTICIPATIONS].distinct("eventId", query))
    events_mirror = ctx.db[model.EVENTS]
    keep = every - {e["_id"] for e in events_mirror.find({"_id": {"$in": sorted(every)}, "deleted": True}, {"_id": 1})}
    if events is not None:
        keep &= {e["_id"] for e in events_mirror.find(
            {"_id": {"$in": sorted(keep)}, "deleted": {"$ne": True}, **events}, {"_id": 1})}
    if reviewed is not None:
        mine = set(ctx.db[model.REVIEWS].distinct("eventId", {"userId": user_id, "active": True}))
        keep = keep & mine if reviewed else keep - mine
    if keep != every:
        query["eventId"] = {"$in": sorted(keep)}
    return query
