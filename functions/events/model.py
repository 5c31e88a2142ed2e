"""The events group's domain: the event document, its value rules and lifecycle, views and domain events.

Dates travel as the SPA sends them: UTC wall time without a zone suffix (``2026-07-15T20:00:00``), stored as
that string (it sorts chronologically) so searches compare like the reference did.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import field_validator, model_validator

from runtime.errors import InvalidInput
from runtime.store import Emit
from runtime.validation import Strict

EVENTS, USERS = "events", "users"  # the group's own events and its mirror of users
STATUSES = ("DRAFT", "PUBLISHED", "COMPLETED", "CANCELLED")
DATE_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M")

TAGS: dict[str, tuple[str, ...]] = {
    "EventType": ("Live Music", "Concert", "DJ Set", "Party", "Dinner", "Karaoke", "Show"),
    "Venue": ("Club", "Pub", "Bar", "Restaurant", "Theatre", "Outdoor"),
    "MusicStyle": ("Electronic", "Pop", "Hip Hop", "Rock", "Reggaeton", "Commercial"),
    "Special": ("Halloween", "Christmas", "New Year", "Carnival", "Private Event"),
    "Target": ("Students", "Over 18", "Over 30", "Family Friendly"),
    "Extra": ("Dress Code", "White Party", "Black Party", "Free Entry", "Reservations Required"),
}
_TAG_BY_KEY = {tag.lower(): tag for tags in TAGS.values() for tag in tags}


def ensure_indexes(db) -> None:
    events = db[EVENTS]
    events.create_index([("status", 1), ("date", 1), ("_id", 1)], name="status_date")
    events.create_index([("creatorId", 1), ("date", 1)], name="creator_date")
    events.create_index("collaboratorIds", name="collaborators")


def parse_date(value: str) -> str:
    """Accept the SPA's zone-less UTC date-time (seconds optional); answer the canonical stored string."""
    text = value.strip()
    if text.endswith("Z"):  # tolerated: the same instant with its zone spelt out
        text = text[:-1]
    text = text.split(".")[0]
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).strftime("%Y-%m-%dT%H:%M:%S")
        except ValueError:
            continue
    raise ValueError("a date-time such as 2026-07-15T20:00:00 (UTC, no zone)")


def as_stored_date(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


class Location(Strict):
    name: str | None = None
    country: str | None = None
    country_code: str | None = None
    state: str | None = None
    province: str | None = None
    city: str | None = None
    road: str | None = None
    postcode: str | None = None
    house_number: str | None = None
    lat: float | None = None
    lon: float | None = None
    link: str | None = None

    @model_validator(mode="after")
    def _rules(self) -> Location:
        for name in type(self).model_fields:
            if getattr(self, name) == "":
                setattr(self, name, None)  # blank strings mean absent
        if not (self.name or self.city):
            raise ValueError("Location must have at least a name or a city")
        if self.country_code:
            self.country_code = self.country_code.upper()
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together")
        if self.lat is not None and not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise ValueError("lat must be within -90..90 and lon within -180..180")
        return self

    def stored(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class EventFields(Strict):
    """The fields an organization sets on an event, with the reference's value rules enforced."""

    title: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    location: Location | None = None
    date: str | None = None
    collaboratorIds: list[str] | None = None

    @field_validator("title")
    @classmethod
    def _title(cls, v):
        if v is not None and not 3 <= len(v) <= 200:
            raise ValueError("the title needs 3 to 200 characters")
        return v or None

    @field_validator("description")
    @classmethod
    def _description(cls, v):
        if v is not None and len(v) > 5000:
            raise ValueError("the description has at most 5000 characters")
        return v or None

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, v):
        if isinstance(v, str):  # the reference also accepted a comma-separated string
            v = [t for t in v.split(",")]
        if v is None:
            return None
        unknown = [t for t in v if str(t).strip().lower() not in _TAG_BY_KEY]
        if unknown:
            raise ValueError(f"unknown tags: {', '.join(map(str, unknown))} (see GET /tags)")
        return list(dict.fromkeys(_TAG_BY_KEY[str(t).strip().lower()] for t in v))

    @field_validator("date")
    @classmethod
    def _date(cls, v):
        return parse_date(v) if v else None

    @field_validator("collaboratorIds")
    @classmethod
    def _collaborators(cls, v):
        return list(dict.fromkeys(c for c in v if c)) if v is not None else None


class NewEvent(EventFields):
    status: Literal["DRAFT", "PUBLISHED"] = "DRAFT"
    creatorId: str | None = None  # the SPA sends it; must be the caller

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v):
        return v.upper() if isinstance(v, str) else v


def publish_problems(fields: EventFields, now: datetime) -> list[dict[str, str]]:
    """What a PUBLISHED event must have (the reference's validators, which it never called)."""
    problems = [{"field": f, "message": "required to publish"}
                for f in ("title", "description", "location", "date") if getattr(fields, f) is None]
    if fields.date is not None and fields.date <= as_stored_date(now):
        problems.append({"field": "date", "message": "must be in the future to publish"})
    return problems


def new_event_id(function: str, key: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"eventonight/{function}/{key}"))


def new_document(event_id: str, creator_id: str, fields: NewEvent, now: datetime) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": event_id, "status": fields.status, "creatorId": creator_id,
                           "collaboratorIds": [c for c in fields.collaboratorIds or [] if c != creator_id],
                           "instant": now.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
                           "isFree": True, "_version": 1}
    for name in ("title", "description", "tags", "date"):
        if getattr(fields, name) is not None:
            doc[name] = getattr(fields, name)
    if fields.location is not None:
        doc["location"] = fields.location.stored()
    return doc


def can_see(doc: dict[str, Any], user_id: str | None) -> bool:
    """Drafts are visible to their creator and collaborators only; everything else to everyone."""
    return doc["status"] != "DRAFT" or (user_id is not None and (
        user_id == doc["creatorId"] or user_id in doc.get("collaboratorIds", [])))


def view(doc: dict[str, Any]) -> dict[str, Any]:
    out = {"eventId": doc["_id"]}
    for name in ("status", "instant", "creatorId", "isFree", "title", "description", "poster", "tags", "location",
                 "date", "collaboratorIds"):
        if doc.get(name) is not None:
            out[name] = doc[name]
    return out


def _epoch_ms(instant: str) -> int:
    return int(datetime.fromisoformat(instant.replace("Z", "+00:00")).timestamp() * 1000)


def created_event(doc: dict[str, Any]) -> Emit:
    return Emit("event.created", {
        "eventId": doc["_id"], "creatorId": doc["creatorId"], "collaboratorIds": doc["collaboratorIds"],
        "name": doc.get("title"), "date": doc.get("date"), "status": doc["status"], "tags": doc.get("tags"),
        "instant": _epoch_ms(doc["instant"]), "locationName": (doc.get("location") or {}).get("name"),
    }, subject=doc["_id"], extensions={"sequence": str(doc["_version"])})


def published_event(doc: dict[str, Any], creator_name: str) -> Emit:
    return Emit("event.published", {"eventId": doc["_id"], "name": doc["title"], "creatorId": doc["creatorId"],
                                    "creatorName": creator_name, "date": doc.get("date")},
                subject=doc["_id"], extensions={"sequence": str(doc["_version"])})


def invalid(details: list[dict[str, str]]) -> InvalidInput:
    return InvalidInput("The event has invalid fields.", details=details)
