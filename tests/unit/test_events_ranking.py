"""The events group's ranking figures, pure: the time-decayed popularity and the price summary."""
from datetime import timedelta

import pytest

import moments

from functions.events.ranking import EPOCH, HALF_LIFE, WEIGHTS, decayed_weight, price_summary, publication_score

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


def test_a_publication_is_worth_its_weight_at_its_moment():
    assert publication_score(NOW) == pytest.approx(decayed_weight("published", NOW))
    assert publication_score(NOW) / decayed_weight("like", NOW) == pytest.approx(WEIGHTS["published"])


def test_taking_a_weight_back_restores_the_score_exactly():
    """What a removed like does (an ``$inc`` of minus its weight at the time it was given)."""
    liked_at, before = NOW - timedelta(days=3), publication_score(NOW - timedelta(days=10))
    after = before + decayed_weight("like", liked_at) - decayed_weight("like", liked_at)
    assert after == pytest.approx(before)


def test_the_score_is_finite_for_decades():
    assert decayed_weight("participation", EPOCH + timedelta(days=365 * 18)) < float("inf")
