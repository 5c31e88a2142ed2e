"""GET /search (and GET /) on a seeded data set: visibility, filters, sorts stable across pages, ``near``,
prices from ``ticket-type.*``, the popular ranking from interactions, feed, and the tag catalogue.

Every seeded title carries a marker unique to the run, and every query is scoped by it (``query=`` or
``organizationId=``), so events other tests create never get in the way.
"""
import math
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

import moments
from events_support import Broker, Caller, handled
from integration_support import Api
from localrunner.bus import wait_until

BASE = moments.days_ahead(730, hour=0)  # the seeded week starts two years from today


def day(n: int) -> str:
    """``YYYY-MM-DD`` of the seeded week's day ``n``."""
    return moments.stored(BASE + timedelta(days=n))[:10]


def on(n: int, time: str) -> str:
    return f"{day(n)}T{time}"


SEED = [  # name, status, date, tags, (city, lat, lon), ticket prices
    ("techno", "PUBLISHED", on(1, "22:00:00"), ["DJ Set", "Club", "Electronic"], ("Bologna", 44.4949, 11.3426),
     [15, 30]),
    ("jazz", "PUBLISHED", on(2, "20:00:00"), ["Live Music", "Bar"], ("Milan", 45.4642, 9.19), []),
    ("rock", "PUBLISHED", on(3, "18:00:00"), ["Concert", "Rock", "Outdoor"], ("Rome", 41.9028, 12.4964), [40]),
    ("karaoke", "PUBLISHED", on(4, "21:00:00"), ["Karaoke", "Pub"], ("Cesena", 44.1396, 12.2464), [5]),
    ("dinner", "PUBLISHED", on(5, "20:30:00"), ["Dinner", "Show", "Restaurant"], ("Florence", None, None), [25]),
    ("beach", "PUBLISHED", on(6, "23:00:00"), ["Party", "Outdoor"], ("Rimini", 44.0678, 12.5695), [0, 50]),
    ("twin-a", "PUBLISHED", on(7, "21:00:00"), ["Party"], ("Ravenna", None, None), []),
    ("twin-b", "PUBLISHED", on(7, "21:00:00"), ["Party"], ("Ravenna", None, None), []),
    ("twin-c", "PUBLISHED", on(7, "21:00:00"), ["Party"], ("Ravenna", None, None), []),
    ("plan", "DRAFT", on(8, "21:00:00"), ["Party"], ("Forli", None, None), []),
    ("gig", "CANCELLED", on(9, "21:00:00"), ["Concert"], ("Parma", 44.8015, 10.3279), []),
]
PUBLISHED = ["techno", "jazz", "rock", "karaoke", "dinner", "beach", "twin-a", "twin-b", "twin-c"]


@dataclass
class Seeded:
    api: Api
    marker: str
    creator: Caller
    partner: Caller  # a collaborator of "techno" and of the draft "plan"
    stranger: Caller  # has a draft of its own with the marker
    ids: dict[str, str] = field(default_factory=dict)

    def name(self, event_id):
        return next(n for n, i in self.ids.items() if i == event_id)

    def search(self, caller=None, expect=200, **params):
        params.setdefault("query", self.marker)
        response = self.api.call("GET", "events", "/search", token=caller.token if caller else None, params=params)
        assert response.status_code == expect, response.text
        return response.json()

    def names(self, caller=None, **params):
        return [self.name(e["eventId"]) for e in self.search(caller, **params)["items"]]

    def all_pages(self, caller=None, limit=2, **params):
        names, offset = [], 0
        while True:
            page = self.search(caller, limit=limit, offset=offset, **params)
            names += [self.name(e["eventId"]) for e in page["items"]]
            assert page["limit"] == limit and page["offset"] == offset
            if not page["hasMore"]:
                return names
            assert len(page["items"]) == limit
            offset += limit


def _mint(platform, name):
    user_id = str(uuid.uuid4())
    return Caller(user_id, platform.idp.mint({"user_id": user_id, "preferred_username": name,
                                              "realm_access": {"roles": ["organization"]}}), name)


@pytest.fixture(scope="module")
def seeded(platform, mongo_client):
    """The data set, created through the API (tokens minted), priced and liked through the broker."""
    api, broker, db = Api(platform), Broker(platform.exchange, platform.signing_keys), mongo_client[platform.database("events")]
    marker = f"zq{uuid.uuid4().hex[:8]}"
    data = Seeded(api, marker, _mint(platform, "creator"), _mint(platform, "partner"), _mint(platform, "stranger"))
    broker.publish("user.created", {"id": data.partner.id, "username": "partner", "name": "Partner",
                                    "email": "p@example.org", "avatar": "", "bio": None, "interests": None,
                                    "language": "en", "role": "organization"}, sequence=1)
    assert wait_until(lambda: db["users"].find_one({"_id": data.partner.id}), timeout=10)
    for name, status, date, tags, (city, lat, lon), _ in SEED:
        location = {"name": f"{name} venue", "city": city, **({"lat": lat, "lon": lon} if lat is not None else {})}
        title = f"{marker} {name.upper() if name == 'dinner' else name}"  # one title in capitals
        body = {"title": title, "description": f"The {name} night", "date": date, "tags": tags,
                "location": location, "status": "DRAFT" if status == "DRAFT" else "PUBLISHED"}
        if name in ("techno", "plan"):
            body["collaboratorIds"] = [data.partner.id]
        response = api.call("POST", "events", "/", token=data.creator.token, json=body)
        assert response.status_code == 201, response.text
        data.ids[name] = response.json()["eventId"]
        if status == "CANCELLED":
            assert api.call("DELETE", "events", f"/{data.ids[name]}", token=data.creator.token).status_code == 200
    response = api.call("POST", "events", "/", token=data.stranger.token,
                        json={"title": f"{marker} stranger-draft", "date": on(1, "10:00:00")})
    data.ids["stranger-draft"] = response.json()["eventId"]
    for name, *_, prices in SEED:
        for price in prices:
            broker.publish("ticket-type.created", {"eventId": data.ids[name], "ticketTypeId": f"tt-{uuid.uuid4()}",
                                                   "price": price, "type": "STANDARD", "totalQuantity": 100},
                           sequence=1)
    priced = {data.ids[name]: sorted(float(p) for p in prices) for name, *_, prices in SEED if prices}
    assert wait_until(lambda: all(db["events"].find_one({"_id": i})["priceList"] == p for i, p in priced.items()),
                      timeout=20)
    # "rock" is the most popular (two orders, a like), then "karaoke" (two likes).
    for name, kind in (("rock", "payments.order.confirmed"), ("rock", "payments.order.confirmed"),
                       ("rock", "interactions.like.created"), ("karaoke", "interactions.like.created"),
                       ("karaoke", "interactions.like.created")):
        broker.publish(kind, interaction(kind, data.ids[name]))
    assert wait_until(lambda: db["events"].find_one({"_id": data.ids["karaoke"]}).get("likes") == 2
                      and db["events"].find_one({"_id": data.ids["rock"]}).get("participations") == 2, timeout=20)
    yield data
    broker.close()
    api.client.close()


def interaction(kind, event_id):
    user = str(uuid.uuid4())
    if kind == "payments.order.confirmed":
        return {"orderId": f"order-{uuid.uuid4()}", "userId": user, "eventId": event_id}
    return {"creatorId": "someone", "eventId": event_id, "eventName": "x", "userId": user, "userName": "u",
            "userAvatar": ""}


# ---- visibility ---------------------------------------------------------------------------------------------------

def test_the_public_sees_published_events_by_date(seeded):
    page = seeded.search()

    twins = sorted(["twin-a", "twin-b", "twin-c"], key=seeded.ids.get)  # one date: by id
    assert [seeded.name(e["eventId"]) for e in page["items"]] == PUBLISHED[:6] + twins
    assert page["limit"] == 20 and page["offset"] == 0 and page["hasMore"] is False
    assert set(page) == {"items", "limit", "offset", "hasMore"}


def test_drafts_need_a_token(seeded):
    seeded.search(status="DRAFT", expect=401)
    seeded.search(status="DRAFT,PUBLISHED", expect=401)  # the reference's loophole
    seeded.search(status=["PUBLISHED", "DRAFT"], expect=401)


@pytest.mark.parametrize("status", ["DRAFT,PUBLISHED", "draft", "PUBLISHED,DRAFT,CANCELLED,COMPLETED"])
def test_drafts_are_only_ever_the_callers_own_or_collaborations(seeded, status):
    drafts = {"plan", "stranger-draft"}

    assert drafts & set(seeded.names(seeded.creator, status=status)) == {"plan"}
    assert drafts & set(seeded.names(seeded.partner, status=status)) == {"plan"}  # a collaborator
    assert drafts & set(seeded.names(seeded.stranger, status=status)) == {"stranger-draft"}
    assert drafts & set(seeded.names(seeded.stranger, status=status, organizationId=seeded.creator.id)) == set()


def test_an_organization_searching_its_own_events_sees_all_of_them(seeded):
    own = seeded.names(seeded.creator, organizationId=seeded.creator.id, query="")
    assert set(own) == {name for name, *_ in SEED}
    assert set(seeded.names(organizationId=seeded.creator.id, query="")) == set(PUBLISHED)  # the public: published


def test_organization_id_matches_creator_or_collaborator(seeded):
    assert seeded.names(organizationId=seeded.partner.id, query="") == ["techno"]
    assert seeded.names(seeded.partner, organizationId=seeded.partner.id, query="") == ["techno", "plan"]


def test_explicit_statuses_are_honoured(seeded):
    assert seeded.names(status="CANCELLED") == ["gig"]
    assert seeded.names(status="PUBLISHED,CANCELLED")[-1] == "gig"


# ---- filters ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("params, expected", [
    ({"title": "BEACH"}, ["beach"]),
    ({"query": "rimini"}, ["beach"]),  # the location's city
    ({"query": "karaoke venue"}, ["karaoke"]),  # the location's name
    ({"city": "ravenna"}, ["twin-a", "twin-b", "twin-c"]),
    ({"location_name": "JAZZ ven"}, ["jazz"]),
    ({"tags": "outdoor"}, ["rock", "beach"]),
    ({"tags": "Outdoor,Pub"}, ["rock", "karaoke", "beach"]),
    ({"startDate": on(2, "00:00:00"), "endDate": on(4, "23:59:59")}, ["jazz", "rock", "karaoke"]),
    ({"startDate": day(6)}, ["beach", "twin-a", "twin-b", "twin-c"]),
    ({"price": "0,0"}, ["jazz", "beach", "twin-a", "twin-b", "twin-c"]),  # free: no tickets, or a free ticket
    ({"price": "10,30"}, ["techno", "dinner"]),
    ({"price": "35,Infinity"}, ["rock", "beach"]),
    ({"other": "upcoming"}, PUBLISHED),
    ({"tags": "No Such Tag"}, []),  # matches nothing, as in the reference
    ({"tags": "No Such Tag,karaoke"}, ["karaoke"]),
])
def test_filters(seeded, params, expected):
    scoped = {"title": seeded.marker, **params} if "query" in params else params
    names = seeded.names(**scoped)
    twins = [n for n in names if n.startswith("twin")]
    assert [n for n in names if not n.startswith("twin")] == [n for n in expected if not n.startswith("twin")]
    assert sorted(twins) == sorted(n for n in expected if n.startswith("twin"))


@pytest.mark.parametrize("params, fields", [
    ({"limit": "0"}, {"limit"}),
    ({"offset": "-1", "limit": "x"}, {"offset", "limit"}),
    ({"status": "SOLD_OUT"}, {"status"}),
    ({"startDate": "tomorrow", "endDate": f"{BASE.year}-13-01"}, {"startDate", "endDate"}),
    ({"startDate": day(5), "endDate": day(1)}, {"startDate"}),
    ({"sortBy": "likes", "sortOrder": "up"}, {"sortBy", "sortOrder"}),
    ({"other": "trending"}, {"other"}),
    ({"near": "44.1"}, {"near"}),
    ({"near": "95,10"}, {"near"}),
    ({"price": "30,10"}, {"price"}),
])
def test_bad_parameters_are_400_naming_each(seeded, params, fields):
    body = seeded.search(expect=400, **params)
    assert {d["field"] for d in body["details"]} == fields


# ---- order and pages ----------------------------------------------------------------------------------------------

def test_equal_dates_are_ordered_by_id(seeded):
    twins = [seeded.ids[n] for n in ("twin-a", "twin-b", "twin-c")]
    assert [e["eventId"] for e in seeded.search(city="Ravenna")["items"]] == sorted(twins)


@pytest.mark.parametrize("params", [{}, {"sortBy": "price"}, {"sortBy": "price", "sortOrder": "desc"},
                                    {"sortBy": "title", "sortOrder": "desc"}, {"other": "recently_added"},
                                    {"other": "popular"}, {"other": "feed", "tags": "Party,Karaoke"},
                                    {"near": "44.14,12.24"}])
def test_pages_follow_one_stable_order(seeded, params):
    whole = seeded.names(**params)

    assert sorted(whole) == sorted(PUBLISHED)
    assert seeded.all_pages(limit=2, **params) == whole
    assert seeded.all_pages(limit=4, **params) == whole


def test_sort_by_price_uses_the_lowest_ticket_price_then_date(seeded):
    ascending = seeded.names(sortBy="price")
    descending = seeded.names(sortBy="price", sortOrder="desc")

    free = ["jazz", "beach", "twin-a", "twin-b", "twin-c"]  # 0, then by date (twins by id)
    assert ascending[:2] == free[:2] and sorted(ascending[2:5]) == free[2:] and ascending[5:] == ["karaoke",
                                                                                                "techno", "dinner",
                                                                                                "rock"]
    assert descending[:4] == ["rock", "dinner", "techno", "karaoke"] and descending[4:6] == ["jazz", "beach"]


def test_sort_by_title_ignores_case(seeded):
    assert seeded.names(sortBy="title")[:3] == ["beach", "dinner", "jazz"]  # "DINNER" between "beach" and "jazz"
    assert seeded.names(sortBy="title", sortOrder="desc")[:4] == ["twin-c", "twin-b", "twin-a", "techno"]


def test_other_takes_precedence_over_near(seeded):
    assert seeded.names(other="popular", near="44.14,12.24") == seeded.names(other="popular")


def test_recently_added_is_newest_first(seeded):
    assert seeded.names(other="recently_added")[:2] == ["twin-c", "twin-b"]


def test_popular_ranks_participations_likes_and_recency(seeded):
    ranked = seeded.names(other="popular")

    assert ranked[:2] == ["rock", "karaoke"]
    assert ranked[2] == "twin-c"  # then the most recently published


def test_feed_puts_the_given_interests_first(seeded):
    ranked = seeded.names(other="feed", tags="Karaoke,Party,Stargazing")  # interests are free strings

    assert ranked[:2] == ["karaoke", "beach"] and sorted(ranked[2:5]) == ["twin-a", "twin-b", "twin-c"]
    assert ranked[5:] == ["techno", "jazz", "rock", "dinner"]


# ---- near ---------------------------------------------------------------------------------------------------------

def km(a, b):
    (lat1, lon1), (lat2, lon2) = (map(math.radians, p) for p in (a, b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 12742 * math.asin(math.sqrt(h))


def test_near_puts_located_events_first_then_the_rest_by_date(seeded):
    ranked = seeded.names(near="44.14,12.24")

    located = {name for name, status, _, _, (_, lat, _), _ in SEED if lat is not None and name in PUBLISHED}
    assert set(ranked[:len(located)]) == located
    assert ranked[len(located)] == "dinner" and sorted(ranked[len(located) + 1:]) == ["twin-a", "twin-b", "twin-c"]


def test_near_orders_by_real_distance(seeded, mongo_client, request):
    if mongo_client.admin.command("hello").get("gitVersion") == "mongoeco":
        request.applymarker(pytest.mark.xfail(
            strict=False, reason="mongoeco 4.11 (the CI stand-in) accepts 2dsphere $near but returns insertion order "
                                 "(docs/store.md); this passes on real MongoDB"))
    here = (44.14, 12.24)
    where = {name: (lat, lon) for name, _, _, _, (_, lat, lon), _ in SEED if lat is not None and name in PUBLISHED}

    ranked = seeded.names(near=f"{here[0]},{here[1]}")[:len(where)]

    assert ranked == sorted(where, key=lambda n: km(here, where[n]))


# ---- prices and popularity from the broker ------------------------------------------------------------------------

def test_ticket_type_changes_move_the_price_and_duplicates_are_harmless(seeded, broker, events_db):
    event_id = seeded.ids["jazz"]
    type_id = f"tt-{uuid.uuid4()}"
    created = broker.publish("ticket-type.created", {"eventId": event_id, "ticketTypeId": type_id, "price": 12.5},
                             sequence=1)
    broker.publish("ticket-type.created", {"eventId": event_id, "ticketTypeId": type_id, "price": 12.5},
                   sequence=1, event_id=created.get_id())
    assert wait_until(lambda: handled(events_db, "events-mirror-prices", created), timeout=10)
    assert seeded.api.call("GET", "events", f"/{event_id}").json()["isFree"] is False
    assert "jazz" in seeded.names(price="10,15") and "jazz" not in seeded.names(price="0,0")

    updated = broker.publish("ticket-type.updated", {"ticketTypeId": type_id, "price": 20}, sequence=2)
    stale = broker.publish("ticket-type.updated", {"ticketTypeId": type_id, "price": 99}, sequence=1)
    assert wait_until(lambda: handled(events_db, "events-mirror-prices", updated)
                      and handled(events_db, "events-mirror-prices", stale), timeout=10)
    assert events_db["events"].find_one({"_id": event_id})["priceList"] == [20.0]

    deleted = broker.publish("ticket-type.deleted", {"ticketTypeId": type_id, "eventId": event_id}, sequence=3)
    assert wait_until(lambda: handled(events_db, "events-mirror-prices", deleted), timeout=10)
    late = broker.publish("ticket-type.created", {"eventId": event_id, "ticketTypeId": type_id, "price": 12.5},
                          sequence=1)  # a late duplicate after the deletion: must not bring it back
    assert wait_until(lambda: handled(events_db, "events-mirror-prices", late), timeout=10)
    doc = events_db["events"].find_one({"_id": event_id})
    assert doc["priceList"] == [0.0] and doc["isFree"] is True and doc["ticketTypes"] == []


def test_an_update_before_its_creation_is_retried_until_it_applies(seeded, broker, events_db):
    event_id = seeded.ids["twin-a"]
    type_id = f"tt-{uuid.uuid4()}"

    updated = broker.publish("ticket-type.updated", {"ticketTypeId": type_id, "price": 8}, sequence=2)
    created = broker.publish("ticket-type.created", {"eventId": event_id, "ticketTypeId": type_id, "price": 6},
                             sequence=1)

    assert wait_until(lambda: handled(events_db, "events-mirror-prices", updated)
                      and handled(events_db, "events-mirror-prices", created), timeout=15)
    doc = events_db["events"].find_one({"_id": event_id})
    assert [t["price"] for t in doc["ticketTypes"] if t["id"] == type_id] == [8.0]
    broker.publish("ticket-type.deleted", {"ticketTypeId": type_id}, sequence=3)  # leave the seed as it was
    assert wait_until(lambda: events_db["events"].find_one({"_id": event_id})["priceList"] == [0.0], timeout=15)


def test_a_repeated_interaction_counts_once(seeded, broker, events_db):
    event_id = seeded.ids["dinner"]
    before = events_db["events"].find_one({"_id": event_id})
    like = broker.publish("interactions.like.created", interaction("interactions.like.created", event_id))

    broker.publish("interactions.like.created", like.get_data(), event_id=like.get_id())
    assert wait_until(lambda: handled(events_db, "events-count-interactions", like), timeout=10)

    after = events_db["events"].find_one({"_id": event_id})
    assert after["likes"] == before.get("likes", 0) + 1 and after["popularity"] > before["popularity"]


def test_interactions_with_unknown_events_are_ignored(broker, events_db):
    order = broker.publish("payments.order.confirmed", interaction("payments.order.confirmed", str(uuid.uuid4())))

    assert wait_until(lambda: handled(events_db, "events-count-interactions", order), timeout=10)


# ---- GET / and tags -----------------------------------------------------------------------------------------------

def test_list_is_published_events_by_date_in_pages(seeded):
    first = seeded.api.call("GET", "events", "/", params={"limit": 5}).json()
    assert first["limit"] == 5 and len(first["items"]) <= 5
    assert all(e["status"] == "PUBLISHED" for e in first["items"])
    dates = [e["date"] for e in first["items"]]
    assert dates == sorted(dates)
    assert seeded.api.call("GET", "events", "/", params={"limit": 0}).status_code == 400


def test_tags(seeded):
    catalogue = seeded.api.call("GET", "events", "/tags").json()
    assert [c["category"] for c in catalogue] == ["EventType", "Venue", "MusicStyle", "Special", "Target", "Extra"]
    assert catalogue[0]["tags"][:3] == ["Live Music", "Concert", "DJ Set"]
    assert seeded.api.call("GET", "events", "/tags/Venue").json() == ["Club", "Pub", "Bar", "Restaurant", "Theatre",
                                                                      "Outdoor"]
    assert seeded.api.call("GET", "events", "/tags/venue").json() == []  # categories are case-sensitive
