"""``scripts/run``'s platform across a restart (``Settings.data_dir``, as ``scripts/run`` passes ``.data``): the
accounts and sessions of the identity provider and the event-signing key are kept, so a token issued before the
restart is still accepted through the gateway, the user logs in again, and an outbox entry a crash left
unpublished is published by the next run and accepted by its consumer. The store itself stays up here; its own
restart is tests/store/test_persistence.py."""
from __future__ import annotations

import socket
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from integration_support import Api
from localrunner.app import LocalPlatform, Settings, free_port
from localrunner.bus import wait_until
from localrunner.datadir import DataDirInUse

from functions.users import model as users_model

PASSWORD = "passw0rd!"


def left_unpublished(users, user_id: str, name: str) -> None:
    """What a ``users-update-user`` commit whose process died before publishing leaves: the change and its
    ``user.updated`` entry in the document's outbox, queued a minute ago (past the relay's grace)."""
    doc = users.find_one({"_id": user_id})
    doc = {**doc, "profile": {**doc["profile"], "name": name}, "_version": doc["_version"] + 1}
    emit = users_model.user_event("user.updated", doc)
    queued = datetime.now(timezone.utc) - timedelta(minutes=1)
    entry = {"id": str(uuid.uuid4()), "type": emit.type, "source": "/functions/users-update-user", "time": queued,
             "data": emit.data, "subject": emit.subject, "extensions": emit.extensions, "queued_at": queued}
    users.update_one({"_id": user_id}, {"$set": {"profile.name": name, "_version": doc["_version"],
                                                 "_outbox_pending": True}, "$push": {"_outbox": entry}})


def test_a_restarted_platform_keeps_accounts_tokens_and_keys(tmp_path, mongo_uri, mongo_client):
    settings = Settings(namespace=f"rs{uuid.uuid4().hex[:10]}", mongo_uri=mongo_uri, port=free_port(),
                        idp_port=free_port(), stripe_port=free_port(), relay_seconds=0.5, data_dir=tmp_path)
    first = LocalPlatform(settings).start()
    try:
        username = f"rs{uuid.uuid4().hex[:10]}"
        user = Api(first).register("organization", username=username, password=PASSWORD)
        mirror = mongo_client[first.database("events")]["users"]
        assert wait_until(lambda: mirror.find_one({"_id": user["id"]}) is not None, timeout=10)
        secret = first.signing_secret
    finally:
        first.stop()
    left_unpublished(mongo_client[first.database("users")]["users"], user["id"], "Renamed while down")

    second = LocalPlatform(settings).start()
    try:
        api = Api(second)
        assert second.signing_secret == secret  # events still queued on RabbitMQ from the first run verify
        event = api.call("POST", "events", "/", token=user["accessToken"], json={"title": "After", "status": "DRAFT"})
        assert event.status_code == 201, event.text  # a token issued before the restart
        login = api.call("POST", "users", "/login", json={"username": username, "password": PASSWORD})
        assert login.status_code == 200 and login.json()["id"] == user["id"]
        refresh = api.call("POST", "users", "/refresh", json={"refreshToken": user["refreshToken"]})
        assert refresh.status_code == 200  # the session opened before the restart
        assert wait_until(lambda: mirror.find_one({"_id": user["id"]})["name"] == "Renamed while down", timeout=15)
    finally:
        second.stop(remove=True)


def test_one_platform_per_data_dir_and_a_failed_start_frees_it(tmp_path, mongo_uri):
    def settings(**overrides):
        return Settings(**{"namespace": f"rs{uuid.uuid4().hex[:10]}", "mongo_uri": mongo_uri, "port": free_port(),
                           "idp_port": free_port(), "stripe": False, "schedules": False, "socket_replicas": 0,
                           "data_dir": tmp_path, **overrides})

    first = LocalPlatform(settings()).start()
    try:
        with pytest.raises(DataDirInUse, match="in use by another local platform"):
            LocalPlatform(settings()).start()
    finally:
        first.stop(remove=True)
    with socket.socket() as taken:  # the identity provider's port is taken: this start fails half-way
        taken.bind(("127.0.0.1", 0))
        with pytest.raises(OSError):
            LocalPlatform(settings(idp_port=taken.getsockname()[1])).start()
    LocalPlatform(settings()).start().stop(remove=True)  # and left the directory free
