"""PUT media.<HOST>/{type}/{entityId}: replace the entity's existing avatar or poster in place (404 if it has none:
``POST`` creates). The key stays, so every URL that points at it shows the new image; its stored Content-Type is
the new image's."""
from runtime import UPLOAD_MAX_BODY_BYTES, NotFound, Response, entry_points, function, http, storage_from_config

from functions.media.access import read_upload
from functions.media.upload_file.handler import SECRETS


@function("media-replace-file", http("PUT", "/{type}/{entityId}"), auth="required", body=read_upload,
          secrets=SECRETS, max_body_bytes=UPLOAD_MAX_BODY_BYTES, timeout_seconds=20)
def main(event, ctx):
    upload = ctx.input
    storage = storage_from_config(ctx.config)
    existing = [key for key, _ in storage.listing(upload.target.prefix)]
    if not existing:
        raise NotFound(f"No file under '{upload.target.prefix}'. Use POST to create a new file.")
    key = existing[0]
    url = storage.put(key, upload.data, upload.content_type)
    return Response(200, {"url": url, "key": key})


handle, new = entry_points(main)
