"""Who may write which media object, decided before anything is claimed or stored.

A media key is ``users/{userId}/<file>`` or ``events/{eventId}/<file>`` (``runtime.storage`` writes the layout):
only the user writes under their own id; only the event's creator or one of its collaborators under the event's
(asked of the events group with the caller's token, which also keeps drafts private). Ids and file names are
single safe path segments, so no key can climb out of its entity's folder.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from runtime import BadRequest, Forbidden, InvalidInput, NotFound, check_image, parse_multipart

KINDS = ("users", "events")
SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.(jpg|png|webp)")
FIELD = "file"  # the reference's form field


@dataclass(frozen=True)
class Target:
    kind: str  # users | events
    entity_id: str

    @property
    def prefix(self) -> str:
        return f"{self.kind}/{self.entity_id}/"


@dataclass(frozen=True)
class Upload:
    target: Target
    data: bytes
    content_type: str


def target(ctx) -> Target:
    """The path's ``{type}/{entityId}``, checked, and the caller's right to write there."""
    params = ctx.http.path_params
    kind, entity_id = params["type"], params["entityId"]
    if kind not in KINDS:
        raise BadRequest(f"Invalid type {kind!r}: users or events.", code="invalid_key")
    if not SEGMENT.fullmatch(entity_id):
        raise BadRequest("Invalid entity id.", code="invalid_key")
    found = Target(kind, entity_id)
    caller = ctx.principal.user_id
    if kind == "users":
        if entity_id != caller:
            raise Forbidden("Only the user writes their own media.")
        return found
    event = ctx.ask("events", "/{}", entity_id, as_caller=True)
    if event is None:
        raise NotFound(f"Event with id {entity_id} not found")
    if caller != event.get("creatorId") and caller not in (event.get("collaboratorIds") or []):
        raise Forbidden("Only the event's creator and collaborators write its media.")
    return found


def read_upload(event, ctx) -> Upload:
    """A multipart form with one image in the field ``file`` (JPEG, PNG or WebP by its bytes, at most 5 MiB)."""
    content_type = ctx.http.header("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise BadRequest("Send the image as multipart/form-data in the field 'file'.", code="invalid_multipart")
    parts = parse_multipart(content_type, ctx.http.body)
    unknown = sorted(set(parts) - {FIELD})
    if unknown or FIELD not in parts:
        raise InvalidInput("The form needs exactly one part, 'file'.",
                           details=[{"field": name, "message": "unknown field"} for name in unknown]
                           or [{"field": FIELD, "message": "required"}])
    part = parts[FIELD]
    image_type = check_image(part.data, part.content_type, FIELD)
    return Upload(target(ctx), part.data, image_type)


def read_file_name(event, ctx) -> tuple[Target, str]:
    name = ctx.http.path_params["filename"]
    if not FILE_NAME.fullmatch(name):
        raise BadRequest("Invalid file name.", code="invalid_key")
    return target(ctx), name
