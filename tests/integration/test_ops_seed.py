"""``ops seed``: a demo data set created through the functions, and a second run under the same tag that finds it
instead of failing or doubling it."""
import pytest

from ops_support import run_ops, start_platform

SMALL = ("seed", "--tag", "t1", "--organizations", "2", "--members", "3", "--events", "1", "--conversations", "1")


@pytest.fixture(scope="module")
def platform(mongo_uri):
    running = start_platform(mongo_uri)
    yield running
    running.stop(remove=True)


def counts(mongo_client, platform):
    def db(group):
        return mongo_client[platform.database(group)]

    return {
        "users": db("users")["users"].count_documents({}),
        "events": db("events")["events"].count_documents({"status": "PUBLISHED"}),
        "ticket types": db("ticketing")["ticket_types"].count_documents({}),
        "follows": db("interactions")["follows"].count_documents({"active": True}),
        "likes": db("interactions")["likes"].count_documents({"active": True}),
        "conversations": db("chat")["conversations"].count_documents({}),
        "messages": db("chat")["messages"].count_documents({}),
    }


def test_seed_creates_the_data_set_and_a_rerun_finds_it(platform, mongo_client):
    # GIVEN an empty platform
    # WHEN the operator seeds a small data set
    first = run_ops(platform, *SMALL)

    # THEN every group holds its share, and the report says what was created
    assert first.code == 0, first.err
    expected = {"users": 5, "events": 2, "ticket types": 4, "follows": 6, "likes": 6, "conversations": 1,
                "messages": 2}
    assert counts(mongo_client, platform) == expected
    assert "aurora-club-t1" in first.out and "neon-garden-t1" in first.out and "alice-t1" in first.out

    # WHEN it runs again under the same tag
    second = run_ops(platform, *SMALL)

    # THEN it finds everything already there and creates nothing more
    assert second.code == 0, second.err
    assert counts(mongo_client, platform) == expected
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:4]]
            for line in second.out.splitlines() if line.count("│") >= 4}
    for kind in ("organizations", "members", "events", "ticket types", "follows", "likes", "chat messages"):
        assert rows[kind][0] == "0", (kind, second.out)
    assert rows["members"][1] == "3" and rows["events"][1] == "2"
