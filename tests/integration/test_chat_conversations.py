"""Starting conversations and finding them: one per pair whoever starts it, the pairing rules, owner-only reads,
the event on the wire, and bad requests that write nothing."""
import uuid

import pytest

from chat_support import (
    AVATAR,
    broker,  # noqa: F401
    chat_db,  # noqa: F401
    chat_user,
    conversations,
    created_on_wire,
    ledger_count,
    send,
    someone,  # noqa: F401
    start,
    started,
    unread,
)
from localrunner.bus import wait_until


def test_a_member_starts_a_conversation_with_an_organization(api, someone, chat_db, tap):
    wire = tap("chat.message.created")
    member, org = someone("member"), someone("organization")

    response = start(api, member, org.id, "Is there a dress code?")

    assert response.status_code == 201, response.text
    sent = response.json()
    assert set(sent) == {"id", "conversationId", "senderId", "content", "createdAt"}
    assert (sent["senderId"], sent["content"]) == (member.id, "Is there a dress code?")
    assert sent["createdAt"].endswith("Z")
    conversation = chat_db["conversations"].find_one({"_id": sent["conversationId"]})
    assert (conversation["organizationId"], conversation["userId"]) == (org.id, member.id)
    assert conversation["participants"] == sorted([org.id, member.id])
    assert conversation["sent"] == {member.id: 1} and conversation.get("read", {}) == {}
    assert created_on_wire(wire.settle()) == [{
        "receiverId": org.id, "conversationId": sent["conversationId"], "senderId": member.id,
        "senderName": member.name, "message": "Is there a dress code?", "messageId": sent["id"],
        "senderAvatar": AVATAR.format(member.id), "createdAt": sent["createdAt"]}]
    assert unread(api, org) == 1 and unread(api, member) == 0


def test_either_side_starting_again_lands_in_the_one_conversation(api, someone, chat_db):
    member, org = someone("member"), someone("organization")

    first = started(api, member, org, "Hi from the member")
    second = started(api, org, member, "Hi from the organization")
    third = started(api, member, org, "And again")

    assert first["conversationId"] == second["conversationId"] == third["conversationId"]
    assert chat_db["conversations"].count_documents({"participants": member.id}) == 1
    conversation = chat_db["conversations"].find_one({"_id": first["conversationId"]})
    assert conversation["sent"] == {member.id: 2, org.id: 1}
    assert (conversation["organizationId"], conversation["userId"]) == (org.id, member.id)
    assert unread(api, org) == 2 and unread(api, member) == 1


def test_both_sides_starting_at_the_same_moment_converge(api, someone, chat_db, concurrently):
    member, org = someone("member"), someone("organization")
    pairs = [(member, org), (org, member)] * 4

    answers = concurrently(len(pairs), lambda i: start(api, pairs[i][0], pairs[i][1].id, f"race {i}"))

    assert [a.status_code for a in answers] == [201] * len(pairs), [a.text for a in answers]
    assert len({a.json()["conversationId"] for a in answers}) == 1
    assert chat_db["conversations"].count_documents({"participants": {"$in": [member.id, org.id]}}) == 1
    conversation = chat_db["conversations"].find_one({"_id": answers[0].json()["conversationId"]})
    assert conversation["sent"] == {member.id: 4, org.id: 4}
    assert unread(api, member) == 4 and unread(api, org) == 4


def test_two_organizations_talk_with_the_smaller_id_as_organization(api, someone, chat_db):
    one, other = someone("organization"), someone("organization")
    smaller, larger = sorted([one.id, other.id])

    sent = started(api, one, other)

    conversation = chat_db["conversations"].find_one({"_id": sent["conversationId"]})
    assert (conversation["organizationId"], conversation["userId"]) == (smaller, larger)


def test_two_members_may_not_talk_and_nothing_is_written(api, someone, chat_db, tap):
    wire = tap("chat.message.created")
    one, other = someone("member"), someone("member")
    before = (chat_db["messages"].count_documents({}), ledger_count(chat_db, "chat-start-conversation"))

    response = start(api, one, other.id)

    assert response.status_code == 403 and response.json()["error"] == "forbidden"
    assert "two members" in response.json()["message"]
    assert (chat_db["messages"].count_documents({}), ledger_count(chat_db, "chat-start-conversation")) == before
    assert chat_db["conversations"].count_documents({"participants": one.id}) == 0
    assert created_on_wire(wire.settle()) == []


def test_the_callers_role_comes_from_the_token_not_the_mirror(api, someone, chat_db):
    member, other = someone("member"), someone("member")
    chat_db["users"].update_one({"_id": member.id}, {"$set": {"role": "organization"}})  # a wrong mirror

    assert start(api, member, other.id).status_code == 403


@pytest.mark.parametrize("body, field", [
    ({"recipientId": "x"}, "content"),
    ({"content": "hi"}, "recipientId"),
    ({"recipientId": "x", "content": ""}, "content"),
    ({"recipientId": "x", "content": "   "}, "content"),
    ({"recipientId": "x", "content": "a" * 10_001}, "content"),
    ({"recipientId": "x" * 201, "content": "hi"}, "recipientId"),
    ({"recipientId": "x", "content": "hi", "userId": "x"}, "userId"),
    ({"recipientId": "x", "content": 42}, "content"),
])
def test_bad_bodies_are_400_naming_the_field_and_write_nothing(api, someone, chat_db, body, field):
    member = someone("member")
    before = (chat_db["messages"].count_documents({}), ledger_count(chat_db, "chat-start-conversation"))

    response = api.call("POST", "chat", f"/users/{member.id}/conversations", token=member.token, json=body)

    assert response.status_code == 400, response.text
    assert [d["field"] for d in response.json()["details"]] == [field]
    assert (chat_db["messages"].count_documents({}), ledger_count(chat_db, "chat-start-conversation")) == before


def test_content_of_ten_thousand_characters_is_accepted(api, someone):
    member, org = someone("member"), someone("organization")

    assert start(api, member, org.id, "a" * 10_000).status_code == 201


def test_unknown_query_parameters_on_a_start_are_400(api, someone):
    member, org = someone("member"), someone("organization")

    response = api.call("POST", "chat", f"/users/{member.id}/conversations", token=member.token,
                        params={"debug": "1"}, json={"recipientId": org.id, "content": "hi"})

    assert response.status_code == 400 and response.json()["details"][0]["field"] == "debug"


def test_an_unknown_recipient_is_404_and_yourself_is_400(api, someone):
    member = someone("member")

    unknown = start(api, member, str(uuid.uuid4()))
    yourself = start(api, member, member.id)

    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    assert yourself.status_code == 400 and yourself.json()["details"][0]["field"] == "recipientId"


def test_starting_for_someone_else_is_403_and_without_a_token_401(api, someone):
    member, other, org = someone("member"), someone("member"), someone("organization")

    spoofed = api.call("POST", "chat", f"/users/{other.id}/conversations", token=member.token,
                       json={"recipientId": org.id, "content": "hi"})
    anonymous = api.call("POST", "chat", f"/users/{member.id}/conversations",
                         json={"recipientId": org.id, "content": "hi"})

    assert spoofed.status_code == 403 and anonymous.status_code == 401


def test_a_recipient_the_mirror_has_not_seen_yet_is_read_through(api, chat_db):
    member_account, org_account = api.register("member"), api.register("organization")
    for account in (member_account, org_account):  # the users group's user.created reached the mirror...
        assert wait_until(lambda: chat_db["users"].find_one({"_id": account["id"], "_seq": {"$gte": 1}}))
    chat_db["users"].delete_one({"_id": org_account["id"]})  # ...but pretend it has not yet for the organization

    response = api.call("POST", "chat", f"/users/{member_account['id']}/conversations",
                        token=member_account["accessToken"], json={"recipientId": org_account["id"], "content": "hi"})

    assert response.status_code == 201, response.text
    seeded = chat_db["users"].find_one({"_id": org_account["id"]})
    assert seeded["role"] == "organization" and seeded["name"] and seeded["_seq"] in (0, 1)


def test_retrying_a_start_with_its_key_sends_one_message(api, someone, chat_db, tap):
    wire = tap("chat.message.created")
    member, org = someone("member"), someone("organization")
    key = f"start-{uuid.uuid4()}"

    first = start(api, member, org.id, "once", key=key)
    second = start(api, member, org.id, "once", key=key)

    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert chat_db["messages"].count_documents({"conversationId": first.json()["conversationId"]}) == 1
    assert [m["messageId"] for m in created_on_wire(wire.settle())] == [first.json()["id"]]
    assert unread(api, org) == 1


# ---- listing and finding ------------------------------------------------------------------------------------------

def test_conversations_list_newest_activity_first_with_names_and_unread(api, someone):
    member, first_org, second_org = someone("member"), someone("organization"), someone("organization")
    older = started(api, member, first_org, "first")
    newer = started(api, member, second_org, "second")
    send(api, second_org, newer["conversationId"], "answer")

    response = conversations(api, member)

    assert response.status_code == 200
    body = response.json()
    assert (body["totalItems"], body["limit"], body["offset"], body["hasMore"]) == (2, 20, 0, False)
    assert [c["id"] for c in body["items"]] == [newer["conversationId"], older["conversationId"]]
    top = body["items"][0]
    assert top["organization"] == chat_user(second_org) and top["member"] == chat_user(member)
    assert top["lastMessage"]["content"] == "answer" and top["lastMessage"]["senderId"] == second_org.id
    assert top["lastMessage"]["timestamp"].endswith("Z") and top["unreadCount"] == 1
    assert body["items"][1]["unreadCount"] == 0

    send(api, member, older["conversationId"], "bump")
    assert [c["id"] for c in conversations(api, member).json()["items"]] == [older["conversationId"],
                                                                              newer["conversationId"]]


def test_conversations_are_paged(api, someone):
    member = someone("member")
    ids = [started(api, member, someone("organization"))["conversationId"] for _ in range(3)]

    first = conversations(api, member, limit=2).json()
    second = conversations(api, member, limit=2, offset=2).json()

    assert [c["id"] for c in first["items"] + second["items"]] == list(reversed(ids))
    assert (first["hasMore"], second["hasMore"], first["totalItems"]) == (True, False, 3)


def test_one_conversation_for_its_participants_only(api, someone):
    member, org, stranger = someone("member"), someone("organization"), someone("organization")
    conversation_id = started(api, member, org)["conversationId"]

    mine = api.call("GET", "chat", f"/users/{org.id}/conversations/{conversation_id}", token=org.token)
    theirs = api.call("GET", "chat", f"/users/{stranger.id}/conversations/{conversation_id}", token=stranger.token)
    spoofed = api.call("GET", "chat", f"/users/{org.id}/conversations/{conversation_id}", token=stranger.token)
    unknown = api.call("GET", "chat", f"/users/{org.id}/conversations/conv_nope", token=org.token)

    assert mine.status_code == 200 and mine.json()["id"] == conversation_id and mine.json()["unreadCount"] == 1
    assert mine.json()["organization"] == chat_user(org) and mine.json()["lastMessage"]["content"] == "Hello!"
    assert (theirs.status_code, spoofed.status_code, unknown.status_code) == (404, 403, 404)


def test_the_pair_lookup_finds_the_conversation_either_way_round(api, someone):
    member, org, stranger = someone("member"), someone("organization"), someone("organization")
    conversation_id = started(api, member, org)["conversationId"]

    as_spa = api.call("GET", "chat", f"/conversations/{org.id}/{member.id}", token=member.token)
    reversed_ = api.call("GET", "chat", f"/conversations/{member.id}/{org.id}", token=org.token)
    stranger_call = api.call("GET", "chat", f"/conversations/{org.id}/{member.id}", token=stranger.token)
    none_yet = api.call("GET", "chat", f"/conversations/{stranger.id}/{member.id}", token=member.token)

    assert as_spa.status_code == 200 and reversed_.json() == as_spa.json()
    body = as_spa.json()
    assert set(body) == {"id", "organization", "member", "createdAt", "updatedAt"}
    assert body["id"] == conversation_id and body["organization"] == chat_user(org)
    assert body["member"] == chat_user(member)
    assert (stranger_call.status_code, none_yet.status_code) == (403, 404)


ROUTES = [  # every chat route: (method, path with {me}, {other}, {conversation}, body)
    ("POST", "/users/{me}/conversations", {"recipientId": "{other}", "content": "hi"}),
    ("GET", "/users/{me}/conversations", None),
    ("GET", "/users/{me}/conversations/search", None),
    ("GET", "/users/{me}/conversations/{conversation}", None),
    ("GET", "/users/{me}/unread/count", None),
    ("POST", "/users/{me}/conversations/{conversation}/messages", {"content": "hi"}),
    ("GET", "/users/{me}/conversations/{conversation}/messages", None),
    ("PATCH", "/users/{me}/conversations/{conversation}/read", {}),
    ("GET", "/conversations/{other}/{me}", None),
    ("GET", "/conversations/{other}/{me}/messages", None),
]


def fill(template, **ids):
    return {k: v.format(**ids) for k, v in template.items()} if isinstance(template, dict) else template.format(**ids)


@pytest.mark.parametrize("method, path, body", ROUTES)
def test_every_route_needs_a_token_and_is_owner_only(api, someone, chat_db, method, path, body):
    member, org, stranger = someone("member"), someone("organization"), someone("organization")
    conversation_id = started(api, member, org)["conversationId"]
    ids = {"me": member.id, "other": org.id, "conversation": conversation_id}
    before = chat_db["messages"].count_documents({"conversationId": conversation_id})

    anonymous = api.call(method, "chat", fill(path, **ids), json=fill(body, **ids) if body is not None else None)
    foreign = api.call(method, "chat", fill(path, **ids), token=stranger.token,
                       json=fill(body, **ids) if body is not None else None)

    assert anonymous.status_code == 401 and anonymous.json()["error"] == "unauthorized"
    assert foreign.status_code == 403 and foreign.json()["error"] == "forbidden"
    assert chat_db["messages"].count_documents({"conversationId": conversation_id}) == before
    assert unread(api, org) == 1  # a stranger's read cleared nothing


@pytest.mark.parametrize("method, path, body", ROUTES)
def test_every_route_refuses_unknown_query_parameters(api, someone, method, path, body):
    member, org = someone("member"), someone("organization")
    conversation_id = started(api, member, org)["conversationId"]
    ids = {"me": member.id, "other": org.id, "conversation": conversation_id}

    response = api.call(method, "chat", fill(path, **ids), token=member.token, params={"userId": member.id},
                        json=fill(body, **ids) if body is not None else None)

    assert response.status_code == 400 and response.json()["details"] == [
        {"field": "userId", "message": "unknown query parameter"}]


@pytest.mark.parametrize("path", ["/users/{me}/conversations", "/users/{me}/conversations/search"])
def test_list_paging_is_checked(api, someone, path):
    member = someone("member")

    response = api.call("GET", "chat", path.format(me=member.id), token=member.token,
                        params={"limit": "0", "offset": "x"})

    assert response.status_code == 400
    assert sorted(d["field"] for d in response.json()["details"]) == ["limit", "offset"]


def test_health(api):
    response = api.call("GET", "chat", "/health")

    assert response.status_code == 200 and response.json() == {"status": "OK"}
