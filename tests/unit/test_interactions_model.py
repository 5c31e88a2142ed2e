"""The interactions group's pure rules: review statistics, pair ids, request bodies, what the events mirror keeps,
query parameters, the filters of participations and organizations' reviews, views and event payloads."""
from datetime import timedelta

import pytest

import moments
from runtime.contract import HttpRequest
from runtime.errors import InvalidInput
from runtime.validation import parse

from functions.interactions import mirror, model, paging, participations, reviews

# ---- statistics ---------------------------------------------------------------------------------------------------


def test_statistics_of_no_reviews_are_zero_with_every_key():
    assert reviews.summarize({}) == {"averageRating": 0, "ratingDistribution": {"1": 0, "2": 0, "3": 0, "4": 0,
                                                                                 "5": 0}, "totalReviews": 0}


@pytest.mark.parametrize("counts, average", [
    ({5: 1}, 5.0),
    ({1: 1, 4: 1, 5: 1}, 3.33),
    ({4: 2, 5: 1}, 4.33),
    ({1: 1, 2: 1}, 1.5),
    ({5: 2, 3: 3, 2: 3}, 3.13),  # 25 / 8 = 3.125: half up, not to even
    ({4: 1, 5: 2}, 4.67),
])
def test_the_average_has_two_decimals_rounded_half_up(counts, average):
    summary = reviews.summarize(counts)

    assert summary["averageRating"] == average
    assert summary["totalReviews"] == sum(counts.values())
    assert summary["ratingDistribution"] == {str(r): counts.get(r, 0) for r in range(1, 6)}


@pytest.mark.parametrize("role, query", [
    ("creator", {"creatorId": "o1"}),
    ("collaborator", {"collaboratorIds": "o1"}),
    ("all", {"$or": [{"creatorId": "o1"}, {"collaboratorIds": "o1"}]}),
])
def test_an_organizations_reviews_by_role(role, query):
    assert reviews.of_organization("o1", role) == query
    assert reviews.active(reviews.of_organization("o1", role), 5) == {**query, "active": True, "rating": 5}


# ---- ids and bodies -----------------------------------------------------------------------------------------------

def test_pair_ids_are_stable_distinct_and_ordered():
    assert model.pair_id("like", "e1", "u1") == model.pair_id("like", "e1", "u1")
    assert model.pair_id("like", "e1", "u1").startswith("like_")
    assert model.pair_id("follow", "a", "b") != model.pair_id("follow", "b", "a")
    assert model.pair_id("like", "e1", "u1") != model.pair_id("review", "e1", "u1")
    assert model.pair_id("like", "a/b", "c") != model.pair_id("like", "a", "b/c")  # no ambiguity through joins


def test_a_review_as_the_spa_sends_it():
    body = parse(model.NewReview, {"userId": "u1", "rating": 4, "title": "  Nice  ", "comment": "", "creatorId": "o1",
                                   "collaboratorsId": ["o2"]})

    assert (body.rating, body.title, body.comment, body.creatorId, body.collaboratorsId) == (4, "Nice", None, "o1",
                                                                                             ["o2"])


@pytest.mark.parametrize("changes, field", [
    ({"rating": True}, "rating"),
    ({"rating": "4"}, "rating"),
    ({"rating": 4.0}, "rating"),
    ({"rating": 0}, "rating"),
    ({"rating": 6}, "rating"),
    ({"title": " "}, "title"),
    ({"title": "t" * 201}, "title"),
    ({"comment": "c" * 2001}, "comment"),
    ({"userId": ""}, "userId"),
    ({"collaboratorsId": ["x"] * 101}, "collaboratorsId"),
    ({"updatedAt": "now"}, "updatedAt"),
])
def test_a_bad_review_names_its_field(changes, field):
    with pytest.raises(InvalidInput) as raised:
        parse(model.NewReview, {"rating": 4, "title": "Fine", **changes})

    assert [d["field"] for d in raised.value.details] == [field]


def test_an_edit_needs_a_rating_and_may_change_title_and_comment():
    edit = parse(model.ReviewChange, {"rating": 2, "comment": ""})
    assert (edit.rating, edit.title, edit.comment, "comment" in edit.model_fields_set) == (2, None, "", True)
    with pytest.raises(InvalidInput):
        parse(model.ReviewChange, {"title": "No rating"})


def test_like_and_follow_bodies():
    assert parse(model.LikeRequest, {}).userId is None
    assert parse(model.LikeRequest, {"userId": "u1"}).userId == "u1"
    for model_type, body in ((model.LikeRequest, {"userId": "u1", "eventId": "e1"}), (model.FollowRequest, {}),
                             (model.FollowRequest, {"followedId": " "}), (model.FollowRequest, {"followedId": 7})):
        with pytest.raises(InvalidInput):
            parse(model_type, body)


# ---- the events mirror ----------------------------------------------------------------------------------------------

def test_what_the_events_mirror_keeps_of_each_event():
    created = {"eventId": "e1", "creatorId": "o1", "collaboratorIds": ["o2"], "name": "Night", "status": "DRAFT",
               "date": None, "tags": None, "instant": 1, "locationName": None}
    assert mirror.event_fields("event.created", created) == {"status": "DRAFT", "creatorId": "o1",
                                                             "collaboratorIds": ["o2"], "name": "Night"}
    assert mirror.event_fields("event.completed", {"eventId": "e1"}) == {"status": "COMPLETED"}
    assert mirror.event_fields("event.cancelled", {"eventId": "e1"}) == {"status": "CANCELLED"}
    published = mirror.event_fields("event.published", {"eventId": "e1", "name": "N", "creatorId": "o1",
                                                        "creatorName": "Org"})
    assert published == {"status": "PUBLISHED", "creatorId": "o1", "collaboratorIds": None, "name": "N"}
    assert mirror.event_fields("event.updated", {"eventId": "e1", "status": "CANCELLED"})["status"] == "CANCELLED"


# ---- query parameters -------------------------------------------------------------------------------------------

def request(**query):
    return HttpRequest("GET", "/x", {}, {k: [str(v)] for k, v in query.items()}, b"")


def test_pages_default_to_20_and_cap_at_100():
    assert paging.Query(request()).window() == paging.Window(20, 0)
    assert paging.Query(request(limit=500, offset=40)).window() == paging.Window(100, 40)
    assert paging.page(["a", "b"], 5, paging.Window(2, 2)) == {"items": ["a", "b"], "totalItems": 5, "limit": 2,
                                                               "offset": 2, "hasMore": True}
    assert paging.page(["a"], 5, paging.Window(2, 4))["hasMore"] is False


def test_every_bad_parameter_is_named_at_once():
    query = paging.Query(request(limit=0, offset=10_001, order="up", rating=6, eventStatus="COMPLETED,LATE"))
    query.window(), query.choice("order", ("asc", "desc")), query.rating(), query.choices("eventStatus",
                                                                                          model.STATUSES)

    with pytest.raises(InvalidInput) as raised:
        query.check()

    assert [d["field"] for d in raised.value.details] == ["limit", "offset", "order", "rating", "eventStatus"]


def test_choices_are_comma_separated_and_case_folded():
    query = paging.Query(request(eventStatus="completed, CANCELLED,completed", order="DESC", reviewed=""))
    assert query.choices("eventStatus", model.STATUSES) == ["COMPLETED", "CANCELLED"]
    assert query.choice("order", ("asc", "desc"), "asc") == "desc"
    assert query.choice("reviewed", ("true", "false")) is None
    query.check()


def test_the_participations_event_filter():
    assert participations.event_filter([], None, None) is None
    assert participations.event_filter(["COMPLETED"], "o1", "a.b") == {
        "status": {"$in": ["COMPLETED"]}, "$or": [{"creatorId": "o1"}, {"collaboratorIds": "o1"}],
        "name": {"$regex": r"a\.b", "$options": "i"}}


# ---- views and event payloads -------------------------------------------------------------------------------------

def test_views_and_payloads():
    now = moments.now()
    doc = {"_id": "review_1", "eventId": "e1", "userId": "u1", "creatorId": "o1", "collaboratorIds": [], "rating": 3,
           "title": "T", "comment": None, "createdAt": now, "updatedAt": now + timedelta(seconds=1)}
    view = model.review_view(doc)
    assert "comment" not in view and view["id"] == "review_1" and view["createdAt"].endswith("Z")
    assert model.user_info("u9", None) == {"userId": "u9", "avatar": "", "name": "", "username": ""}
    like = {"eventId": "e1", "userId": "u1", "likedAt": now}
    removed = model.like_deleted(like, 4)
    assert removed.data == {"eventId": "e1", "userId": "u1", "likedAt": now.isoformat().replace("+00:00", "Z")}
    assert removed.extensions == {"sequence": "4"}
    created = model.like_created({"_id": "e1", "creatorId": "o1"}, {"username": "nick"}, "u1", 1)
    assert created.data == {"creatorId": "o1", "eventId": "e1", "eventName": "", "userId": "u1", "userName": "nick",
                            "userAvatar": ""}
    assert model.message(201, "Done").body == {"message": "Done", "statusCode": 201}
