"""The operators' CLI's pure parts: the demo plan, where a group is reached, how a dead letter reads."""
from datetime import datetime, timedelta, timezone

import pytest

from localrunner.bus import AmqpMessage
from ops.deadletters import DATA_PREVIEW_CHARS, describe
from ops.demo import EVENTS, Plan, PlanError, evening
from ops.target import DEFAULT_GATEWAY, TargetError, target_from


def test_plan_names_people_after_the_tag_and_comes_round_numbered():
    people = Plan(tag="expo", organizations=7, members=1).people()

    assert [p.username for p in people[:2]] == ["aurora-club-expo", "neon-garden-expo"]
    assert people[6].username == "aurora-club-2-expo"
    assert (people[-1].username, people[-1].role, people[-1].email) == ("alice-expo", "member", "alice-expo@example.org")


def test_plan_counts_every_call_that_creates_something():
    plan = Plan(organizations=2, members=3, events_per_organization=1, conversations=1)

    assert (len(plan.events()), len(plan.follows()), len(plan.likes()), len(plan.chats())) == (2, 6, 6, 1)
    assert plan.steps == 5 + 2 * 3 + 6 + 6 + 2


def test_plan_without_events_has_no_likes():
    assert Plan(events_per_organization=0).likes() == []


def test_plan_reports_every_problem_at_once():
    with pytest.raises(PlanError) as caught:
        Plan(tag="Bad Tag", organizations=0, events_per_organization=len(EVENTS) + 1, members=1, conversations=2)

    for problem in ("tag 'Bad Tag'", "organizations must be 1-50", "events per organization", "conversations"):
        assert problem in str(caught.value)


def test_evening_is_a_stored_date_days_ahead():
    now = datetime.now(timezone.utc)

    assert evening(now, 7) == (now + timedelta(days=7)).strftime("%Y-%m-%dT21:00:00")


def test_target_reaches_groups_through_the_gateway_by_host():
    target = target_from({})

    assert target.address("users") == (DEFAULT_GATEWAY, {"Host": "users.localhost:8080"})
    assert (target.namespace, target.database("chat"), target.in_memory_bus) == ("eventonight", "eventonight_chat",
                                                                                  True)


def test_target_from_a_template_reaches_each_group_at_its_own_host():
    target = target_from({"AMQP_URL": "amqp://x"}, gateway="https://{group}.example.org", namespace="blue")

    assert target.address("events") == ("https://events.example.org", {})
    assert (target.database("events"), target.in_memory_bus) == ("blue_events", False)


def test_a_namespace_on_the_command_line_wins_over_the_environment_prefix():
    target = target_from({"DATABASE_PREFIX": "green_", "EVENT_EXCHANGE": "green"}, namespace="blue")

    assert (target.exchange, target.database("users")) == ("blue", "blue_users")


def test_a_gateway_that_is_no_url_is_refused():
    with pytest.raises(TargetError, match="is not a URL"):
        target_from({}, gateway="localhost")


def test_a_dead_letter_reads_its_event_and_the_answer_that_parked_it():
    body = b'{"specversion":"1.0","id":"e1","type":"user.created","source":"/f","time":"t","data":{"k":"' + \
        b"v" * 200 + b'"}}'
    letter = describe("chat-mirror-users", AmqpMessage("q.dlq", body, "application/cloudevents+json", "e1",
                                                       {"ce-knativeerrorcode": "400"}))

    assert (letter.type, letter.answer, letter.message_id, letter.time) == ("user.created", "400", "e1", "t")
    assert len(letter.data) == DATA_PREVIEW_CHARS and letter.data.endswith("…")


def test_a_dead_letter_parked_by_the_delivery_limit_says_so():
    letter = describe("f", AmqpMessage("q.dlq", b"not json", "", "m1",
                                       {"x-death": [{"routing-keys": ["user.created"]}],
                                        "x-original-routing-key": "user.created"}))

    assert (letter.type, letter.answer, letter.data) == ("user.created", "delivery limit", "null")
