"""DELETE media.<HOST>/{type}/{entityId}/{filename}: the owner removes an object; one that does not exist is 404.

A profile or event still pointing at it shows the default image of its kind from then on (``GET /{key}``)."""
from runtime import NotFound, Response, entry_points, function, http, storage_from_config

from functions.media.access import read_file_name
from functions.media.upload_file.handler import SECRETS


@function("media-delete-file", http("DELETE", "/{type}/{entityId}/{filename}"), auth="required",
          body=read_file_name, secrets=SECRETS)
def main(event, ctx):
    target, name = ctx.input
    key = f"{target.prefix}{name}"
    storage = storage_from_config(ctx.config)
    if storage.head(key) is None:  # (a retry of a delete that crashed before answering ends here too: it is gone)
        raise NotFound(f"File with key '{key}' not found.")
    storage.delete(key)
    return Response(200, {"message": f"File with key '{key}' deleted successfully."})


handle, new = entry_points(main)
