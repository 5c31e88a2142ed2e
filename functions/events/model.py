"""The events group's domain: the event document, its value rules and lifecycle, views and domain events.

Dates travel as the SPA sends them: UTC wall time without a zone suffix (``2026-07-15T20:00:00``), stored as
that string (it sorts chronologically) so searches compare like the reference did.

Lifecycle (``docs/events.md``)::

    DRAFT ──PUT status=PUBLISHED──▶ PUBLISHED ──PUT status=CANCELLED or DELETE──▶ CANCELLED
      │                                 └── its date passes: events-complete-events ──▶ COMPLETED
      └── DELETE ──▶ DELETED (a tombstone no read shows; purged after a day)

A same→same PUT is an edit (not allowed on COMPLETED events). ``DELETED`` is internal: the document stays as a
tombstone so the ``event.deleted`` it emits leaves through its outbox and retries of the DELETE replay their reply.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from runtime import Conflict, Emit, InvalidInput, Strict, index, stamp, stored_date

from .ranking import price_summary, publication_score

EVENTS, USERS = "events", "users"  # the group's own events and its mirror of users
STATUSES = ("DRAFT", "PUBLISHED", "COMPLETED", "CANCELLED")
DELETED = "DELETED"  # tombstone status, never shown
TOMBSTONE_KEPT = timedelta(hours=24)  # as long as the idempotency ledger keeps a DELETE's record
DATE_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d")
TRANSITIONS: dict[str, tuple[str, ...]] = {  # what PUT may move an event to (same→same is an edit)
    "DRAFT": ("DRAFT", "PUBLISHED"),
    "PUBLISHED": ("PUBLISHED", "CANCELLED"),
    "CANCELLED": ("CANCELLED",),
    "COMPLETED": (),
}

TAGS: dict[str, tuple[str, ...]] = {
    "EventType": ("Live Music", "Concert", "DJ Set", "Party", "Dinner", "Karaoke", "Show"),
    "Venue": ("Club", "Pub", "Bar", "Restaurant", "Theatre", "Outdoor"),
    "MusicStyle": ("Electronic", "Pop", "Hip Hop", "Rock", "Reggaeton", "Commercial"),
    "Special": ("Halloween", "Christmas", "New Year", "Carnival", "Private Event"),
    "Target": ("Students", "Over 18", "Over 30", "Family Friendly"),
    "Extra": ("Dress Code", "White Party", "Black Party", "Free Entry", "Reservations Required"),
}
_TAG_BY_KEY = {tag.lower(): tag for tags in TAGS.values() for tag in tags}

INDEXES = (
    index(EVENTS, "status", "date", "_id", name="status_date"),
    index(EVENTS, "creatorId", "date", name="creator_date"),
    index(EVENTS, "collaboratorIds", name="collaborators"),
    index(EVENTS, "status", ("popularity", -1), "_id", name="status_popularity"),
    index(EVENTS, "status", ("instant", -1), "_id", name="status_instant"),
    index(EVENTS, "status", "minPrice", "date", "_id", name="status_price"),
    index(EVENTS, "ticketTypes.id", name="ticket_types"),
    index(EVENTS, "deletedTicketTypes", name="deleted_ticket_types"),
    index(EVENTS, ("geo", "2dsphere"), name="geo"),  # $near (docs/store.md: not honoured by the stand-in)
)


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


def title_key(title: str) -> str:
    """What ``sortBy=title`` orders by: the title without case."""
    return title.casefold()


def canonical_tag(name: str) -> str | None:
    return _TAG_BY_KEY.get(str(name).strip().lower())


# ---- requests -------------------------------------------------------------------------------------------------

class Location(Strict):
    name: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=100)
    country_code: str | None = Field(default=None, max_length=3)
    state: str | None = Field(default=None, max_length=100)
    province: str | None = Field(default=None, max_length=100)
    city: str | None = Field(default=None, max_length=100)
    road: str | None = Field(default=None, max_length=200)
    postcode: str | None = Field(default=None, max_length=20)
    house_number: str | None = Field(default=None, max_length=20)
    lat: float | None = None
    lon: float | None = None
    link: str | None = Field(default=None, max_length=2048)

    @field_validator("link")
    @classmethod
    def _web_link(cls, v):
        """A map or venue page the SPA renders as a link: http(s) only (no ``javascript:`` or ``data:``)."""
        if v and urlsplit(v).scheme not in ("http", "https"):
            raise ValueError("an http(s) URL")
        return v

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

    title: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    tags: list[Annotated[str, Field(max_length=50)]] | None = Field(default=None, max_length=20)
    location: Location | None = None
    date: str | None = Field(default=None, max_length=40)
    collaboratorIds: list[Annotated[str, Field(max_length=100)]] | None = Field(default=None, max_length=20)

    @field_validator("title")
    @classmethod
    def _title(cls, v):
        if v and not 3 <= len(v) <= 200:
            raise ValueError("the title needs 3 to 200 characters")
        return v or None

    @field_validator("description")
    @classmethod
    def _description(cls, v):
        return v or None

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, v):
        if isinstance(v, str):  # the reference also accepted a comma-separated string
            v = [t for t in v.split(",") if t.strip()]
        if v is None:
            return None
        unknown = [t for t in v if canonical_tag(t) is None]
        if unknown:
            raise ValueError(f"unknown tags: {', '.join(map(str, unknown))} (see GET /tags)")
        return list(dict.fromkeys(canonical_tag(t) for t in v))

    @field_validator("location", mode="before")
    @classmethod
    def _blank_location(cls, v):
        """A location form left empty (every field blank) is no location, not an invalid one."""
        if isinstance(v, dict) and all(value in (None, "") for value in v.values()):
            return None
        return v

    @field_validator("date")
    @classmethod
    def _date(cls, v):
        return parse_date(v) if v else None

    @field_validator("collaboratorIds")
    @classmethod
    def _collaborators(cls, v):
        return list(dict.fromkeys(c for c in v if c)) if v is not None else None


def _upper(v):
    return v.upper() if isinstance(v, str) else v


class NewEvent(EventFields):
    status: Literal["DRAFT", "PUBLISHED"] = "DRAFT"
    creatorId: str | None = Field(default=None, max_length=100)  # the SPA sends it; must be the caller

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v):
        return _upper(v)


class EventUpdate(EventFields):
    """PUT /{eventId} as the SPA sends it: omitted fields are kept; ``null``, ``""`` or ``[]`` clear a field."""

    status: Literal["DRAFT", "PUBLISHED", "COMPLETED", "CANCELLED"] | None = None
    creatorId: str | None = Field(default=None, max_length=100)  # the SPA sends it; must be the caller

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v):
        return _upper(v)


def publish_problems(values: Any, now: datetime, *, future_date: bool = True) -> list[dict[str, str]]:
    """What a PUBLISHED event must have (the reference's validators, which it never called). ``values`` is a
    request model or a stored document."""
    def get(name):
        return values.get(name) if isinstance(values, Mapping) else getattr(values, name)

    problems = [{"field": f, "message": "required to publish"}
                for f in ("title", "description", "location", "date") if not get(f)]
    if future_date and get("date") and get("date") <= stored_date(now):
        problems.append({"field": "date", "message": "must be in the future to publish"})
    return problems


def invalid(details: list[dict[str, str]]) -> InvalidInput:
    return InvalidInput("The event has invalid fields.", details=details)


# ---- the document ---------------------------------------------------------------------------------------------

def geo_point(location: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The GeoJSON point the 2dsphere index holds (longitude first), or None without coordinates."""
    if not location or location.get("lat") is None or location.get("lon") is None:
        return None
    return {"type": "Point", "coordinates": [location["lon"], location["lat"]]}


def new_document(event_id: str, creator_id: str, fields: NewEvent, now: datetime,
                 poster: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": event_id, "status": fields.status, "creatorId": creator_id,
                           "collaboratorIds": [c for c in fields.collaboratorIds or [] if c != creator_id],
                           "instant": now.astimezone(timezone.utc).isoformat(timespec="milliseconds")
                           .replace("+00:00", "Z"),
                           "ticketTypes": [], **price_summary([]), "likes": 0, "participations": 0,
                           "popularity": 0.0, "_version": 1}
    for name in ("title", "description", "tags", "date"):
        if getattr(fields, name):
            doc[name] = getattr(fields, name)
    if doc.get("title"):
        doc["titleKey"] = title_key(doc["title"])
    if fields.location is not None:
        doc["location"] = fields.location.stored()
        if geo_point(doc["location"]):
            doc["geo"] = geo_point(doc["location"])
    if poster:
        doc["poster"] = poster
    if fields.status == "PUBLISHED":
        doc["popularity"] = publication_score(now)
        doc["publishedAt"] = now
    return doc


def is_member(doc: Mapping[str, Any], user_id: str | None) -> bool:
    """The creator or a collaborator."""
    return user_id is not None and (user_id == doc.get("creatorId") or user_id in doc.get("collaboratorIds", []))


def can_see(doc: dict[str, Any] | None, user_id: str | None) -> bool:
    """Drafts are visible to their creator and collaborators only; tombstones to nobody."""
    if doc is None or doc.get("status") == DELETED:
        return False
    return doc["status"] != "DRAFT" or is_member(doc, user_id)


def view(doc: dict[str, Any]) -> dict[str, Any]:
    """The Event JSON the SPA reads (reference-core §2.4), absent fields omitted."""
    out = {"eventId": doc["_id"]}
    for name in ("status", "instant", "creatorId", "isFree", "title", "description", "poster", "tags", "location",
                 "date", "collaboratorIds"):
        if doc.get(name) is not None:
            out[name] = doc[name]
    return out


def check_transition(current: str, target: str) -> None:
    if current == "COMPLETED":
        raise Conflict("Cannot update a completed event.", code="event_completed")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(t for t in TRANSITIONS[current] if t != current) or "none"
        raise Conflict(f"Cannot transition from {current} to {target}. Valid transitions from {current} are: "
                       f"{allowed}.", code="invalid_transition")


def apply_update(doc: dict[str, Any], update: EventUpdate) -> tuple[dict[str, Any], dict[str, Any]]:
    """The document after ``update`` and the MongoDB update that gets there (fields sent replace, empties clear)."""
    after = dict(doc)
    sets: dict[str, Any] = {}
    unsets: dict[str, str] = {}
    sent = update.model_fields_set - {"status", "creatorId"}
    for name in sorted(sent):
        value = getattr(update, name)
        if name == "location" and value is not None:
            value = value.stored()
        if name == "collaboratorIds":
            value = [c for c in value or [] if c != doc["creatorId"]]
            sets[name] = after[name] = value
            continue
        if value in (None, [], ""):
            after.pop(name, None)
            unsets[name] = ""
        else:
            sets[name] = after[name] = value
    if "title" in sent:  # sorting by title ignores case
        if after.get("title"):
            sets["titleKey"] = after["titleKey"] = title_key(after["title"])
        else:
            after.pop("titleKey", None)
            unsets["titleKey"] = ""
    if "location" in sent:
        point = geo_point(after.get("location"))
        if point:
            sets["geo"] = after["geo"] = point
        else:
            after.pop("geo", None)
            unsets["geo"] = ""
    if update.status is not None:
        sets["status"] = after["status"] = update.status
    after["_version"] = doc["_version"] + 1
    mongo: dict[str, Any] = {"$inc": {"_version": 1}}
    if sets:
        mongo["$set"] = sets
    if unsets:
        mongo["$unset"] = unsets
    return after, mongo


# ---- domain events --------------------------------------------------------------------------------------------

def _epoch_ms(instant: str) -> int:
    return int(datetime.fromisoformat(instant.replace("Z", "+00:00")).timestamp() * 1000)


def _sequenced(event_type: str, doc: dict[str, Any], data: dict[str, Any]) -> Emit:
    """Every event carries the document version as its ``sequence``, so consumers can drop stale ones."""
    return Emit(event_type, data, subject=doc["_id"], extensions=stamp(doc["_version"]))


def created_event(doc: dict[str, Any]) -> Emit:
    return _sequenced("event.created", doc, {
        "eventId": doc["_id"], "creatorId": doc["creatorId"], "collaboratorIds": doc["collaboratorIds"],
        "name": doc.get("title"), "date": doc.get("date"), "status": doc["status"], "tags": doc.get("tags"),
        "instant": _epoch_ms(doc["instant"]), "locationName": (doc.get("location") or {}).get("name"),
    })


def updated_event(doc: dict[str, Any]) -> Emit:
    return _sequenced("event.updated", doc, {
        "eventId": doc["_id"], "collaboratorIds": doc.get("collaboratorIds", []), "name": doc.get("title"),
        "date": doc.get("date"), "status": doc["status"], "tags": doc.get("tags"),
        "instant": _epoch_ms(doc["instant"]), "locationName": (doc.get("location") or {}).get("name"),
    })


def published_event(doc: dict[str, Any], creator_name: str) -> Emit:
    return _sequenced("event.published", doc, {"eventId": doc["_id"], "name": doc["title"],
                                               "creatorId": doc["creatorId"], "creatorName": creator_name,
                                               "date": doc.get("date")})


def id_event(event_type: str, doc: dict[str, Any]) -> Emit:
    """``event.cancelled``, ``event.completed``, ``event.deleted``: the id is the whole payload."""
    return _sequenced(event_type, doc, {"eventId": doc["_id"]})


def creator_name(db, doc: dict[str, Any], principal=None) -> str:
    """For ``event.published``: the users mirror's name, else the token's username, else the id."""
    mirror = db[USERS].find_one({"_id": doc["creatorId"]}, {"name": 1}) or {}
    return mirror.get("name") or (principal.username if principal else None) or doc["creatorId"]


def tombstone_update(now: datetime) -> dict[str, Any]:
    """A hard delete: every field goes but the id, the creator (for replays) and the ticket type ids (so late
    ``ticket-type.*`` events find the event gone rather than retrying)."""
    gone = {name: "" for name in ("title", "titleKey", "description", "tags", "location", "geo", "date", "poster",
                                  "collaboratorIds", "popularity", "likes", "participations", "publishedAt")}
    return {"$set": {"status": DELETED, "deletedAt": now}, "$unset": gone, "$inc": {"_version": 1}}
