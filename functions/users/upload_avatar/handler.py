"""POST users.<HOST>/{userId}/avatar: the owner uploads an avatar (multipart field ``avatar``); ``user.updated``.

The image is checked (JPEG, PNG or WebP by its bytes, at most 5 MiB) before anything is written, stored through
the media storage contract at ``users/{userId}/avatar.<ext>``, then recorded on the profile. A form without the
``avatar`` field resets the avatar to the default, as the reference did (the SPA sends an empty form for that).
Answers ``{userId, avatarUrl}``; the URL carries the profile version (``?v=``), since the media group lets
browsers cache an object for minutes and a new upload of the same type keeps its key.
"""
from dataclasses import dataclass

from runtime import (
    UPLOAD_MAX_BODY_BYTES,
    BadRequest,
    Conflict,
    InvalidInput,
    NotFound,
    Response,
    avatar_key,
    check_image,
    entry_points,
    function,
    http,
    parse_multipart,
    storage_from_config,
)

from functions.users import model
from functions.users.access import owner_only

ATTEMPTS = 5
FIELD = "avatar"


@dataclass(frozen=True)
class Upload:
    data: bytes
    content_type: str


def read_form(event, ctx) -> Upload | None:
    """The checked image, or None for a form without one."""
    request = ctx.http
    content_type = request.header("content-type", "")
    if not request.body:
        return None
    if not content_type.startswith("multipart/form-data"):
        raise BadRequest("Send the avatar as multipart/form-data in the field 'avatar'.", code="invalid_multipart")
    if b"content-disposition" not in request.body.lower():
        return None  # an empty form (just the closing boundary)
    parts = parse_multipart(content_type, request.body)
    unknown = sorted(set(parts) - {FIELD})
    if unknown:
        raise InvalidInput("The form has unknown fields.", details=[{"field": n, "message": "unknown field"}
                                                                    for n in unknown])
    if FIELD not in parts:
        return None
    part = parts[FIELD]
    return Upload(part.data, check_image(part.data, part.content_type, FIELD))


@function("users-upload-avatar", http("POST", "/{userId}/avatar"), auth="required", emits=["user.updated"],
          body=owner_only(read=read_form), secrets=["s3-access-key", "s3-secret-key"], indexes=model.INDEXES,
          max_body_bytes=UPLOAD_MAX_BODY_BYTES)
def main(event, ctx):
    user_id = ctx.http.path_params["userId"]
    upload: Upload | None = ctx.input
    storage = storage_from_config(ctx.config)
    users = ctx.db[model.COLLECTION]
    if not _exists(users.find_one({"_id": user_id}, {"deleted": 1})):  # before storing anything
        raise NotFound(f"User with ID {user_id} not found")
    key = avatar_key(user_id, upload.content_type) if upload else None
    stored = storage.put(key, upload.data, upload.content_type) if upload else None
    for _ in range(ATTEMPTS):
        doc = users.find_one({"_id": user_id})
        if not _exists(doc):
            raise NotFound(f"User with ID {user_id} not found")
        # The key stays the same across uploads of one type; the version in the URL lets caches see the change.
        url = f"{stored}?v={doc['_version'] + 1}" if stored else model.default_avatar(ctx.config)
        changed = {**doc, "profile": {**doc["profile"], "avatar": url}, "_version": doc["_version"] + 1}
        reply = ctx.commit(model.COLLECTION, {"_id": user_id, "_version": doc["_version"]},
                           model.with_avatar(doc, url, key), reply=Response(200, {"userId": user_id, "avatarUrl": url}),
                           emit=[model.user_event("user.updated", changed)])
        if reply is not None:
            break
    else:
        raise Conflict("The profile changed concurrently too often; retry.")
    previous = doc.get("avatarKey")
    if previous and previous != key:  # an avatar of another type, or a reset: its object goes
        storage.delete(previous)
    return reply


def _exists(doc) -> bool:
    return doc is not None and not model.is_deleted(doc)


handle, new = entry_points(main)
