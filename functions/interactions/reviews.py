"""Review pages and statistics, computed from the reviews themselves at read time.

Statistics (``averageRating`` to 2 decimals, half up; ``ratingDistribution`` with the keys "1".."5" always
present; ``totalReviews``) come from one aggregation over the whole filtered set, not the page (the reference's
spec said "the current page"; its code and the SPA use the whole set). Nothing is kept as a counter, so they
are exact under any concurrency of reviews being written, edited and deleted.

An organization's reviews are those of events it created (``role=creator``), collaborated on
(``collaborator``) or either (``all``), as the organizers stood when the review was written.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from runtime import BadRequest, Forbidden, InvalidInput

from functions.interactions import model, paging

NEWEST_FIRST = [("createdAt", -1), ("_id", 1)]
ROLES = ("creator", "collaborator", "all")
MAX_SEARCH_LENGTH = 100


def summarize(counts: Mapping[int, int]) -> dict[str, Any]:
    """``ReviewStats`` from the number of reviews per rating."""
    total = sum(counts.values())
    points = sum(rating * n for rating, n in counts.items())
    average = (Decimal(points) / Decimal(total)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if total else 0
    return {"averageRating": float(average), "ratingDistribution": {str(r): counts.get(r, 0) for r in range(1, 6)},
            "totalReviews": total}


def statistics(ctx, query: dict[str, Any]) -> dict[str, Any]:
    groups = ctx.db[model.REVIEWS].aggregate([{"$match": query}, {"$group": {"_id": "$rating", "n": {"$sum": 1}}}])
    return summarize({int(g["_id"]): int(g["n"]) for g in groups})


def active(query: dict[str, Any], rating: int | None = None) -> dict[str, Any]:
    """Live reviews matching ``query`` (and ``rating`` when given)."""
    out = {**query, "active": True}
    if rating is not None:
        out["rating"] = rating
    return out


def of_organization(organization_id: str, role: str) -> dict[str, Any]:
    if role == "creator":
        return {"creatorId": organization_id}
    if role == "collaborator":
        return {"collaboratorIds": organization_id}
    return {"$or": [{"creatorId": organization_id}, {"collaboratorIds": organization_id}]}


def review_page(ctx, query: dict[str, Any], window: paging.Window) -> dict[str, Any]:
    """``ReviewPage``: a page of ``query``'s reviews, newest first, with the statistics of all of them."""
    docs, total = paging.find_page(ctx.db[model.REVIEWS], query, NEWEST_FIRST, window)
    return {**paging.page([model.review_view(d) for d in docs], total, window), **statistics(ctx, query)}


def matching_search(ctx, user_id: str, text: str) -> dict[str, Any]:
    """The filter for a user's reviews whose event name, or whose creator's or a collaborator's name or username,
    contains ``text`` (case-insensitive). Only the events and organizers of the user's own reviews are looked
    at, so the mirrors are read by id, never scanned."""
    reviews = ctx.db[model.REVIEWS]
    mine = {"userId": user_id, "active": True}
    event_ids = reviews.distinct("eventId", mine)
    organizer_ids = set(reviews.distinct("creatorId", mine)) | set(reviews.distinct("collaboratorIds", mine))
    pattern = {"$regex": re.escape(text), "$options": "i"}
    named_events = [e["_id"] for e in ctx.db[model.EVENTS].find(
        {"_id": {"$in": event_ids}, "deleted": {"$ne": True}, "name": pattern}, {"_id": 1})]
    named_people = [u["_id"] for u in ctx.db[model.USERS].find(
        {"_id": {"$in": sorted(organizer_ids)}, "deleted": {"$ne": True},
         "$or": [{"name": pattern}, {"username": pattern}]}, {"_id": 1})]
    return {"$or": [{"eventId": {"$in": named_events}}, {"creatorId": {"$in": named_people}},
                    {"collaboratorIds": {"$in": named_people}}]}


def require_completed(event: dict[str, Any], doing: str) -> None:
    if event.get("status") != "COMPLETED":
        raise BadRequest(f"It is not possible to {doing} an event that is not completed")


def own_review(ctx, action: str) -> str:
    """For PUT and DELETE ``/events/{eventId}/reviews/{userId}``: the author is the caller (403)."""
    user_id = ctx.http.path_params["userId"]
    if user_id != ctx.principal.user_id:
        raise Forbidden(f"You are not allowed to {action} another user's review")
    return user_id


def check_author(fields: model.ReviewSentFields, user_id: str) -> None:
    """The author the SPA sends must be the caller (403)."""
    if fields.userId is not None and fields.userId != user_id:
        raise Forbidden("You are not allowed to review on behalf of another user")


def check_creator(fields: model.ReviewSentFields, event: dict[str, Any]) -> None:
    """The creator the SPA sends must be the event's (400); the collaborators it sends are ignored: ours are the
    events mirror's, and the SPA's copy may be older."""
    if fields.creatorId is not None and fields.creatorId != event.get("creatorId"):
        raise InvalidInput("creatorId is not the event's creator.",
                           details=[{"field": "creatorId", "message": "not the event's creator"}])
