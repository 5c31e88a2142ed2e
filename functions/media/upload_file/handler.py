"""POST media.<HOST>/{type}/{entityId}: store an avatar (``users``) or a poster (``events``) under the one key layout.

Only the user (their own avatar) or the event's creator and collaborators (its poster) write; the image is checked
by its bytes and size before anything is claimed or stored. The object's key is the layout's, never a client file
name: ``users/{id}/avatar.<ext>``, ``events/{id}/poster.jpg``. Answers ``{url, key}`` (the reference answered the key
as ``url``); the users and events groups still decide what a profile or an event shows (``docs/media.md``).
"""
from runtime import (
    UPLOAD_MAX_BODY_BYTES,
    Response,
    avatar_key,
    entry_points,
    function,
    http,
    poster_key,
    storage_from_config,
)

from functions.media.access import read_upload

SECRETS = ["s3-access-key", "s3-secret-key"]


@function("media-upload-file", http("POST", "/{type}/{entityId}"), auth="required", body=read_upload,
          secrets=SECRETS, max_body_bytes=UPLOAD_MAX_BODY_BYTES, timeout_seconds=20)
def main(event, ctx):
    upload = ctx.input
    target = upload.target
    key = avatar_key(target.entity_id, upload.content_type) if target.kind == "users" else poster_key(
        target.entity_id)
    url = storage_from_config(ctx.config).put(key, upload.data, upload.content_type)  # a retry rewrites it
    return Response(200, {"url": url, "key": key})


handle, new = entry_points(main)
