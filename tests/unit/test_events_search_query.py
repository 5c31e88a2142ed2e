"""The events search, pure: parsing the query string, visibility, filters, the total order and paging across runs."""
import math
from types import SimpleNamespace

import pytest

import moments
from runtime.errors import InvalidInput, Unauthorized

from functions.events import search

NOW = moments.days_ahead(0, hour=18)
DAY1, DAY2 = (moments.stored(moments.days_ahead(n))[:10] for n in (10, 11))  # YYYY-MM-DD


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


def test_every_bad_parameter_is_reported_at_once():
    with pytest.raises(InvalidInput) as error:
        search.parse_query(request(status="SOLD_OUT", startDate="tomorrow", endDate="never", sortBy="likes",
                                   sortOrder="up", other="trending", near="95,10", price="nan,1", offset="-1"))
    assert {d["field"] for d in error.value.details} == {"status", "startDate", "endDate", "sortBy", "sortOrder",
                                                         "other", "near", "price", "offset"}


def test_dates_are_the_stored_form_and_ordered():
    query = search.parse_query(request(startDate=DAY1, endDate=f"{DAY2}T04:05"))
    assert (query.start_date, query.end_date) == (f"{DAY1}T00:00:00", f"{DAY2}T04:05:00")
    with pytest.raises(InvalidInput) as error:
        search.parse_query(request(startDate=DAY2, endDate=DAY1))
    assert [d["field"] for d in error.value.details] == ["startDate"]


def test_unknown_tags_filter_to_nothing_and_known_ones_are_canonical():
    unknown = search.parse_query(request(tags="No Such Tag"))
    mixed = search.parse_query(request(tags="no such tag,karaoke, OUTDOOR"))

    assert {"tags": {"$in": []}} in search.filters(unknown, None, NOW)
    assert mixed.tags == ["Karaoke", "Outdoor"] and {"tags": {"$in": ["Karaoke", "Outdoor"]}} in search.filters(
        mixed, None, NOW)


def test_free_text_is_matched_literally_without_case():
    clauses = search.filters(search.parse_query(request(query="a.b(c")), None, NOW)
    assert {"$or": [{"title": {"$regex": r"a\.b\(c", "$options": "i"}},
                    {"location.name": {"$regex": r"a\.b\(c", "$options": "i"}},
                    {"location.city": {"$regex": r"a\.b\(c", "$options": "i"}}]} in clauses


def test_upcoming_never_reaches_back_before_now():
    past_start = search.parse_query(request(other="upcoming", startDate=moments.PAST))
    (dates,) = [c["date"] for c in search.filters(past_start, None, NOW) if "date" in c]
    assert dates == {"$gte": moments.stored(NOW)}


def test_a_price_range_may_be_open_ended():
    closed = search.filters(search.parse_query(request(price="10,30")), None, NOW)
    open_ended = search.filters(search.parse_query(request(price="35,Infinity")), None, NOW)
    assert {"priceList": {"$elemMatch": {"$gte": 10.0, "$lte": 30.0}}} in closed
    assert {"priceList": {"$elemMatch": {"$gte": 35.0}}} in open_ended
    assert math.isinf(search.parse_query(request(price="35,Infinity")).price[1])


def test_an_organization_searching_its_own_events_sees_every_status():
    own = search.parse_query(request(organizationId="org"))
    assert search.visibility(own, "org")[0] == {"status": {"$in": ["DRAFT", "PUBLISHED", "COMPLETED", "CANCELLED"]}}
    assert search.visibility(own, "someone else") == [{"status": {"$in": ["PUBLISHED"]}}]
    assert {"$or": [{"creatorId": "org"}, {"collaboratorIds": "org"}]} in search.filters(own, None, NOW)


@pytest.mark.parametrize("params, keys", [
    ({}, [("date", 1), ("_id", 1)]),
    ({"sortBy": "title", "sortOrder": "desc"}, [("titleKey", -1), ("date", 1), ("_id", 1)]),
    ({"other": "popular"}, [("popularity", -1), ("date", 1), ("_id", 1)]),
    ({"other": "recently_added", "sortBy": "price"}, [("instant", -1), ("minPrice", 1), ("date", 1), ("_id", 1)]),
])
def test_orders_are_total(params, keys):
    assert search.order(search.parse_query(request(**params))) == keys


def test_near_and_feed_split_the_result_into_runs():
    near = search.segments(search.parse_query(request(near="44.1,12.5")), None, NOW)
    feed = search.segments(search.parse_query(request(other="feed", tags="Pub")), None, NOW)
    plain = search.segments(search.parse_query(request(tags="Pub")), None, NOW)

    assert near[0].sort is None and near[0].filter["geo"]["$near"]["$geometry"]["coordinates"] == [12.5, 44.1]
    assert {"geo": {"$exists": False}} in near[1].filter["$and"]
    assert [s.filter["$and"][-1] for s in feed] == [{"tags": {"$in": ["Pub"]}}, {"tags": {"$nin": ["Pub"]}}]
    assert len(plain) == 1 and {"tags": {"$in": ["Pub"]}} in plain[0].filter["$and"]
