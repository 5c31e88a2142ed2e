"""GET media.<HOST>/{key}: an uploaded image (avatar, poster), or the default of its kind when there is none.

A missing key falls back as the reference did: ``users/...`` → the default avatar, ``events/...`` → the default
poster, anything else → the neutral default; so stored URLs never break. Keys with ``..`` are refused.

Caching: every answer has an ``ETag`` and ``If-None-Match`` gets a 304 without the bytes. The URLs the users and
events groups store carry the owner's version (``?v=3``): a new image comes with a new URL, so those answers may be
cached for a year as immutable, by browsers and a CDN alike; a bare key is cached for five minutes, a default (which
an upload may replace at any moment) for one. ``nosniff``: browsers take the stored type, never a guess.
"""
import hashlib

from runtime import BadRequest, Response, entry_points, function, http, storage_from_config

from functions.media.defaults import default_png
from functions.media.upload_file.handler import SECRETS

VERSIONED = "public, max-age=31536000, immutable"
UNVERSIONED = "public, max-age=300"
DEFAULT = "public, max-age=60"


@function("media-get-object", http("GET", "/{key:path}"), secrets=SECRETS)
def main(event, ctx):
    key = ctx.http.path_params["key"]
    if ".." in key.split("/") or key.startswith("/"):
        raise BadRequest("Invalid media key.", code="invalid_key")
    asked = ctx.http.header("if-none-match")
    found = storage_from_config(ctx.config).get(key, if_none_match=asked)
    if found is None:
        data = default_png(key.split("/", 1)[0])
        return answer(data, "image/png", f'"{hashlib.sha256(data).hexdigest()[:32]}"', DEFAULT, asked)
    cache = VERSIONED if ctx.http.query_one("v") else UNVERSIONED
    return answer(found.data, found.content_type, found.etag, cache, asked)


def answer(data: bytes, content_type: str, etag: str, cache: str, asked: str | None) -> Response:
    headers = {"ETag": etag, "Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    if asked and asked == etag:
        return Response(304, None, headers)
    return Response(200, data, {"Content-Type": content_type, **headers})


handle, new = entry_points(main)
