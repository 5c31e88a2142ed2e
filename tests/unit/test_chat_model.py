"""The chat domain's pure parts: one id per unordered pair, the reference's orientation and pairing rules, exact
and never-negative unread counts, read state relative to the reader, request limits, views and the event."""
from datetime import timedelta

import pytest

import events
import moments
from runtime import iso
from runtime.errors import Forbidden, InvalidInput
from runtime.validation import parse

from functions.chat import messaging, model

NOW = moments.days_ahead(0)


def conversation(sent=None, read=None, participants=("a", "b")):
    return {"_id": "conv_1", "participants": list(participants), "organizationId": participants[0],
            "userId": participants[1], "sent": sent or {}, "read": read or {}, "createdAt": NOW, "updatedAt": NOW}


def test_a_pair_has_one_id_whichever_side_names_it():
    assert model.conversation_id("a", "b") == model.conversation_id("b", "a")
    assert model.conversation_id("a", "b") != model.conversation_id("a", "c")
    assert model.conversation_id("a/b", "c") != model.conversation_id("a", "b/c")
    assert model.conversation_id("a", "b").startswith("conv_")


@pytest.mark.parametrize("a_role, b_role, expected", [
    ("member", "organization", ("b", "a")),
    ("organization", "member", ("a", "b")),
    ("organization", "organization", ("a", "b")),
])
def test_orientation_puts_the_organization_first(a_role, b_role, expected):
    assert model.orientation("a", a_role, "b", b_role) == expected


def test_between_organizations_the_smaller_id_comes_first_whoever_starts():
    assert model.orientation("zeta", "organization", "alpha", "organization") == ("alpha", "zeta")


@pytest.mark.parametrize("a_role, b_role", [("member", "member"), ("member", None), (None, "organization")])
def test_members_do_not_talk_to_members_nor_unknown_roles(a_role, b_role):
    with pytest.raises(Forbidden):
        model.orientation("a", a_role, "b", b_role)


def test_unread_is_the_others_sent_minus_my_read_and_never_negative():
    doc = conversation(sent={"a": 5, "b": 3}, read={"a": 1, "b": 5})

    assert model.unread(doc, "a") == 2 and model.unread(doc, "b") == 0
    assert model.unread(conversation(), "a") == 0
    assert model.unread(conversation(sent={"b": 1}, read={"a": 4}), "a") == 0  # a corrupt marker still clamps


def test_read_state_is_relative_to_the_reader():
    doc = conversation(sent={"a": 2, "b": 2}, read={"a": 1, "b": 2})

    assert model.is_read({"senderId": "b", "ordinal": 1}, doc, "a") is True  # a read b's first
    assert model.is_read({"senderId": "b", "ordinal": 2}, doc, "a") is False
    assert model.is_read({"senderId": "a", "ordinal": 2}, doc, "a") is True  # b read both of a's
    assert model.is_read({"senderId": "a", "ordinal": 1}, doc, "b") is True


@pytest.mark.parametrize("body, field", [
    ({"recipientId": "x", "content": ""}, "content"),
    ({"recipientId": "x", "content": " \n "}, "content"),
    ({"recipientId": "x", "content": "a" * 10_001}, "content"),
    ({"recipientId": "", "content": "hi"}, "recipientId"),
    ({"recipientId": "x" * 201, "content": "hi"}, "recipientId"),
    ({"recipientId": "x", "content": "hi", "extra": 1}, "extra"),
])
def test_request_limits(body, field):
    with pytest.raises(InvalidInput) as refused:
        parse(model.NewConversation, body)

    assert [d["field"] for d in refused.value.details] == [field]


def test_content_is_trimmed_and_ten_thousand_characters_fit():
    assert parse(model.NewMessage, {"content": "  hi  "}).content == "hi"
    assert len(parse(model.NewMessage, {"content": "a" * 10_000}).content) == 10_000


@pytest.mark.parametrize("user_id", ["", "a.b", "$where", "x" * 201])
def test_ids_that_cannot_be_field_names_are_refused(user_id):
    with pytest.raises(InvalidInput):
        model.safe_id(user_id)


def test_micros_are_exact_and_ordered():
    later = NOW + timedelta(microseconds=1)

    assert messaging.micros(later) - messaging.micros(NOW) == 1
    assert isinstance(messaging.micros(NOW), int)


def test_views():
    people = {"a": {"id": "a", "name": "Org", "avatar": "x"}, "b": {"id": "b", "name": "Mem", "avatar": "y"}}
    doc = {**conversation(sent={"a": 1}), "lastMessage": {"content": "hi", "senderId": "a", "createdAt": NOW}}

    item = model.conversation_view(doc, "b", people)

    assert item == {"id": "conv_1", "organization": people["a"], "member": people["b"],
                    "lastMessage": {"content": "hi", "senderId": "a", "timestamp": iso(NOW)}, "unreadCount": 1}
    assert model.conversation_view(conversation(), "a", people)["lastMessage"] is None
    assert model.suggestion_view(people["a"], people["b"], "member") == {
        "id": None, "organization": people["a"], "member": people["b"], "lastMessage": None, "unreadCount": 0}
    assert model.page(["x"], 3, 1, 1) == {"items": ["x"], "totalItems": 3, "limit": 1, "offset": 1, "hasMore": True}
    assert model.page(["x"], 3, 1, 2)["hasMore"] is False


def test_the_event_matches_the_catalogue():
    message = {"_id": "msg_1", "conversationId": "conv_1", "senderId": "a", "content": "hi", "createdAt": NOW}

    emit = model.message_created(message, "b", {"name": "Org", "avatar": "http://x/a.png"})

    events.validate(emit.type, emit.data)
    assert emit.data == {"receiverId": "b", "conversationId": "conv_1", "senderId": "a", "senderName": "Org",
                         "message": "hi", "messageId": "msg_1", "senderAvatar": "http://x/a.png",
                         "createdAt": iso(NOW)}
    assert emit.subject == "msg_1" and emit.extensions == {"sequence": "1"}
