"""Search: the caller's matching conversations first, then people of the opposite role to start one with
(``id: null``), paged as one list; names matched as text, never as a pattern."""
import json
import uuid

import pytest

from chat_support import (
    broker,  # noqa: F401
    chat_db,  # noqa: F401
    chat_user,
    search,
    someone,  # noqa: F401
    started,
)


@pytest.fixture
def tag():
    """A word unique to this test, so names match only this test's people in the shared mirror."""
    return uuid.uuid4().hex[:8]


def summary(response):
    assert response.status_code == 200, response.text
    return [(item["id"] is not None, item["organization"]["id"], item["member"]["id"])
            for item in response.json()["items"]]


def test_conversations_then_suggestions_of_the_opposite_role(api, someone, tag):
    member = someone("member", name=f"Dana {tag}")
    talked = someone("organization", name=f"Club {tag} Alpha")
    new_org = someone("organization", name=f"Club {tag} Beta")
    someone("member", name=f"Club {tag} Member")  # same role as the caller: never suggested
    started(api, member, talked)

    response = search(api, member, name=f"club {tag.upper()}")

    assert summary(response) == [(True, talked.id, member.id), (False, new_org.id, member.id)]
    body = response.json()
    assert (body["totalItems"], body["hasMore"]) == (2, False)
    suggestion = body["items"][1]
    assert suggestion == {"id": None, "organization": chat_user(new_org), "member": chat_user(member),
                          "lastMessage": None, "unreadCount": 0}
    assert body["items"][0]["lastMessage"]["content"] == "Hello!"


def test_an_organization_is_suggested_members(api, someone, tag):
    org = someone("organization", name=f"Org {tag}")
    member = someone("member", name=f"Guest {tag}")

    response = search(api, org, name=tag)

    assert summary(response) == [(False, org.id, member.id)]


def test_the_merged_list_pages_as_a_whole(api, someone, tag):
    member = someone("member", name=f"Pat {tag}")
    talked = [someone("organization", name=f"Venue {tag} {i}") for i in range(2)]
    strangers = [someone("organization", name=f"Venue {tag} {i}") for i in range(2, 5)]
    for org in talked:
        started(api, member, org)
    expected = [o.id for o in reversed(talked)] + [o.id for o in strangers]

    pages = [search(api, member, name=f"venue {tag}", limit=2, offset=offset).json() for offset in (0, 2, 4)]

    assert [item["organization"]["id"] for p in pages for item in p["items"]] == expected
    assert [p["hasMore"] for p in pages] == [True, True, False] and {p["totalItems"] for p in pages} == {5}
    assert [item["id"] is None for item in pages[1]["items"]] == [True, True]


def test_names_are_matched_as_text_not_as_patterns(api, someone, tag):
    member = someone("member", name=f"Sam {tag}")
    someone("organization", name=f"abc{tag}")
    dotted = someone("organization", name=f"a.c{tag}")

    literal = search(api, member, name=f"a.c{tag}")
    hostile = search(api, member, name=f"({tag}[")

    assert summary(literal) == [(False, dotted.id, member.id)]
    assert hostile.status_code == 200 and hostile.json()["items"] == []


def test_recipient_id_matches_the_start_of_the_partners_id(api, someone, tag):
    member = someone("member", name=f"Lou {tag}")
    org = someone("organization", name=f"Bar {tag}")
    started(api, member, org)

    hit = search(api, member, recipientId=org.id[:8].upper())

    assert summary(hit)[0] == (True, org.id, member.id)


def test_deleted_users_are_neither_suggested_nor_matched(api, someone, broker, chat_db, tag):
    from localrunner.bus import wait_until

    member = someone("member", name=f"Kim {tag}")
    gone = someone("organization", name=f"Gone {tag}")
    broker.publish("user.deleted", {"id": gone.id}, sequence=2)
    assert wait_until(lambda: chat_db["users"].find_one({"_id": gone.id, "deleted": True}))

    assert search(api, member, name=f"gone {tag}").json()["items"] == []


def test_a_gateway_sending_search_to_the_conversation_route_still_gets_search(platform, someone, tag):
    member = someone("member", name=f"Ash {tag}")
    org = someone("organization", name=f"Hall {tag}")
    headers = {"host": "chat.localhost", "authorization": f"Bearer {member.token}"}

    status, _, body = platform.platform.call_http(platform.spec("chat-get-conversation"), "GET",
                                                  f"/users/{member.id}/conversations/search", f"name={tag}", headers,
                                                  b"")

    assert status == 200
    assert [(i["id"], i["organization"]["id"]) for i in json.loads(body)["items"]] == [(None, org.id)]


def test_search_is_owner_only_and_strict(api, someone):
    member, other = someone("member"), someone("member")

    spoofed = api.call("GET", "chat", f"/users/{member.id}/conversations/search", token=other.token)
    unknown = search(api, member, query="x")
    too_long = search(api, member, name="n" * 101)

    assert spoofed.status_code == 403
    assert unknown.status_code == 400 and unknown.json()["details"][0]["field"] == "query"
    assert too_long.status_code == 400 and too_long.json()["details"][0]["field"] == "name"
