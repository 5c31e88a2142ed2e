"""The media storage contract: objects in one S3 bucket (MinIO in production, SeaweedFS locally), through boto3.

Keys follow the reference and are written in one place, here: ``users/{userId}/avatar.<ext>`` (the extension from
the image's bytes) and ``events/{eventId}/poster.jpg``. The public URL of a key is ``{MEDIA_PUBLIC_URL}/{key}``
(default ``http://media.<HOST>``), which the media group serves. The users and events groups write avatars and
posters through this module; the media group's own endpoints and its clean-up use it too.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from .errors import InvalidInput, Unavailable

MAX_IMAGE_BYTES = 5 * 1024 * 1024
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def _is_webp(data: bytes) -> bool:
    """A RIFF container of the WEBP form (``RIFF <size> WEBP``): RIFF alone is also WAV, AVI..."""
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


IMAGE_TYPES = {"image/jpeg": lambda d: d.startswith(b"\xff\xd8\xff"),
               "image/png": lambda d: d.startswith(b"\x89PNG\r\n\x1a\n"),
               "image/webp": _is_webp}


def check_image(data: bytes, content_type: str, field: str) -> str:
    """An image the SPA may upload: JPEG, PNG or WebP (by its bytes, not only its declared type), at most 5 MiB."""
    if not data:
        raise InvalidInput(f"{field} is empty.", details=[{"field": field, "message": "empty file"}])
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidInput(f"{field} is larger than 5 MiB.", details=[{"field": field, "message": "too large"}])
    actual = next((kind for kind, looks_like in IMAGE_TYPES.items() if looks_like(data)), None)
    if actual is None:
        raise InvalidInput(f"{field} must be a JPEG, PNG or WebP image.",
                           details=[{"field": field, "message": "not a JPEG, PNG or WebP image"}])
    return actual


def avatar_key(user_id: str, content_type: str) -> str:
    return f"users/{user_id}/avatar.{EXTENSIONS[content_type]}"


def poster_key(event_id: str) -> str:
    return f"events/{event_id}/poster.jpg"  # whatever the image's type: its Content-Type is stored with it


@dataclass(frozen=True)
class StoredObject:
    data: bytes  # empty when only the metadata was asked for
    content_type: str
    etag: str  # S3's entity tag, quoted as HTTP wants it


@dataclass(frozen=True)
class MediaStorage:
    endpoint_url: str | None
    bucket: str
    public_url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def _client(self):
        key = (self.endpoint_url, self.access_key, self.region)
        with _lock:
            if key not in _clients:
                import boto3  # lazy: only media writers pay for it
                from botocore.config import Config as BotoConfig

                _clients[key] = boto3.client(
                    "s3", endpoint_url=self.endpoint_url, aws_access_key_id=self.access_key,
                    aws_secret_access_key=self.secret_key, region_name=self.region,
                    config=BotoConfig(s3={"addressing_style": "path"}, connect_timeout=3, read_timeout=10,
                                      retries={"max_attempts": 2}))
            return _clients[key]

    def url(self, key: str) -> str:
        return f"{self.public_url.rstrip('/')}/{key}"

    def key_of(self, url: str) -> str | None:
        """The key a public URL of ours names (its query, such as ``?v=3``, dropped); None for another URL."""
        base = self.public_url.rstrip("/") + "/"
        return url.split("?", 1)[0][len(base):] if url.startswith(base) else None

    def put(self, key: str, data: bytes, content_type: str) -> str:
        """Store (or overwrite) an object; answers its public URL."""
        self._call("put_object", Key=key, Body=data, ContentType=content_type)
        return self.url(key)

    def get(self, key: str, *, if_none_match: str | None = None) -> StoredObject | None:
        """The object, or None if there is none. With ``if_none_match`` equal to its ETag, only its metadata
        (``data`` empty): the caller answers 304 without the bytes leaving the store."""
        if if_none_match:
            head = self.head(key)
            if head is None or if_none_match == head.etag:
                return head
        found = self._call("get_object", missing_ok=True, Key=key)
        if found is None:
            return None
        return StoredObject(found["Body"].read(), found.get("ContentType", "application/octet-stream"),
                            found.get("ETag", ""))

    def head(self, key: str) -> StoredObject | None:
        found = self._call("head_object", missing_ok=True, Key=key)
        if found is None:
            return None
        return StoredObject(b"", found.get("ContentType", "application/octet-stream"), found.get("ETag", ""))

    def listing(self, prefix: str) -> list[tuple[str, datetime]]:
        """``(key, last modified)`` of every object under ``prefix`` (e.g. ``users/<id>/``), sorted by key."""
        found, token = [], None
        while True:
            page = self._call("list_objects_v2", Prefix=prefix, **({"ContinuationToken": token} if token else {}))
            found += [(item["Key"], item["LastModified"]) for item in page.get("Contents", [])]
            token = page.get("NextContinuationToken")
            if not token:
                return sorted(found)

    def delete(self, key: str) -> None:
        """Remove an object; removing a missing one is not an error (retries stay harmless)."""
        self._call("delete_object", Key=key)

    def _call(self, operation: str, *, missing_ok: bool = False, **params):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._client(), operation)(Bucket=self.bucket, **params)
        except ClientError as exc:
            if missing_ok and exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise Unavailable(f"media storage failed: {exc.__class__.__name__}") from exc
        except BotoCoreError as exc:
            raise Unavailable(f"media storage failed: {exc.__class__.__name__}") from exc


_clients: dict = {}
_lock = threading.Lock()


def storage_from_config(config) -> MediaStorage:
    """S3_ENDPOINT_URL (unset: AWS), S3_BUCKET (eventonight-media), MEDIA_PUBLIC_URL (http://media.<HOST>), and
    the secrets ``s3-access-key`` / ``s3-secret-key``."""
    return MediaStorage(endpoint_url=config.get("S3_ENDPOINT_URL", "") or None,
                        bucket=config.get("S3_BUCKET", "eventonight-media"),
                        public_url=config.get("MEDIA_PUBLIC_URL", f"http://media.{config.public_host}"),
                        access_key=config.secret("s3-access-key").reveal(),
                        secret_key=config.secret("s3-secret-key").reveal())
