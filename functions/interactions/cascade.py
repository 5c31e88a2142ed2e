"""What goes when a user or an event goes (the reference meant to and never did: rebuild notes §6.2).

A deleted user takes their likes (each with ``interactions.like.deleted``, so the events group's popularity goes
down), their follows in both directions (each with ``interactions.follow.deleted``, so the notifications group's
follow mirror follows), their reviews (the statistics, computed from reviews, follow at once) and their
participations. A deleted event takes its likes, reviews and participations.

Each removal is its own commit under ``ctx.scoped(<document id>)``, conditional on the version it read: a
redelivery finds only what is left and repeats nothing (a document already switched off is not listed again, and
a scoped key that committed replays). A document that changed between the read and the commit is counted as
missed; the caller then answers 409 (``cascade_retry`` for the broker, which redelivers).
"""
from __future__ import annotations

from typing import Any

from runtime import ACCEPTED, Conflict

from functions.interactions import model
from functions.interactions.relations import Pair, switch_once

LIVE = {"active": True}


def _switch_off(ctx, collection: str, docs, emits) -> int:
    """Switch every listed pair off, each its own scoped commit; how many changed under us."""
    missed = 0
    for doc in docs:
        done = switch_once(ctx.scoped(doc["_id"]), Pair(collection, doc["_id"]), doc, False, reply=ACCEPTED,
                           emits=emits)
        missed += done is None
    return missed


def _likes_off(ctx, query: dict[str, Any]) -> int:
    docs = list(ctx.db[model.LIKES].find({**query, **LIVE}).sort("_id", 1))
    return _switch_off(ctx, model.LIKES, docs, lambda doc, version: [model.like_deleted(doc, version)])


def _reviews_off(ctx, query: dict[str, Any]) -> int:
    docs = list(ctx.db[model.REVIEWS].find({**query, **LIVE}).sort("_id", 1))
    return _switch_off(ctx, model.REVIEWS, docs, lambda doc, version: [])


def _participations_off(ctx, query: dict[str, Any]) -> None:
    """Participations need no version: once removed they take no more orders, whatever arrives later."""
    for doc in ctx.db[model.PARTICIPATIONS].find({**query, "removed": {"$ne": True}}, {"_id": 1}).sort("_id", 1):
        ctx.scoped(doc["_id"]).commit(
            model.PARTICIPATIONS, {"_id": doc["_id"], "removed": {"$ne": True}},
            {"$set": {"orderIds": [], "orderCount": 0, "removed": True, "updatedAt": ctx.now}}, reply=ACCEPTED)


def remove_follows(ctx, user_id: str) -> int:
    """Every follow from or to ``user_id``, each with ``interactions.follow.deleted``; how many were missed."""
    docs = list(ctx.db[model.FOLLOWS].find(
        {"$or": [{"followerId": user_id}, {"followedId": user_id}], **LIVE}).sort("_id", 1))
    return _switch_off(ctx, model.FOLLOWS, docs, lambda doc, version: [model.follow_deleted(doc, version)])


def remove_user(ctx, user_id: str) -> int:
    missed = _likes_off(ctx, {"userId": user_id}) + remove_follows(ctx, user_id)
    missed += _reviews_off(ctx, {"userId": user_id})
    _participations_off(ctx, {"userId": user_id})
    return missed


def remove_event(ctx, event_id: str) -> int:
    missed = _likes_off(ctx, {"eventId": event_id}) + _reviews_off(ctx, {"eventId": event_id})
    _participations_off(ctx, {"eventId": event_id})
    return missed



def require_done(missed: int, whose: str) -> None:
    """A cascade that missed documents (they changed under it) answers 409, so the broker redelivers it."""
    if missed:
        raise Conflict(f"{missed} of the {whose} interactions changed during the cascade; retrying.",
                       code="cascade_retry")
