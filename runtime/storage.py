"""The media storage contract: objects in one S3 bucket (MinIO in production, SeaweedFS locally), through boto3.

Keys follow the reference: ``users/{userId}/avatar.jpg``, ``events/{eventId}/poster.jpg``; the public URL of a key
is ``{MEDIA_PUBLIC_URL}/{key}`` (default ``http://media.<HOST>``), which the media group serves. Until the media
group's own functions exist, the users and events functions write through this module directly.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from .errors import InvalidInput, Unavailable

MAX_IMAGE_BYTES = 5 * 1024 * 1024


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

    def put(self, key: str, data: bytes, content_type: str) -> str:
        """Store (or overwrite) an object; answers its public URL."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client().put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        except (BotoCoreError, ClientError) as exc:
            raise Unavailable(f"media storage refused the upload: {exc.__class__.__name__}") from exc
        return self.url(key)

    def get(self, key: str) -> tuple[bytes, str] | None:
        """``(bytes, content type)``, or None if there is no such object."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            obj = self._client().get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise Unavailable(f"media storage failed: {exc.__class__.__name__}") from exc
        except BotoCoreError as exc:
            raise Unavailable(f"media storage failed: {exc.__class__.__name__}") from exc
        return obj["Body"].read(), obj.get("ContentType", "application/octet-stream")

    def delete(self, key: str) -> None:
        """Remove an object; removing a missing one is not an error (retries stay harmless)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client().delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
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
