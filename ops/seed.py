"""Seed a demo data set through the functions' HTTP routes, as the SPA's users would create it.

Every call carries an Idempotency-Key made of the tag and what it creates, and every body is the same for the
same tag, so re-running under one tag converges: a replayed answer or a "that exists already" conflict counts as
*already there*, never as a failure. Events' dates move with the clock, so existing events are looked up by
title first (the organization's own search) instead of re-sent. Other groups learn about users and events from
the broker: a call that needs a mirror to have caught up waits for it (``FunctionsClient``, ``settling``).

Reviews are only allowed on a COMPLETED event the reviewer attended (a paid ticket); the seeded events lie ahead,
so the seed writes none and says so.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from .client import Answer, FunctionsClient
from .demo import PASSWORD, TICKET_TYPES, EventPlan, Person, Plan, evening

CREATED, EXISTING = "created", "already there"
KINDS = ("organizations", "members", "events", "ticket types", "follows", "likes", "chat messages", "reviews")
REVIEWS_NOTE = "none allowed yet: a review needs a COMPLETED event the member attended"
EVENT_STATUSES = "DRAFT,PUBLISHED,COMPLETED,CANCELLED"


class SeedError(RuntimeError):
    """When a function refuses a seed call for good; says which call and what the function answered."""


@dataclass(frozen=True)
class Account:
    id: str
    username: str
    role: str
    token: str


@dataclass
class SeedReport:
    tag: str
    tally: dict[str, Counter] = field(default_factory=lambda: {kind: Counter() for kind in KINDS})
    accounts: list[Account] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)

    def count(self, kind: str, outcome: str) -> None:
        self.tally[kind][outcome] += 1


class Seeder:
    def __init__(self, client: FunctionsClient, plan: Plan, now: datetime,
                 progress: Callable[[str], None] = lambda label: None):
        self.client = client
        self.plan = plan
        self.now = now  # the clock, read once: event dates are counted from it
        self.progress = progress
        self.report = SeedReport(plan.tag)

    def run(self) -> SeedReport:
        people = [self._account(person) for person in self.plan.people()]
        organizations = people[:self.plan.organizations]
        members = people[self.plan.organizations:]
        self.report.accounts = people
        events = self._events(organizations)
        for event_id, organizer in events:
            self._ticket_types(event_id, organizer)
        for m, o in self.plan.follows():
            self._follow(members[m], organizations[o])
        for m, e in self.plan.likes():
            self._like(members[m], events[e][0])
        for m, o in self.plan.chats():
            self._chat(members[m], organizations[o])
        self.report.notes["reviews"] = REVIEWS_NOTE
        return self.report

    # -- steps ---------------------------------------------------------------------------------------------------
    def _key(self, *parts: str) -> str:
        return "/".join(("ops-seed", self.plan.tag, *parts))

    def _account(self, person: Person) -> Account:
        kind = "organizations" if person.role == "organization" else "members"
        self.progress(f"{kind}: {person.username}")
        answer = self.client.call("POST", "users", "/register", key=self._key("user", person.username), json={
            "username": person.username, "email": person.email, "password": PASSWORD, "role": person.role})
        if answer.status == 201:
            self.report.count(kind, EXISTING if answer.replayed else CREATED)
            return Account(answer.body["id"], person.username, person.role, answer.body["accessToken"])
        if answer.status != 409:
            raise SeedError(f"registering {person.username}: {answer.describe()}")
        login = self.client.call("POST", "users", "/login", json={"username": person.username, "password": PASSWORD})
        if login.status != 200:
            raise SeedError(f"{person.username} is registered by someone else (login: {login.describe()}); seed "
                            "under another --tag")
        self.report.count(kind, EXISTING)
        return Account(login.body["id"], person.username, person.role, login.body["accessToken"])

    def _events(self, organizations: list[Account]) -> list[tuple[str, Account]]:
        plans = self.plan.events()
        existing = {o.id: self._titles(o) for o in organizations} if plans else {}
        events = []
        for plan in plans:
            organizer = organizations[plan.organizer]
            self.progress(f"events: {plan.title} by {organizer.username}")
            event_id = existing[organizer.id].get(plan.title)
            if event_id is None:
                event_id = self._create_event(plan, organizer)
            else:
                self.report.count("events", EXISTING)
            self.report.event_ids.append(event_id)
            events.append((event_id, organizer))
        return events

    def _titles(self, organizer: Account) -> dict[str, str]:
        """The organization's events by title (drafts included: its own search shows them)."""
        answer = self.client.call("GET", "events", "/search", token=organizer.token, params={
            "organizationId": organizer.id, "status": EVENT_STATUSES, "limit": 100})
        if answer.status != 200:
            raise SeedError(f"listing the events of {organizer.username}: {answer.describe()}")
        return {item["title"]: item["eventId"] for item in answer.body["items"] if item.get("title")}

    def _create_event(self, plan: EventPlan, organizer: Account) -> str:
        answer = self.client.call("POST", "events", "/", token=organizer.token,
                                  key=self._key("event", organizer.username, plan.title), json={
                                      "title": plan.title, "description": plan.description, "status": "PUBLISHED",
                                      "date": evening(self.now, plan.days_ahead), "location": plan.location,
                                      "tags": list(plan.tags)})
        self._expect(answer, "events", f"creating {plan.title!r} for {organizer.username}")
        return answer.body["eventId"]

    def _ticket_types(self, event_id: str, organizer: Account) -> None:
        for type_, price, quantity in TICKET_TYPES:
            self.progress(f"ticket types: {type_} for {event_id}")
            answer = self.client.call("POST", "ticketing", f"/events/{event_id}/ticket-types", token=organizer.token,
                                      key=self._key("ticket-type", event_id, type_), settling=True,
                                      json={"type": type_, "price": price, "quantity": quantity})
            self._expect(answer, "ticket types", f"adding {type_} tickets to {event_id}", exists="duplicate_type")

    def _follow(self, member: Account, organization: Account) -> None:
        self.progress(f"follows: {member.username} → {organization.username}")
        answer = self.client.call("POST", "interactions", f"/users/{member.id}/following", token=member.token,
                                  key=self._key("follow", member.username, organization.username), settling=True,
                                  json={"followedId": organization.id})
        self._expect(answer, "follows", f"{member.username} following {organization.username}", exists="conflict")

    def _like(self, member: Account, event_id: str) -> None:
        self.progress(f"likes: {member.username} ♥ {event_id}")
        answer = self.client.call("POST", "interactions", f"/events/{event_id}/likes", token=member.token,
                                  key=self._key("like", member.username, event_id), settling=True,
                                  json={"userId": member.id})
        self._expect(answer, "likes", f"{member.username} liking {event_id}", exists="conflict")

    def _chat(self, member: Account, organization: Account) -> None:
        self.progress(f"chat messages: {member.username} → {organization.username}")
        question = self.client.call(
            "POST", "chat", f"/users/{member.id}/conversations", token=member.token, settling=True,
            key=self._key("chat", member.username, organization.username, "question"),
            json={"recipientId": organization.id, "content": "Hi! Is there a dress code on Saturday?"})
        self._expect(question, "chat messages", f"{member.username} writing to {organization.username}")
        self.progress(f"chat messages: {organization.username} → {member.username}")
        conversation = question.body["conversationId"]
        answer = self.client.call(
            "POST", "chat", f"/users/{organization.id}/conversations/{conversation}/messages", settling=True,
            token=organization.token, key=self._key("chat", member.username, organization.username, "answer"),
            json={"content": "Smart casual is fine. See you there!"})
        self._expect(answer, "chat messages", f"{organization.username} answering {member.username}")

    def _expect(self, answer: Answer, kind: str, doing: str, *, exists: str | None = None) -> None:
        """Count a 2xx (replayed: already there) or the conflict that means it exists; anything else stops."""
        if 200 <= answer.status < 300:
            self.report.count(kind, EXISTING if answer.replayed else CREATED)
        elif exists is not None and answer.status == 409 and answer.code == exists:
            self.report.count(kind, EXISTING)
        else:
            raise SeedError(f"{doing}: {answer.describe()}")
