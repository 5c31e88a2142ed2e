"""Event posters in the media bucket (``runtime.storage``): ``events/{eventId}/poster.jpg``, as the reference.

The object is written before the commit that points the event at it, under a key derived from the event id:
a retry rewrites the same object, a failed upload commits nothing (503, retry), and a commit that never
happens leaves only an object nobody links to, overwritten by the retry. Events without a poster point at
``events/default.png``, which the media group serves as the default poster.
"""
from __future__ import annotations

from dataclasses import dataclass

from runtime import BadRequest, Conflict, Part, check_image, poster_key, storage_from_config

DEFAULT_KEY = "events/default.png"
SECRETS = ["s3-access-key", "s3-secret-key"]


@dataclass(frozen=True)
class Poster:
    data: bytes
    content_type: str


def read_poster(part: Part | None, *, required: bool) -> Poster | None:
    """A checked image from a form part (JPEG, PNG or WebP by its bytes, at most 5 MiB); an empty part is none."""
    if part is None or not part.data:
        if required:
            raise BadRequest("The form needs a 'poster' part with the image.", code="invalid_multipart")
        return None
    return Poster(part.data, check_image(part.data, part.content_type, "poster"))


def refuse_if_completed(doc) -> None:
    """A COMPLETED event's poster no longer changes (the reference's rule)."""
    if doc["status"] == "COMPLETED":
        raise Conflict("Cannot update poster of a completed event.", code="event_completed")


def store(config, event_id: str, poster: Poster, version: int) -> str:
    """Upload (or overwrite) the poster; answers the URL to store on the event. The URL carries the event's
    version (``?v=3``): the media group lets browsers cache an object for minutes, and a new poster keeps its key."""
    url = storage_from_config(config).put(poster_key(event_id), poster.data, poster.content_type)
    return f"{url}?v={version}"


def remove(config, event_id: str) -> str:
    """Delete the poster object (a missing one is fine); answers the default poster's URL."""
    storage = storage_from_config(config)
    storage.delete(poster_key(event_id))
    return storage.url(DEFAULT_KEY)


def default_url(config) -> str:
    return storage_from_config(config).url(DEFAULT_KEY)
