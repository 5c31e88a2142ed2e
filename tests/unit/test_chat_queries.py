"""The chat queries' pure parts: the search's one list of conversations then suggestions, names matched as text,
and whitelist-strict query parameters reported all at once."""
import re
from types import SimpleNamespace

import pytest

from runtime.contract import HttpRequest
from runtime.errors import InvalidInput

from functions.chat import access, search


@pytest.mark.parametrize("conversations, offset, limit, expected", [
    (5, 0, 3, (slice(0, 3), 0, 0)),  # conversations fill the page
    (2, 0, 5, (slice(0, 2), 0, 3)),  # then suggestions, as the reference's first page
    (2, 2, 3, (slice(2, 2), 0, 3)),  # a later page continues with the suggestions
    (2, 4, 3, (slice(2, 2), 2, 3)),
    (0, 0, 20, (slice(0, 0), 0, 20)),  # nothing matches: suggestions only
])
def test_the_page_splits_between_conversations_and_suggestions(conversations, offset, limit, expected):
    assert search.split_window(conversations, offset, limit) == expected


def test_names_and_id_prefixes_are_text_not_patterns():
    clauses = search.user_clauses("A.c(", "u1*")

    assert clauses[0] == {"deleted": {"$ne": True}}
    name_pattern, id_pattern = clauses[1]["nameKey"]["$regex"], clauses[2]["_id"]["$regex"]
    assert re.search(name_pattern, "xa.c(y") and not re.search(name_pattern, "abc(")
    assert re.search(id_pattern, "u1*9") and not re.search(id_pattern, "u19") and not re.search(id_pattern, "xu1*")
    assert search.user_clauses(None, None) == [{"deleted": {"$ne": True}}]


def ctx_with(query: dict[str, list[str]]):
    request = HttpRequest(method="GET", path="/", headers={}, query=query, body=b"")
    return SimpleNamespace(http=request)


def test_a_query_reads_paging_and_text_parameters():
    query = access.read_query(ctx_with({"limit": ["5"], "offset": ["10"], "name": ["  Club "]}), default_limit=20,
                              text=(("name", 100),))

    assert (query.limit, query.offset, query.values) == (5, 10, {"name": "Club"})
    assert access.read_query(ctx_with({"limit": ["500"]}), default_limit=20).limit == 100
    assert access.read_query(ctx_with({}), default_limit=50).limit == 50


def test_every_query_problem_is_reported_at_once():
    with pytest.raises(InvalidInput) as refused:
        access.read_query(ctx_with({"limit": ["0"], "offset": ["10001"], "page": ["2"], "name": ["a", "b"],
                                    "before": ["x" * 201]}), default_limit=20, text=(("name", 100), ("before", 200)))

    assert sorted(d["field"] for d in refused.value.details) == ["before", "limit", "name", "offset", "page"]


def test_a_route_without_paging_takes_no_parameters():
    with pytest.raises(InvalidInput) as refused:
        access.read_query(ctx_with({"limit": ["5"]}))

    assert refused.value.details == [{"field": "limit", "message": "unknown query parameter"}]
