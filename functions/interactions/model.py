"""The interactions group's domain: likes, follows, reviews, participations, their views and domain events.

Collections (database ``eventonight_interactions``, docs/interactions.md):

- ``likes``: one document per (event, user), ``_id = pair_id("like", eventId, userId)``: ``{eventId, userId,
  active, likedAt, _version}``. Liking and unliking flip ``active`` and bump ``_version``; every event about the
  pair carries that version (``stamp``), so consumers can order a like and its removal.
- ``follows``: the same per (follower, followed): ``{followerId, followedId, active, followedAt, _version}``.
- ``reviews``: one per (event, user): ``{eventId, userId, creatorId, collaboratorIds (the organizers when it was
  written), rating, title, comment?, createdAt, updatedAt, active, _version}``; a deleted review is inactive.
- ``participations``: one per (event, user): ``{eventId, userId, orderIds (confirmed, not refunded),
  refundedOrderIds, orderCount, createdAt, removed?}``; the user takes part while ``orderCount > 0``.
- ``users``, ``events``: the mirrors of the users and events groups (``mirror.py``).

A removed like, follow or review stays as an inactive document: it keeps the version later events are ordered
by, the outbox its last event leaves through, and the receipts retries replay.
"""
from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from pydantic import Field, field_validator

from runtime import Emit, Response, Strict, index, iso, stamp

LIKES, FOLLOWS, REVIEWS, PARTICIPATIONS = "likes", "follows", "reviews", "participations"
USERS, EVENTS = "users", "events"  # mirrors of the users and events groups
STATUSES = ("DRAFT", "PUBLISHED", "COMPLETED", "CANCELLED")
MAX_ID_LENGTH = 200
MAX_TITLE_LENGTH = 200
MAX_COMMENT_LENGTH = 2000
MAX_COLLABORATORS = 100

INDEXES = (
    index(LIKES, "eventId", "active", ("likedAt", -1), "_id", name="event_likes"),
    index(LIKES, "userId", "active", ("likedAt", -1), "_id", name="user_likes"),
    index(FOLLOWS, "followedId", "active", ("followedAt", -1), "_id", name="followers"),
    index(FOLLOWS, "followerId", "active", ("followedAt", -1), "_id", name="following"),
    index(REVIEWS, "eventId", "active", ("createdAt", -1), "_id", name="event_reviews"),
    index(REVIEWS, "userId", "active", ("createdAt", -1), "_id", name="user_reviews"),
    index(REVIEWS, "creatorId", "active", name="creator_reviews"),
    index(REVIEWS, "collaboratorIds", "active", name="collaborator_reviews"),
    index(PARTICIPATIONS, "eventId", "orderCount", ("createdAt", -1), "_id", name="event_participants"),
    index(PARTICIPATIONS, "userId", "orderCount", "createdAt", "_id", name="user_participations"),
    index(EVENTS, "creatorId", name="creator"),
)


def pair_id(kind: str, first: str, second: str) -> str:
    """The one document of a (first, second) pair: a like (event, user), a follow (follower, followed), a review
    or a participation (event, user). Derived, so concurrent writers of one pair meet on one ``_id``; the sides
    are joined as a JSON list, so no id containing a separator can stand for another pair."""
    name = "eventonight/interactions/" + json.dumps([kind, first, second])
    return f"{kind}_{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def message(status: int, text: str) -> Response:
    """The reference's success body for writes: ``{message, statusCode}``."""
    return Response(status, {"message": text, "statusCode": status})


# ---- requests -------------------------------------------------------------------------------------------------

Id = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH)]
Rating = Annotated[int, Field(strict=True, ge=1, le=5)]
Title = Annotated[str, Field(min_length=1, max_length=MAX_TITLE_LENGTH)]
Comment = Annotated[str, Field(max_length=MAX_COMMENT_LENGTH)]


class LikeRequest(Strict):
    """The SPA sends ``{userId}``; the liker is the caller, so it must agree when sent."""

    userId: Id | None = None


class FollowRequest(Strict):
    followedId: Id


class ReviewSentFields(Strict):
    """What the SPA sends beside the review itself; we derive them, so they must agree with what we derive (the
    author and the event's creator) or are ignored (the collaborators: the SPA's copy may be older than ours)."""

    userId: Id | None = None
    creatorId: Id | None = None
    collaboratorsId: list[Annotated[str, Field(max_length=MAX_ID_LENGTH)]] | None = Field(
        default=None, max_length=MAX_COLLABORATORS)  # ignored, so only bounded


class NewReview(ReviewSentFields):
    rating: Rating
    title: Title
    comment: Comment | None = None

    @field_validator("comment")
    @classmethod
    def _blank_is_none(cls, v):
        return v or None


class ReviewChange(ReviewSentFields):
    """PUT: ``rating`` required; ``title`` and ``comment`` change when sent (the reference ignored ``title``);
    an empty ``comment`` removes it."""

    rating: Rating
    title: Title | None = None
    comment: Comment | None = None


# ---- views ----------------------------------------------------------------------------------------------------

def user_info(user_id: str, user: dict[str, Any] | None) -> dict[str, str]:
    """``UserInfo``: the mirror's name, username and avatar; empty strings for a user it does not know."""
    user = user or {}
    return {"userId": user_id, "avatar": user.get("avatar") or "", "name": user.get("name") or "",
            "username": user.get("username") or ""}


def display_name(user: dict[str, Any] | None) -> str:
    user = user or {}
    return user.get("name") or user.get("username") or ""


def review_view(doc: dict[str, Any]) -> dict[str, Any]:
    out = {"id": doc["_id"], "eventId": doc["eventId"], "userId": doc["userId"], "creatorId": doc["creatorId"],
           "collaboratorIds": doc.get("collaboratorIds") or [], "rating": doc["rating"], "title": doc["title"],
           "createdAt": iso(doc["createdAt"]), "updatedAt": iso(doc["updatedAt"])}
    if doc.get("comment"):
        out["comment"] = doc["comment"]
    return out


def is_organizer(event: dict[str, Any], user_id: str | None) -> bool:
    return user_id is not None and (user_id == event.get("creatorId") or user_id in (event.get("collaboratorIds")
                                                                                      or []))


# ---- domain events --------------------------------------------------------------------------------------------

def like_created(event: dict[str, Any], user: dict[str, Any], user_id: str, version: int) -> Emit:
    data = {"creatorId": event["creatorId"], "eventId": event["_id"], "eventName": event.get("name") or "",
            "userId": user_id, "userName": display_name(user), "userAvatar": user.get("avatar") or ""}
    return Emit("interactions.like.created", data, subject=event["_id"], extensions=stamp(version))


def like_deleted(like: dict[str, Any], version: int) -> Emit:
    """``likedAt`` is when the removed like was given: the events group takes back exactly the weight it added."""
    data = {"eventId": like["eventId"], "userId": like["userId"], "likedAt": iso(like["likedAt"])}
    return Emit("interactions.like.deleted", data, subject=like["eventId"], extensions=stamp(version))


def follow_created(follower: dict[str, Any], follower_id: str, followed_id: str, version: int) -> Emit:
    data = {"followedId": followed_id, "followerId": follower_id, "followerName": display_name(follower),
            "followerAvatar": follower.get("avatar") or ""}
    return Emit("interactions.follow.created", data, subject=followed_id, extensions=stamp(version))


def follow_deleted(follow: dict[str, Any], version: int) -> Emit:
    data = {"followedId": follow["followedId"], "followerId": follow["followerId"]}
    return Emit("interactions.follow.deleted", data, subject=follow["followedId"], extensions=stamp(version))


def review_created(review: dict[str, Any], user: dict[str, Any], version: int) -> Emit:
    data = {"creatorId": review["creatorId"], "eventId": review["eventId"], "userId": review["userId"],
            "userName": display_name(user), "userAvatar": user.get("avatar") or ""}
    return Emit("interactions.review.created", data, subject=review["eventId"], extensions=stamp(version))
