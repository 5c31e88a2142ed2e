"""Shared helpers of the users tests (no tests here): the S3 stand-in's view, the wire, logins, error shapes."""
import json
import os

PASSWORD = "passw0rd!"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
JPEG = b"\xff\xd8\xff\xe0" + bytes(64)


def s3():
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"], aws_access_key_id="minioadmin",
                        aws_secret_access_key="minioadmin", region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"}))


def stored(key):
    try:
        return s3().get_object(Bucket="eventonight-media", Key=key)["Body"].read()
    except Exception:  # noqa: BLE001 - NoSuchKey
        return None


def events_for(wire, user_id, count=1):
    """Every CloudEvent about ``user_id`` on ``wire``, once ``count`` arrived and the wire has settled; each message
    counts, so an event published twice shows twice."""
    def about(messages):
        return [json.loads(b) for _, _, b in messages if json.loads(b)["data"]["id"] == user_id]

    wire.drain(until=lambda messages: len(about(messages)) >= count)
    return about(wire.settle())


def login(api, username, password=PASSWORD):
    return api.call("POST", "users", "/login", json={"username": username, "password": password})


def assert_error(response, status, code=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) <= {"error", "message", "details"} and body["message"]
    if code:
        assert body["error"] == code
    return body


def upload(api, user, data=PNG, content_type="image/png", key=None, token=None, field="avatar"):
    return api.call("POST", "users", f"/{user['id']}/avatar", token=token or user["accessToken"], key=key,
                    files={field: ("me.img", data, content_type)})
