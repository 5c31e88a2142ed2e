"""Reviews: the review form and every rule behind it, editing and deleting, the event's and the organization's
review pages, a user's reviews with search, and statistics that stay exact under concurrent reviews."""
import uuid

import pytest

from interactions_support import (  # noqa: F401  (fixtures)
    AVATAR,
    broker,
    confirm_order,
    get,
    idb,
    known_event,
    ok,
    person,
    refused,
    review,
    reviewable,
    wire_data,
)
from localrunner.bus import wait_until

EMPTY = {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}


def stats(average, total, **counts):
    return {"averageRating": average, "ratingDistribution": {**EMPTY, **counts}, "totalReviews": total}


def test_a_participant_reviews_a_completed_event_once(api, person, reviewable, tap):
    org, fan = person("organization"), person("member")
    event_id = reviewable(org, [fan])
    wire = tap("interactions.review.created")
    key = f"review-{uuid.uuid4()}"

    response = review(api, fan, event_id, rating=4, title="  Loved it ", comment="Great DJ", creatorId=org.id,
                      collaboratorsId=["someone-the-spa-remembers"], key=key)

    assert ok(response, 201) == {"message": "Review created successfully", "statusCode": 201}
    assert wire_data(wire.settle(), "interactions.review.created") == [(
        {"creatorId": org.id, "eventId": event_id, "userId": fan.id, "userName": fan.name, "userAvatar": AVATAR}, 1)]
    stored = ok(get(api, f"/users/{fan.id}/reviews/{event_id}"))
    assert {k: v for k, v in stored.items() if k not in ("id", "createdAt", "updatedAt")} == {
        "eventId": event_id, "userId": fan.id, "creatorId": org.id, "collaboratorIds": [], "rating": 4,
        "title": "Loved it", "comment": "Great DJ"}
    assert stored["createdAt"].endswith("Z") and stored["updatedAt"] == stored["createdAt"]
    page = ok(get(api, f"/events/{event_id}/reviews"))
    assert page == {"items": [stored], "totalItems": 1, "limit": 20, "offset": 0, "hasMore": False,
                    **stats(4.0, 1, **{"4": 1})}
    assert ok(get(api, f"/users/{fan.id}/participations/{event_id}")) == {"hasParticipated": True,
                                                                          "hasReviewed": True}

    replay = review(api, fan, event_id, rating=4, title="  Loved it ", comment="Great DJ", creatorId=org.id,
                    collaboratorsId=["someone-the-spa-remembers"], key=key)
    assert replay.status_code == 201 and replay.headers.get("idempotent-replayed") == "true"
    refused(review(api, fan, event_id, rating=1), 409, "conflict", "You have already reviewed this event")
    assert len(wire_data(wire.settle(), "interactions.review.created")) == 1


def test_each_review_rule_answers_as_the_reference(api, idb, broker, person, known_event, reviewable, platform):
    org, partner, fan, outsider = person("organization"), person("organization"), person("member"), person("member")
    completed = reviewable(org, [fan, partner], collaborators=[partner])
    published = known_event(org)
    confirm_order(broker, idb, published, fan.id)
    refunded = reviewable(org, [])
    order = confirm_order(broker, idb, refunded, outsider.id)
    broker.publish("payments.order.refunded", {"orderId": order, "userId": outsider.id, "eventId": refunded,
                                               "amount": 10, "currency": "USD"})
    unknown = str(uuid.uuid4())
    ghost = platform.idp.mint({"user_id": unknown, "realm_access": {"roles": ["member"]}})

    refused(review(api, fan, published), 400, "bad_request",
            "It is not possible to review an event that is not completed")
    refused(review(api, org, completed), 400, "bad_request", "User cannot review their own event")
    refused(review(api, partner, completed), 400, "bad_request", "User cannot review their own event")
    refused(review(api, outsider, completed), 404, "not_found",
            f"User with ID {outsider.id} has not participated in event {completed}")
    assert refund_landed(idb, refunded, outsider.id)
    refused(review(api, outsider, refunded), 404, "not_found")  # a refunded order is no participation
    refused(review(api, fan, unknown), 404, "not_found", f"Event with ID {unknown} not found")
    refused(api.call("POST", "interactions", f"/events/{completed}/reviews", token=ghost,
                     json={"rating": 5, "title": "Who am I"}), 404, "not_found", f"User with ID {unknown} not found")
    assert idb["reviews"].count_documents({"eventId": {"$in": [completed, published, refunded, unknown]}}) == 0


@pytest.mark.parametrize("changes, status, error", [
    ({"userId": "someone-else"}, 403, "forbidden"),
    ({"creatorId": "not-the-creator"}, 400, "invalid_input"),
    ({"rating": 0}, 400, "invalid_input"),
    ({"rating": 6}, 400, "invalid_input"),
    ({"rating": "5"}, 400, "invalid_input"),
    ({"rating": 4.5}, 400, "invalid_input"),
    ({"rating": None}, 400, "invalid_input"),
    ({"title": "   "}, 400, "invalid_input"),
    ({"title": "t" * 201}, 400, "invalid_input"),
    ({"comment": "c" * 2001}, 400, "invalid_input"),
    ({"createdAt": "yesterday"}, 400, "invalid_input"),  # the reference spread the raw body into the document
])
def test_a_bad_review_body_is_refused_and_writes_nothing(api, idb, person, reviewable, changes, status, error):
    org, fan = person("organization"), person("member")
    event_id = reviewable(org, [fan])
    key = f"bad-{uuid.uuid4()}"
    body = {"userId": fan.id, "rating": 5, "title": "Fine", "creatorId": org.id, **changes}

    response = api.call("POST", "interactions", f"/events/{event_id}/reviews", token=fan.token, key=key, json=body)

    refused(response, status, error)
    assert idb["reviews"].count_documents({"eventId": event_id}) == 0
    assert idb["idempotency"].count_documents({"_id": f"interactions-create-review:{key}"}) == 0
    refused(api.call("POST", "interactions", f"/events/{event_id}/reviews", json=body), 401, "unauthorized")


def refund_landed(idb, event_id, user_id):
    return wait_until(lambda: idb["participations"].find_one(
        {"eventId": event_id, "userId": user_id, "orderCount": 0, "refundedOrderIds.0": {"$exists": True}}),
        timeout=10)


def test_the_author_edits_and_deletes_their_review_while_allowed(api, person, known_event, reviewable, tap):
    org, fan, other = person("organization"), person("member"), person("member")
    event_id = reviewable(org, [fan, other])
    ok(review(api, fan, event_id, rating=5, title="First", comment="Wow"), 201)
    path = f"/events/{event_id}/reviews/{fan.id}"
    wire = tap("interactions.review.created")

    edited = api.call("PUT", "interactions", path, token=fan.token, json={
        "rating": 2, "title": "Second thoughts", "comment": "", "userId": fan.id, "creatorId": org.id,
        "collaboratorsId": []})

    assert ok(edited) == {"message": "Review updated successfully", "statusCode": 200}
    now = ok(get(api, f"/users/{fan.id}/reviews/{event_id}"))
    assert (now["rating"], now["title"], "comment" in now) == (2, "Second thoughts", False)
    assert now["updatedAt"] > now["createdAt"]
    assert ok(get(api, f"/events/{event_id}/reviews"))["averageRating"] == 2.0
    refused(api.call("PUT", "interactions", path, token=other.token, json={"rating": 1}), 403, "forbidden")
    refused(api.call("PUT", "interactions", path, token=fan.token, json={"rating": 9}), 400, "invalid_input")
    refused(api.call("PUT", "interactions", path, token=fan.token, json={"rating": 1, "creatorId": fan.id}), 400,
            "invalid_input")
    refused(api.call("PUT", "interactions", f"/events/{event_id}/reviews/{other.id}", token=other.token,
                     json={"rating": 1}), 404, "not_found", "Review not found")
    published = known_event(org)
    refused(api.call("PUT", "interactions", f"/events/{published}/reviews/{fan.id}", token=fan.token,
                     json={"rating": 1}), 400, "bad_request",
            "It is not possible to update a review of an event that is not completed")
    refused(api.call("DELETE", "interactions", f"/events/{published}/reviews/{fan.id}", token=fan.token), 400,
            "bad_request", "It is not possible to delete a review of an event that is not completed")

    refused(api.call("DELETE", "interactions", path, token=other.token), 403, "forbidden")
    deleted = api.call("DELETE", "interactions", path, token=fan.token)
    assert ok(deleted) == {"message": "Review deleted successfully", "statusCode": 200}
    refused(get(api, f"/users/{fan.id}/reviews/{event_id}"), 404, "not_found", "Review not found")
    refused(api.call("DELETE", "interactions", path, token=fan.token), 404, "not_found", "Review not found")
    assert ok(get(api, f"/events/{event_id}/reviews")) == {"items": [], "totalItems": 0, "limit": 20, "offset": 0,
                                                           "hasMore": False, **stats(0, 0)}
    ok(review(api, fan, event_id, rating=3), 201)  # deleted: the author may review again
    assert [seq for _, seq in wire_data(wire.settle(), "interactions.review.created")] == [4]


def test_an_organizations_reviews_and_statistics_by_role(api, person, reviewable):
    alpha, beta = person("organization"), person("organization")
    fans = [person("member") for _ in range(3)]
    shared = reviewable(alpha, fans, collaborators=[beta])
    own = reviewable(beta, fans[:1])
    for fan, rating in zip(fans[:2], (5, 4)):
        ok(review(api, fan, shared, rating=rating), 201)
    ok(review(api, fans[0], own, rating=1), 201)

    def page(org, **params):
        return ok(get(api, f"/organizations/{org.id}/reviews", **params))

    def statistics(org, **params):
        return ok(get(api, f"/organizations/{org.id}/reviews/statistics", **params))

    everything = page(beta)
    assert [(r["eventId"], r["rating"]) for r in everything["items"]] == [(own, 1), (shared, 4), (shared, 5)]
    assert {k: everything[k] for k in ("totalItems", "averageRating", "ratingDistribution", "totalReviews")} == {
        "totalItems": 3, **stats(3.33, 3, **{"1": 1, "4": 1, "5": 1})}
    assert statistics(beta) == stats(3.33, 3, **{"1": 1, "4": 1, "5": 1})
    assert statistics(beta, role="creator") == stats(1.0, 1, **{"1": 1})
    assert statistics(beta, role="collaborator") == stats(4.5, 2, **{"4": 1, "5": 1})
    assert statistics(alpha, role="creator") == statistics(alpha) == stats(4.5, 2, **{"4": 1, "5": 1})
    assert statistics(alpha, role="collaborator") == stats(0, 0)
    assert statistics(beta, rating=5) == stats(5.0, 1, **{"5": 1})
    limited = page(beta, role="collaborator", limit=1)
    assert (len(limited["items"]), limited["totalItems"], limited["hasMore"], limited["totalReviews"]) == (1, 2, True,
                                                                                                          2)
    for params in ({"role": "boss"}, {"rating": 6}, {"rating": "five"}, {"limit": 0}):
        refused(get(api, f"/organizations/{beta.id}/reviews", **params), 400, "invalid_input")
    refused(get(api, f"/organizations/{beta.id}/reviews/statistics", rating=0), 400, "invalid_input")
    unknown = str(uuid.uuid4())
    refused(get(api, f"/organizations/{unknown}/reviews"), 404, "not_found", f"User with ID {unknown} not found")
    refused(get(api, f"/organizations/{unknown}/reviews/statistics"), 404, "not_found")


def test_statistics_are_exact_under_concurrent_reviews(api, person, reviewable, concurrently):
    org = person("organization")
    fans = [person("member") for _ in range(6)]
    event_id = reviewable(org, fans)
    ratings = [1, 2, 3, 4, 5, 5]

    answers = concurrently(len(fans), lambda i: review(api, fans[i], event_id, rating=ratings[i]).status_code)

    assert answers == [201] * 6
    expected = stats(3.33, 6, **{"1": 1, "2": 1, "3": 1, "4": 1, "5": 2})
    assert ok(get(api, f"/organizations/{org.id}/reviews/statistics")) == expected
    event_page = ok(get(api, f"/events/{event_id}/reviews", limit=2))
    assert {k: event_page[k] for k in expected} == expected and event_page["totalItems"] == 6
    assert ok(get(api, f"/events/{event_id}/reviews", rating=5))["totalItems"] == 2
    for params in ({"rating": 0}, {"rating": "5.0"}, {"limit": 101.5}, {"offset": "first"}):
        refused(get(api, f"/events/{event_id}/reviews", **params), 400, "invalid_input")
    unknown = str(uuid.uuid4())
    refused(get(api, f"/events/{unknown}/reviews"), 404, "not_found", f"Event with ID {unknown} not found")


def test_a_users_reviews_and_the_search_the_spa_offers(api, person, reviewable):
    fan = person("member")
    bunker_org, cellar_org = person("organization", name="Alpha Sound"), person("organization", name="Beta Club")
    crew = person("organization", name="Gamma Crew")
    bunker = reviewable(bunker_org, [fan], name="Techno Bunker")
    cellar = reviewable(cellar_org, [fan], name="Jazz Cellar", collaborators=[crew])
    ok(review(api, fan, bunker, rating=5), 201)
    ok(review(api, fan, cellar, rating=2), 201)

    def search(text=None):
        params = {"search": text} if text is not None else {}
        found = ok(get(api, f"/users/{fan.id}/reviews", **params))
        return [r["eventId"] for r in found["items"]], found["totalItems"], found["averageRating"]

    assert search() == ([cellar, bunker], 2, 3.5)
    assert search("BUNKER") == ([bunker], 1, 5.0)  # the event's name
    assert search("beta") == ([cellar], 1, 2.0)  # the creator's name
    assert search("gamma c") == ([cellar], 1, 2.0)  # a collaborator's name
    assert search(crew.username) == ([cellar], 1, 2.0)  # a collaborator's username
    assert search("a.*") == ([], 0, 0)  # a substring, not a pattern
    refused(get(api, f"/users/{fan.id}/reviews", search="x" * 101), 400, "invalid_input")
    refused(get(api, f"/users/{uuid.uuid4()}/reviews"), 404, "not_found")
    refused(get(api, f"/users/{fan.id}/reviews/{uuid.uuid4()}"), 404, "not_found")
