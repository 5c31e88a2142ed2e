"""Two participants send 200 messages each to each other at once, while both keep reading: afterwards every
message is there once, in order, counted once; unread counts are exact and were never negative; replayed
requests added nothing; exactly one ``chat.message.created`` per message went over the wire."""
import threading
import uuid
from datetime import datetime

from chat_support import (
    broker,  # noqa: F401
    chat_db,  # noqa: F401
    created_on_wire,
    mark_read,
    messages,
    send,
    someone,  # noqa: F401
    start,
)

PLATFORM_WORKERS = 3  # competing replicas, as the platforms scale out (localrunner.workers)

PER_SENDER = 200
THREADS_PER_SENDER = 2  # a sender's own sends race for ordinals too
REPLAY_EVERY = 10  # every tenth send is sent a second time with its key
RETRY_DEADLINE_SECONDS = 60
RETRYABLE = (409, 503)  # in progress, store or broker unavailable: what a client retries with the same key


def as_a_client(call):
    """``call()`` repeated while its answer says to retry (409 in progress, 503: the shared store stand-in stalls
    under load), honouring Retry-After, for at most a minute. A retried send carries the same key, so it must add
    nothing, which the test's exact counts check."""
    wait = threading.Event()
    deadline = threading.Timer(RETRY_DEADLINE_SECONDS, wait.set)
    deadline.start()
    try:
        while True:
            response = call()
            if response.status_code not in RETRYABLE or wait.is_set():
                return response
            wait.wait(float(response.headers.get("retry-after") or 1))
    finally:
        deadline.cancel()


def unread_now(api, person) -> int:
    response = as_a_client(lambda: api.call("GET", "chat", f"/users/{person.id}/unread/count", token=person.token))
    assert response.status_code == 200, response.text
    return response.json()["unreadCount"]


def sender_thread(api, person, conversation_id, label, count, replies):
    """Sends ``count`` messages one after the other; replays every tenth with its key."""
    for i in range(count):
        key = f"{label}-{i}-{uuid.uuid4()}"
        response = as_a_client(lambda: send(api, person, conversation_id, f"{label} {i:03d}", key=key))
        assert response.status_code == 201, response.text
        replies.append(response.json())
        if i % REPLAY_EVERY == 0:
            replay = as_a_client(lambda: send(api, person, conversation_id, f"{label} {i:03d}", key=key))
            assert replay.status_code == 201 and replay.json() == response.json()
            assert replay.headers.get("idempotent-replayed") == "true"


def reader_thread(api, person, conversation_id, stop, seen):
    """Reads pages, the badge and marks read until the senders are done; keeps every unread count it saw (a
    read the stalled store answered 503 is simply the next turn's)."""
    turn = 0
    while not stop.wait(0.05):  # a reader's pace, not a tight loop
        page = messages(api, person, conversation_id, limit=20)
        assert page.status_code in (200, 503), page.text
        badge = api.call("GET", "chat", f"/users/{person.id}/unread/count", token=person.token)
        assert badge.status_code in (200, 503), badge.text
        if badge.status_code == 200:
            seen.append(badge.json()["unreadCount"])
        if turn % 3 == 0:
            assert mark_read(api, person, conversation_id).status_code in (204, 503)
        turn += 1
    assert turn > 0 and seen


def full_history(api, person, conversation_id):
    items = []
    for offset in range(0, 2 * PER_SENDER + 1, 100):
        page = as_a_client(lambda: messages(api, person, conversation_id, limit=100, offset=offset))
        assert page.status_code == 200, page.text
        items += page.json()["items"]
    return items


def test_two_participants_sending_200_messages_each_while_reading(api, someone, chat_db, tap):
    wire = tap("chat.message.created")
    member, org = someone("member"), someone("organization")
    opening_key = f"opening-{uuid.uuid4()}"
    opening = as_a_client(lambda: start(api, member, org.id, "opening", key=opening_key))
    assert opening.status_code == 201, opening.text
    conversation_id = opening.json()["conversationId"]
    replies = {label: [] for label in ("m0", "m1", "o0", "o1")}
    seen = {member.id: [], org.id: []}
    stop = threading.Event()
    per_thread = PER_SENDER // THREADS_PER_SENDER
    work = [(sender_thread, (person, conversation_id, label, per_thread, replies[label]))
            for person, labels in ((member, ("m0", "m1")), (org, ("o0", "o1"))) for label in labels]
    work += [(reader_thread, (person, conversation_id, stop, seen[person.id])) for person in (member, org)]

    assert run_threads(api, work, senders=len(work) - 2, stop=stop) == []

    # every message once, every sender's ordinals 1..n without a gap, counters equal to them
    stored = list(chat_db["messages"].find({"conversationId": conversation_id}))
    assert len(stored) == 2 * PER_SENDER + 1
    ordinals = {who.id: sorted(m["ordinal"] for m in stored if m["senderId"] == who.id) for who in (member, org)}
    assert ordinals == {member.id: list(range(1, PER_SENDER + 2)), org.id: list(range(1, PER_SENDER + 1))}
    conversation = chat_db["conversations"].find_one({"_id": conversation_id})
    assert conversation["sent"] == {member.id: PER_SENDER + 1, org.id: PER_SENDER}
    # the counts were never negative nor more than there was to read, and are exact now
    assert all(0 <= n <= PER_SENDER + 1 for n in seen[member.id] + seen[org.id])
    read = conversation.get("read", {})
    assert unread_now(api, member) == PER_SENDER - read.get(member.id, 0)
    assert unread_now(api, org) == PER_SENDER + 1 - read.get(org.id, 0)

    # the order is exact: newest first, each sender's messages in the order they were sent
    history = full_history(api, member, conversation_id)
    assert len(history) == len({m["id"] for m in history}) == 2 * PER_SENDER + 1
    moments = [datetime.fromisoformat(m["createdAt"].replace("Z", "+00:00")) for m in history]
    assert moments == sorted(moments, reverse=True)
    for label, sent in replies.items():
        assert [m["id"] for m in reversed(history) if m["content"].startswith(label + " ")] == [s["id"] for s in sent]
    assert history[-1]["content"] == "opening"

    # reading everything leaves nothing unread; what is sent afterwards is counted exactly, replays add nothing
    assert unread_now(api, member) == 0
    full_history(api, org, conversation_id)
    assert unread_now(api, org) == 0
    key = f"after-{uuid.uuid4()}"
    for content in ("a", "b", "c"):
        assert as_a_client(lambda: send(api, org, conversation_id, content, key=key + content)).status_code == 201
    replay = as_a_client(lambda: send(api, org, conversation_id, "c", key=key + "c"))
    assert replay.headers.get("idempotent-replayed") == "true"
    assert unread_now(api, member) == 3 and unread_now(api, org) == 0

    # exactly one event per message went over the wire
    expected = 2 * PER_SENDER + 4  # events a failed fast path left to the relay arrive within its grace
    wire.drain(until=lambda seen: len(created_on_wire(seen, conversation_id)) >= expected, timeout=30)
    events = created_on_wire(wire.settle(), conversation_id)
    assert len(events) == expected
    assert sorted(e["messageId"] for e in events) == sorted(
        m["_id"] for m in chat_db["messages"].find({"conversationId": conversation_id}))


def run_threads(api, work, *, senders, stop):
    """Runs ``work`` (function, args) in threads, each with its own HTTP client; once the first ``senders`` are
    done, ``stop`` ends the others. Returns the failures."""
    from integration_support import Api

    clients = [Api(api.platform) for _ in work]
    failures = []

    def guarded(target, client, args):
        try:
            target(client, *args)
        except BaseException as exc:  # noqa: BLE001 - reported by the test's own assertion
            failures.append(repr(exc))

    threads = [threading.Thread(target=guarded, args=(target, client, args))
               for (target, args), client in zip(work, clients)]
    for thread in threads:
        thread.start()
    for thread in threads[:senders]:
        thread.join()
    stop.set()
    for thread in threads[senders:]:
        thread.join()
    for client in clients:
        client.client.close()
    return failures
