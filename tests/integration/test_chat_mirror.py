"""The chat users mirror: renames show everywhere at once, a deleted user shows as "Unknown User" and can no
longer send, and duplicated or reordered ``user.*`` deliveries change nothing."""
from chat_support import (
    broker,  # noqa: F401
    chat_db,  # noqa: F401
    conversations,
    created_on_wire,
    messages,
    mirrored,
    send,
    someone,  # noqa: F401
    start,
    started,
    user_data,
)
from localrunner.bus import wait_until


def names_seen_by(api, person):
    item = conversations(api, person).json()["items"][0]
    return item["organization"]["name"], item["member"]["name"]


def test_a_rename_shows_in_conversations_and_messages(api, someone, broker, chat_db):
    member, org = someone("member", name="Old Name"), someone("organization")
    conversation_id = started(api, member, org)["conversationId"]

    broker.publish("user.updated", user_data(member.id, "New Name", "member"), sequence=2)
    assert wait_until(lambda: mirrored(chat_db, member.id, 2))

    assert names_seen_by(api, org) == (org.name, "New Name")
    assert messages(api, org, conversation_id).json()["items"][0]["sender"]["name"] == "New Name"


def test_stale_and_duplicated_user_events_change_nothing(api, someone, broker, chat_db, platform):
    member, org = someone("member"), someone("organization")
    started(api, member, org)
    renamed = broker.publish("user.updated", user_data(member.id, "Newest", "member"), sequence=3)
    assert wait_until(lambda: mirrored(chat_db, member.id, 3))
    answered = platform.answered("chat-mirror-users")

    broker.publish("user.updated", user_data(member.id, "Stale", "member"), sequence=2)  # older: ignored
    broker.publish("user.updated", renamed.get_data(), sequence=3, event_id=renamed.get_id())  # same event again
    broker.publish("user.updated", user_data(member.id, "Newest", "member"), sequence=3)  # same version, new id
    assert wait_until(lambda: platform.answered("chat-mirror-users") == answered + 3)

    assert names_seen_by(api, org)[1] == "Newest"
    assert chat_db["users"].find_one({"_id": member.id})["_seq"] == 3


def test_a_deleted_user_shows_as_unknown_and_can_no_longer_send(api, someone, broker, chat_db, platform, tap):
    wire = tap("chat.message.created")
    member, org = someone("member"), someone("organization")
    conversation_id = started(api, member, org)["conversationId"]

    broker.publish("user.deleted", {"id": member.id}, sequence=2)
    assert wait_until(lambda: mirrored(chat_db, member.id, 2))
    answered = platform.answered("chat-mirror-users")
    broker.publish("user.created", user_data(member.id, "Back again", "member"), sequence=1)  # late
    assert wait_until(lambda: platform.answered("chat-mirror-users") == answered + 1)

    assert names_seen_by(api, org)[1] == "Unknown User"
    assert messages(api, org, conversation_id).json()["items"][0]["sender"]["name"] == "Unknown User"
    refused = send(api, member, conversation_id, "still here?")
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert start(api, member, someone("organization").id).status_code == 403
    assert send(api, org, conversation_id, "Are you still there?").status_code == 201  # the history stays
    tombstone = chat_db["users"].find_one({"_id": member.id})
    assert tombstone["deleted"] is True and "name" not in tombstone and "avatar" not in tombstone
    assert [e["senderId"] for e in created_on_wire(wire.settle(), conversation_id)] == [member.id, org.id]


def test_a_new_conversation_with_a_deleted_user_is_404(api, someone, broker, chat_db):
    member, org = someone("member"), someone("organization")
    broker.publish("user.deleted", {"id": org.id}, sequence=2)
    assert wait_until(lambda: mirrored(chat_db, org.id, 2))

    response = api.call("POST", "chat", f"/users/{member.id}/conversations", token=member.token,
                        json={"recipientId": org.id, "content": "hello?"})

    assert response.status_code == 404
