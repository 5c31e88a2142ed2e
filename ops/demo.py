"""The demo data set: who, what and where, as plain values (no I/O). ``seed.py`` sends it through the functions.

Names are the seed's ``tag`` joined to fixed words, so a run under the same tag names the same accounts and
events again (and finds them), while another tag makes a second, separate data set.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

ORGANIZATIONS = ("Aurora Club", "Neon Garden", "Basement 45", "Sunset Terrace", "Velvet Room", "Harbour Lights")
MEMBERS = ("alice", "bruno", "chiara", "dmitri", "elena", "farid", "giulia", "hugo", "irene", "jonas")
EVENTS = (  # title, description, tags (from the events group's catalogue, GET events.<HOST>/tags)
    ("Opening Night", "The season starts: two rooms, three DJs, doors at ten.", ("DJ Set", "Club", "Electronic")),
    ("Jazz on the Roof", "A quartet under the stars, cocktails until late.", ("Live Music", "Outdoor", "Over 30")),
    ("Latin Fever", "Reggaeton and salsa all night, free lesson at nine.", ("Party", "Reggaeton", "Over 18")),
    ("Vinyl Sunday", "Bring your records: open decks from six.", ("DJ Set", "Bar", "Free Entry")),
    ("White Party", "Dress in white; the terrace opens at midnight.", ("Party", "White Party", "Dress Code")),
    ("Karaoke Clash", "Teams of four, one microphone, no mercy.", ("Karaoke", "Pub", "Students")),
)
PLACES = (
    {"name": "Beach Club", "city": "Rimini", "country": "Italy", "country_code": "it", "lat": 44.06, "lon": 12.58},
    {"name": "Molo Nord", "city": "Cesenatico", "country": "Italy", "country_code": "it", "lat": 44.2, "lon": 12.4},
    {"name": "Piazza Grande", "city": "Bologna", "country": "Italy", "country_code": "it", "lat": 44.49,
     "lon": 11.34},
)
TICKET_TYPES = (("STANDARD", 15.0, 100), ("VIP", 40.0, 20))  # type, price, quantity
PASSWORD = "Demo-passw0rd!"  # every demo account's, printed in the report: these are demo accounts
TAG = re.compile(r"[a-z0-9][a-z0-9-]{0,19}")
EVENING_HOUR = 21


class PlanError(ValueError):
    """When the sizes or the tag asked for cannot make a data set (named in the message)."""


@dataclass(frozen=True)
class Person:
    username: str
    role: str  # "organization" or "member"

    @property
    def email(self) -> str:
        return f"{self.username}@example.org"


@dataclass(frozen=True)
class EventPlan:
    organizer: int  # index into Plan.organizations
    title: str
    description: str
    tags: tuple[str, ...]
    location: dict
    days_ahead: int


@dataclass(frozen=True)
class Plan:
    """Sizes and tag of one data set, and everything derived from them."""

    tag: str = "demo"
    organizations: int = 3
    members: int = 6
    events_per_organization: int = 2
    conversations: int | None = None  # None: two, or every member when fewer

    def __post_init__(self):
        problems = []
        if not TAG.fullmatch(self.tag):
            problems.append(f"tag {self.tag!r} must be 1-20 characters of a-z, 0-9 and '-'")
        for name in ("organizations", "members"):
            if not 1 <= getattr(self, name) <= 50:
                problems.append(f"{name} must be 1-50")
        if not 0 <= self.events_per_organization <= len(EVENTS):
            problems.append(f"events per organization must be 0-{len(EVENTS)}")
        if not 0 <= self.conversation_count <= self.members:
            problems.append("conversations must be 0..members (each is one member writing to an organization)")
        if problems:
            raise PlanError("; ".join(problems))

    def people(self) -> list[Person]:
        return ([Person(_numbered(ORGANIZATIONS, i, self.tag), "organization") for i in range(self.organizations)]
                + [Person(_numbered(MEMBERS, i, self.tag), "member") for i in range(self.members)])

    def events(self) -> list[EventPlan]:
        plans = []
        for organizer in range(self.organizations):
            for n in range(self.events_per_organization):
                title, description, tags = EVENTS[(organizer + n) % len(EVENTS)]
                plans.append(EventPlan(organizer, title, description, tags, PLACES[organizer % len(PLACES)],
                                       days_ahead=7 * (n + 1) + organizer))
        return plans

    def follows(self) -> list[tuple[int, int]]:
        """(member, organization): each member follows up to two organizations."""
        return [(m, (m + k) % self.organizations) for m in range(self.members)
                for k in range(min(2, self.organizations))]

    def likes(self) -> list[tuple[int, int]]:
        """(member, event): each member likes up to two events."""
        count = self.organizations * self.events_per_organization
        return [(m, (m + k) % count) for m in range(self.members) for k in range(min(2, count))]

    @property
    def conversation_count(self) -> int:
        return min(2, self.members) if self.conversations is None else self.conversations

    def chats(self) -> list[tuple[int, int]]:
        """(member, organization): a member asks, the organization answers."""
        return [(m, m % self.organizations) for m in range(self.conversation_count)]

    @property
    def steps(self) -> int:
        """How many calls that create something the seed makes (the progress bar's total)."""
        return (self.organizations + self.members + len(self.events()) * (1 + len(TICKET_TYPES))
                + len(self.follows()) + len(self.likes()) + 2 * len(self.chats()))


def _numbered(names: tuple[str, ...], i: int, tag: str) -> str:
    """``aurora-club-demo``; past the end of ``names`` they come round again numbered (``aurora-club-2-demo``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", names[i % len(names)].lower()).strip("-")
    lap = i // len(names)
    return f"{slug}-{lap + 1}-{tag}" if lap else f"{slug}-{tag}"


def evening(now: datetime, days_ahead: int) -> str:
    """``days_ahead`` from ``now`` at 21:00 UTC, as the SPA sends dates (UTC wall time, no zone)."""
    day = now + timedelta(days=days_ahead)
    return day.replace(hour=EVENING_HOUR, minute=0, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%S")
