"""The events group's pure rules, without the platform: ranking, price summary, PUT semantics, query parsing."""
from datetime import timedelta
from types import SimpleNamespace

import pytest

import moments
from moments import FUTURE, PAST
from runtime.errors import Conflict, InvalidInput, Unauthorized

from functions.events import model, search
from functions.events.ranking import EPOCH, HALF_LIFE, WEIGHTS, decayed_weight, price_summary

NOW = moments.days_ahead(0, hour=18)


def decayed_score(happenings, now):
    """The score as defined: each weight halved every HALF_LIFE since it happened."""
    return sum(WEIGHTS[kind] * 2 ** (-((now - when) / HALF_LIFE)) for kind, when in happenings)


def test_the_stored_popularity_orders_like_the_decayed_score_at_any_moment():
    old_hit = [("published", NOW - timedelta(days=30))] + [("participation", NOW - timedelta(days=29))] * 20
    fresh = [("published", NOW - timedelta(days=1)), ("like", NOW - timedelta(hours=5))]
    stored = {name: sum(decayed_weight(k, t) for k, t in h) for name, h in (("old", old_hit), ("fresh", fresh))}

    for now in (NOW - timedelta(days=28), NOW, NOW + timedelta(days=60)):
        decayed = {"old": decayed_score(old_hit, now), "fresh": decayed_score(fresh, now)}
        assert sorted(stored, key=stored.get) == sorted(decayed, key=decayed.get)
        factor = 2 ** ((now - EPOCH) / HALF_LIFE)
        assert stored["old"] == pytest.approx(decayed["old"] * factor)


def test_a_recent_like_outweighs_an_old_one():
    assert decayed_weight("like", NOW) == pytest.approx(2 * decayed_weight("like", NOW - HALF_LIFE))


@pytest.mark.parametrize("types, summary", [
    ([], {"priceList": [0.0], "minPrice": 0.0, "isFree": True}),
    ([{"id": "a", "price": 30}, {"id": "b", "price": 15}], {"priceList": [15.0, 30.0], "minPrice": 15.0,
                                                            "isFree": False}),
    ([{"id": "a", "price": 50}, {"id": "b", "price": 0}], {"priceList": [0.0, 50.0], "minPrice": 0.0, "isFree": True}),
])
def test_price_summary(types, summary):
    assert price_summary(types) == summary


def stored_event(**fields):
    doc = {"_id": "e1", "status": "DRAFT", "creatorId": "org", "collaboratorIds": ["partner"], "title": "Night",
           "titleKey": "night", "tags": ["Club"], "date": FUTURE, "_version": 3,
           "location": {"name": "Club", "lat": 1.0, "lon": 2.0}, "geo": {"type": "Point", "coordinates": [2.0, 1.0]}}
    return {**doc, **fields}


def test_an_update_keeps_omitted_fields_and_clears_empties():
    update = model.EventUpdate.model_validate({"title": "New Night", "tags": [], "date": None})

    after, mongo = model.apply_update(stored_event(), update)

    assert after["title"] == "New Night" and after["titleKey"] == "new night"
    assert "tags" not in after and "date" not in after and after["collaboratorIds"] == ["partner"]
    assert mongo == {"$inc": {"_version": 1}, "$set": {"title": "New Night", "titleKey": "new night"},
                     "$unset": {"date": "", "tags": ""}}


def test_an_update_of_the_location_moves_or_drops_the_point():
    moved, _ = model.apply_update(stored_event(), model.EventUpdate.model_validate(
        {"location": {"city": "Rimini", "lat": 44.0, "lon": 12.5}}))
    dropped, mongo = model.apply_update(stored_event(), model.EventUpdate.model_validate({"location": {"city": "X"}}))

    assert moved["geo"] == {"type": "Point", "coordinates": [12.5, 44.0]}
    assert "geo" not in dropped and mongo["$unset"] == {"geo": ""}


def test_collaborators_can_be_cleared_and_never_include_the_creator():
    after, _ = model.apply_update(stored_event(), model.EventUpdate.model_validate({"collaboratorIds": ["org", "b"]}))
    cleared, _ = model.apply_update(stored_event(), model.EventUpdate.model_validate({"collaboratorIds": []}))

    assert after["collaboratorIds"] == ["b"] and cleared["collaboratorIds"] == []


@pytest.mark.parametrize("current, target, allowed", [
    ("DRAFT", "DRAFT", True), ("DRAFT", "PUBLISHED", True), ("DRAFT", "CANCELLED", False),
    ("PUBLISHED", "PUBLISHED", True), ("PUBLISHED", "CANCELLED", True), ("PUBLISHED", "DRAFT", False),
    ("PUBLISHED", "COMPLETED", False), ("CANCELLED", "CANCELLED", True), ("CANCELLED", "PUBLISHED", False),
    ("COMPLETED", "COMPLETED", False),
])
def test_transitions(current, target, allowed):
    if allowed:
        model.check_transition(current, target)
    else:
        with pytest.raises(Conflict):
            model.check_transition(current, target)


def test_publishing_needs_the_fields_and_a_future_date():
    problems = model.publish_problems({"title": "T", "date": PAST}, NOW)

    assert problems == [{"field": "description", "message": "required to publish"},
                        {"field": "location", "message": "required to publish"},
                        {"field": "date", "message": "must be in the future to publish"}]
    assert model.publish_problems({"title": "T", "description": "d", "location": {"city": "c"},
                                   "date": PAST}, NOW, future_date=False) == []


def request(**query):
    values = {k: v if isinstance(v, list) else [v] for k, v in query.items()}
    return SimpleNamespace(query=values, query_one=lambda name, default=None: (values.get(name) or [default])[-1])


def test_statuses_are_split_repeated_and_case_insensitive():
    assert search.parse_query(request(status=["published,Cancelled", "draft"])).statuses == [
        "PUBLISHED", "CANCELLED", "DRAFT"]


def test_drafts_are_restricted_to_the_viewer_however_status_is_spelt():
    query = search.parse_query(request(status="DRAFT,PUBLISHED"))

    with pytest.raises(Unauthorized):
        search.visibility(query, None)
    assert search.visibility(query, "me")[1] == {"$or": [{"status": {"$ne": "DRAFT"}}, {"creatorId": "me"},
                                                         {"collaboratorIds": "me"}]}


def test_every_order_ends_with_the_id():
    for params in ({}, {"sortBy": "price"}, {"other": "popular"}, {"other": "recently_added", "sortBy": "title"}):
        assert search.order(search.parse_query(request(**params)))[-1] == ("_id", 1)


def test_limit_is_capped_and_reported():
    assert search.parse_query(request(limit="1000")).limit == search.MAX_LIMIT
    with pytest.raises(InvalidInput) as error:
        search.parse_query(request(limit="0", price="3,1", near="1,2,3"))
    assert {d["field"] for d in error.value.details} == {"limit", "price", "near"}


class Page:
    """A collection over a list, enough for ``search.run``: filters are looked up by identity."""

    def __init__(self, runs):
        self.runs = runs  # {id(filter): [docs]}

    def count_documents(self, where):
        return len(self.runs[id(where)])

    def find(self, where):
        docs = self.runs[id(where)]
        return SimpleNamespace(sort=lambda keys: self._cursor(docs), skip=lambda n: self._skip(docs, n))

    def _cursor(self, docs):
        return SimpleNamespace(skip=lambda n: self._skip(docs, n))

    def _skip(self, docs, n):
        return SimpleNamespace(limit=lambda k: docs[n:n + k])


@pytest.mark.parametrize("offset, limit", [(0, 2), (2, 2), (3, 2), (4, 3), (0, 10), (6, 2), (9, 2)])
def test_paging_across_runs_is_one_sequence(offset, limit):
    first, second = {"run": 1}, {"run": 2}
    segs = [search.Segment(first, [("date", 1)]), search.Segment(second, [("date", 1)])]
    collection = Page({id(first): ["a", "b", "c", "d"], id(second): ["e", "f", "g"]})

    items, more = search.run(collection, segs, offset, limit)

    whole = ["a", "b", "c", "d", "e", "f", "g"]
    assert items == whole[offset:offset + limit] and more == (offset + limit < len(whole))


def test_an_empty_location_form_is_no_location():
    assert model.EventUpdate.model_validate({"location": {"name": "", "city": None}}).location is None
    with pytest.raises(ValueError):
        model.EventUpdate.model_validate({"location": {"road": "Via Roma"}})
