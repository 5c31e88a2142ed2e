"""GET media.<HOST>/{key}: an uploaded image (avatar, poster), or the default of its kind when there is none.

A missing key falls back as the reference did: ``users/...`` → the default avatar, ``events/...`` → the default
poster, anything else → the neutral default; so stored URLs never break. Keys with ``..`` are refused.
"""
from runtime import BadRequest, Response, entry_points, function, http, storage_from_config

from functions.media.defaults import default_png

CACHE = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}  # the type we stored, no guess


@function("media-get-object", http("GET", "/{key:path}"), secrets=["s3-access-key", "s3-secret-key"])
def main(event, ctx):
    key = ctx.http.path_params["key"]
    if ".." in key.split("/") or key.startswith("/"):
        raise BadRequest("Invalid media key.", code="invalid_key")
    found = storage_from_config(ctx.config).get(key)
    if found is None:
        return Response(200, default_png(key.split("/", 1)[0]), {"Content-Type": "image/png", **CACHE})
    data, content_type = found
    return Response(200, data, {"Content-Type": content_type, **CACHE})


handle, new = entry_points(main)
