"""Messages: sending into a conversation, reading pages newest first, read markers and unread counts, owner-only
access, whitelist-strict queries, and sends that crash half-way and are retried."""
import uuid

import pytest

from chat_support import (
    broker,  # noqa: F401
    chat_db,  # noqa: F401
    chat_user,
    created_on_wire,
    ledger_count,
    mark_read,
    messages,
    send,
    someone,  # noqa: F401
    started,
    unread,
)


@pytest.fixture
def pair(api, someone):
    """A member and an organization with a conversation the member started ("Hello!")."""
    member, org = someone("member"), someone("organization")
    return member, org, started(api, member, org)["conversationId"]


def contents(response):
    assert response.status_code == 200, response.text
    return [m["content"] for m in response.json()["items"]]


def test_a_participant_sends_a_message(api, pair, tap):
    wire = tap("chat.message.created")
    member, org, conversation_id = pair

    response = send(api, org, conversation_id, "Yes: smart casual.")

    assert response.status_code == 201, response.text
    sent = response.json()
    assert (sent["conversationId"], sent["senderId"], sent["content"]) == (conversation_id, org.id,
                                                                         "Yes: smart casual.")
    events = created_on_wire(wire.settle())
    assert [(e["receiverId"], e["senderId"], e["messageId"], e["senderName"]) for e in events] == [
        (member.id, org.id, sent["id"], org.name)]
    assert unread(api, member) == 1 and unread(api, org) == 1


def test_strangers_cannot_send_read_or_mark_someone_elses_conversation(api, pair, someone, chat_db):
    member, org, conversation_id = pair
    stranger = someone("organization")
    before = chat_db["messages"].count_documents({"conversationId": conversation_id})

    assert send(api, stranger, conversation_id).status_code == 404
    assert messages(api, stranger, conversation_id).status_code == 404
    assert mark_read(api, stranger, conversation_id).status_code == 404
    for method, suffix in (("POST", "messages"), ("GET", "messages"), ("PATCH", "read")):
        spoofed = api.call(method, "chat", f"/users/{org.id}/conversations/{conversation_id}/{suffix}",
                           token=stranger.token, json={"content": "x"} if method == "POST" else {})
        assert spoofed.status_code == 403, (method, suffix)
    assert send(api, member, "conv_unknown").status_code == 404
    assert chat_db["messages"].count_documents({"conversationId": conversation_id}) == before
    assert unread(api, org) == 1  # nobody but the organization cleared its unread state


@pytest.mark.parametrize("body, field", [({}, "content"), ({"content": ""}, "content"),
                                         ({"content": "b" * 10_001}, "content"),
                                         ({"content": "hi", "senderId": "x"}, "senderId")])
def test_bad_messages_are_400_and_write_nothing(api, pair, chat_db, body, field):
    member, _, conversation_id = pair
    before = (chat_db["messages"].count_documents({}), ledger_count(chat_db, "chat-send-message"))

    response = api.call("POST", "chat", f"/users/{member.id}/conversations/{conversation_id}/messages",
                        token=member.token, json=body)

    assert response.status_code == 400 and [d["field"] for d in response.json()["details"]] == [field]
    assert (chat_db["messages"].count_documents({}), ledger_count(chat_db, "chat-send-message")) == before


def test_messages_come_newest_first_with_read_state_for_the_reader(api, pair):
    member, org, conversation_id = pair
    send(api, org, conversation_id, "o1")
    send(api, org, conversation_id, "o2")

    first = messages(api, member, conversation_id)

    body = first.json()
    assert contents(first) == ["o2", "o1", "Hello!"]
    assert (body["totalItems"], body["limit"], body["offset"], body["hasMore"]) == (3, 50, 0, False)
    assert [m["isRead"] for m in body["items"]] == [False, False, False]  # new to me; mine not read by them yet
    assert body["items"][0]["sender"] == chat_user(org) and body["items"][2]["sender"] == chat_user(member)
    assert body["items"][0]["conversationId"] == conversation_id and body["items"][0]["createdAt"].endswith("Z")
    assert unread(api, member) == 0 and unread(api, org) == 1  # reading marks read for the reader only
    assert [m["isRead"] for m in messages(api, member, conversation_id).json()["items"]] == [True, True, False]
    messages(api, org, conversation_id)
    assert [m["isRead"] for m in messages(api, member, conversation_id).json()["items"]] == [True, True, True]
    assert unread(api, org) == 0


def test_a_message_sent_after_a_read_stays_unread(api, pair):
    member, org, conversation_id = pair
    messages(api, org, conversation_id)

    send(api, member, conversation_id, "one more")

    assert unread(api, org) == 1
    assert mark_read(api, org, conversation_id).status_code == 204
    assert unread(api, org) == 0


def test_pages_by_limit_offset_and_before(api, pair):
    member, org, conversation_id = pair
    for i in range(4):
        send(api, org, conversation_id, f"m{i}")

    pages = [messages(api, member, conversation_id, limit=2, offset=offset).json() for offset in (0, 2, 4)]
    newest = pages[0]["items"]
    older = messages(api, member, conversation_id, before=newest[1]["id"], limit=10).json()

    assert [[m["content"] for m in p["items"]] for p in pages] == [["m3", "m2"], ["m1", "m0"], ["Hello!"]]
    assert [p["hasMore"] for p in pages] == [True, True, False] and {p["totalItems"] for p in pages} == {5}
    assert [m["content"] for m in older["items"]] == ["m1", "m0", "Hello!"]
    assert (older["totalItems"], older["hasMore"]) == (3, False)


def test_paging_uses_the_declared_index(api, pair, chat_db):
    member, _, conversation_id = pair
    messages(api, member, conversation_id)

    indexes = chat_db["messages"].index_information()

    assert indexes["conversation_messages"]["key"] == [("conversationId", 1), ("sentMicros", -1), ("_id", -1)]
    assert indexes["sender_ordinal"]["unique"] is True


@pytest.mark.parametrize("params, field", [({"limit": 0}, "limit"), ({"limit": "ten"}, "limit"),
                                           ({"offset": -1}, "offset"), ({"offset": 10_001}, "offset"),
                                           ({"page": 1}, "page"), ({"before": "msg_unknown"}, "before"),
                                           ({"before": "x" * 201}, "before")])
def test_bad_queries_are_400(api, pair, params, field):
    member, _, conversation_id = pair

    response = messages(api, member, conversation_id, **params)

    assert response.status_code == 400 and [d["field"] for d in response.json()["details"]] == [field]


def test_a_repeated_parameter_is_400_and_a_large_limit_is_capped(api, pair):
    member, _, conversation_id = pair

    repeated = api.call("GET", "chat", f"/users/{member.id}/conversations/{conversation_id}/messages?limit=1&limit=2",
                        token=member.token)
    capped = messages(api, member, conversation_id, limit=500)

    assert repeated.status_code == 400 and capped.json()["limit"] == 100


def test_marking_read_is_owner_only_strict_and_idempotent(api, pair):
    member, org, conversation_id = pair
    key = f"read-{uuid.uuid4()}"

    first = mark_read(api, org, conversation_id, key=key)
    replay = mark_read(api, org, conversation_id, key=key)
    again = mark_read(api, org, conversation_id)
    extra = api.call("PATCH", "chat", f"/users/{org.id}/conversations/{conversation_id}/read", token=org.token,
                     json={"userId": org.id})

    assert (first.status_code, replay.status_code, again.status_code) == (204, 204, 204)
    assert replay.headers.get("idempotent-replayed") == "true"
    assert extra.status_code == 400
    assert unread(api, org) == 0 and unread(api, member) == 0


def test_the_pair_route_reads_the_same_messages_for_the_caller(api, pair, someone):
    member, org, conversation_id = pair
    send(api, member, conversation_id, "second")

    by_pair = api.call("GET", "chat", f"/conversations/{org.id}/{member.id}/messages", token=org.token)
    by_id = messages(api, org, conversation_id)
    stranger = someone("organization")
    refused = api.call("GET", "chat", f"/conversations/{org.id}/{member.id}/messages", token=stranger.token)
    none_yet = api.call("GET", "chat", f"/conversations/{stranger.id}/{member.id}/messages", token=member.token)

    assert contents(by_pair) == contents(by_id) == ["second", "Hello!"]
    assert [m["isRead"] for m in by_pair.json()["items"]] == [False, False]  # unread until this very read
    assert unread(api, org) == 0 and unread(api, member) == 0
    assert (refused.status_code, none_yet.status_code) == (403, 404)


# ---- crashes and retries --------------------------------------------------------------------------------------

def crash(*args, **kwargs):
    raise RuntimeError("SIGKILL")


@pytest.mark.parametrize("step", ["count", "announce"])
def test_a_send_killed_half_way_is_finished_by_its_retry(api, pair, chat_db, monkeypatch, tap, step):
    from functions.chat import messaging

    wire = tap("chat.message.created")
    member, org, conversation_id = pair
    key = f"send-{uuid.uuid4()}"
    monkeypatch.setattr(messaging, step, crash)
    assert send(api, org, conversation_id, "half-way", key=key).status_code == 500
    monkeypatch.undo()
    assert chat_db["messages"].count_documents({"conversationId": conversation_id, "content": "half-way"}) == 1
    assert created_on_wire(wire.settle(), conversation_id) == []

    retried = send(api, org, conversation_id, "half-way", key=key)

    assert retried.status_code == 201, retried.text
    assert chat_db["messages"].count_documents({"conversationId": conversation_id, "content": "half-way"}) == 1
    assert [e["messageId"] for e in created_on_wire(wire.settle(), conversation_id)] == [retried.json()["id"]]
    assert unread(api, member) == 1


def test_a_late_retry_counts_nothing_twice_however_busy_the_conversation_was(api, pair, chat_db, monkeypatch):
    from functions.chat import messaging

    member, org, conversation_id = pair
    key = f"send-{uuid.uuid4()}"
    monkeypatch.setattr(messaging, "announce", crash)  # counted, then killed before its receipt
    assert send(api, org, conversation_id, "late", key=key).status_code == 500
    monkeypatch.undo()
    for i in range(20):  # more commits on the conversation than it keeps receipts of
        assert send(api, org, conversation_id, f"busy {i}").status_code == 201

    assert send(api, org, conversation_id, "late", key=key).status_code == 201

    assert unread(api, member) == 21
    assert chat_db["conversations"].find_one({"_id": conversation_id})["sent"][org.id] == 21
    assert sorted(m["ordinal"] for m in chat_db["messages"].find({"conversationId": conversation_id,
                                                                  "senderId": org.id})) == list(range(1, 22))
