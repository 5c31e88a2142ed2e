"""Media reads: uploaded objects as stored, defaults for what was never uploaded (stored URLs never break)."""
import os

import pytest

from runtime.config import Config
from runtime.storage import storage_from_config

pytestmark = pytest.mark.skipif(not os.environ.get("S3_ENDPOINT_URL"), reason="needs the S3 stand-in")


def test_an_uploaded_image_is_served_as_stored(api):
    storage = storage_from_config(Config({"S3_ENDPOINT_URL": os.environ["S3_ENDPOINT_URL"],
                                          "SECRET_S3_ACCESS_KEY": "minioadmin", "SECRET_S3_SECRET_KEY": "minioadmin"}))
    storage.put("users/media-test/avatar.jpg", b"\xff\xd8\xff-a-jpeg", "image/jpeg")

    response = api.call("GET", "media", "/users/media-test/avatar.jpg")

    assert response.status_code == 200 and response.content == b"\xff\xd8\xff-a-jpeg"
    assert response.headers["content-type"] == "image/jpeg"


@pytest.mark.parametrize("key", ["users/nobody/avatar.jpg", "events/none/poster.jpg", "users/default.png", "x.png"])
def test_a_missing_object_falls_back_to_a_default_png(api, key):
    response = api.call("GET", "media", f"/{key}")

    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
    assert response.headers["content-type"] == "image/png"


def test_health_is_not_shadowed_by_the_catch_all(api):
    assert api.call("GET", "media", "/health").json() == {"status": "OK"}
