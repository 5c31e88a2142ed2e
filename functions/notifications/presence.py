"""Who is online, shared by every replica of the Socket.IO service and read by ``GET /users/{id}/is-online``.

Two collections in the group's database:

- ``presence``: one document per user with a socket anywhere, ``{_id: userId, sockets: [{sid, replica}]}``.
  A connect ``$push``es its socket and a disconnect ``$pull``s it, each one atomic update of that one document,
  so "first socket anywhere" (``user-online``) and "last socket gone" (``user-offline``) are decided by the
  database, once, whichever replicas the sockets are on.
- ``replicas``: one document per running replica, ``{_id, expiresAt}``, heartbeated every few seconds. A socket
  counts only while its replica's heartbeat is fresh (the read-time check), so a replica that dies without saying
  goodbye takes its sockets with it within ``ttl``; a TTL index removes its document later.

A dead replica's sockets are claimed by any live replica's sweep (``sweep``): one conditional ``$pull`` per user
of the entries whose replica is not live; only the sweep whose update matched emits ``user-offline`` (when no live
socket is left), so it is emitted once even with several sweepers.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

PRESENCE, REPLICAS = "presence", "replicas"


def ensure_indexes(db) -> None:
    db[PRESENCE].create_index("sockets.replica", name="socket_replica")
    db[REPLICAS].create_index("expiresAt", name="replica_expiry", expireAfterSeconds=0)


def heartbeat(db, replica: str, now: datetime, ttl: timedelta) -> None:
    db[REPLICAS].update_one({"_id": replica}, {"$set": {"expiresAt": now + ttl}}, upsert=True)


def retire(db, replica: str) -> None:
    """A replica stopping cleanly: its sockets stop counting at once (and the next sweep claims them)."""
    db[REPLICAS].delete_one({"_id": replica})


def live_replicas(db, now: datetime) -> list[str]:
    return [doc["_id"] for doc in db[REPLICAS].find({"expiresAt": {"$gt": now}}, {"_id": 1})]


def _live(sockets: list[dict[str, Any]] | None, live: list[str]) -> list[dict[str, Any]]:
    return [s for s in sockets or [] if s.get("replica") in live]


def connect(db, user_id: str, sid: str, replica: str, now: datetime) -> bool:
    """Record a socket; True when it is the user's first live socket anywhere (then ``user-online`` is due)."""
    from pymongo import ReturnDocument

    before = db[PRESENCE].find_one_and_update({"_id": user_id}, {"$push": {"sockets": {"sid": sid, "replica": replica}}},
                                              upsert=True, return_document=ReturnDocument.BEFORE)
    return not _live((before or {}).get("sockets"), live_replicas(db, now))


def disconnect(db, user_id: str, sid: str, now: datetime) -> bool:
    """Forget a socket; True when the user has no live socket left (then ``user-offline`` is due). False when
    the socket was already gone (a sweep claimed it, and said so)."""
    from pymongo import ReturnDocument

    live = live_replicas(db, now)
    # Dead replicas' entries go too, so a later sweep does not announce this user offline a second time.
    gone = {"$or": [{"sid": sid}, {"replica": {"$nin": live}}]}
    after = db[PRESENCE].find_one_and_update({"_id": user_id, "sockets.sid": sid}, {"$pull": {"sockets": gone}},
                                             return_document=ReturnDocument.AFTER)
    if after is None:
        return False
    if not after.get("sockets"):
        db[PRESENCE].delete_one({"_id": user_id, "sockets": {"$size": 0}})
    return not _live(after.get("sockets"), live)


def sweep(db, now: datetime) -> list[str]:
    """Claim the sockets of replicas that stopped heartbeating; answer the users that went offline by it."""
    from pymongo import ReturnDocument

    live = live_replicas(db, now)
    dead = {"$elemMatch": {"replica": {"$nin": live}}}
    offline = []
    for doc in db[PRESENCE].find({"sockets": dead}, {"_id": 1}):
        after = db[PRESENCE].find_one_and_update({"_id": doc["_id"], "sockets": dead},
                                                 {"$pull": {"sockets": {"replica": {"$nin": live}}}},
                                                 return_document=ReturnDocument.AFTER)
        if after is None:  # another sweeper claimed them first: it speaks for this user
            continue
        if not after.get("sockets"):
            db[PRESENCE].delete_one({"_id": doc["_id"], "sockets": {"$size": 0}})
        if not _live(after.get("sockets"), live):
            offline.append(doc["_id"])
    return offline


def is_online(db, user_id: str, now: datetime) -> bool:
    doc = db[PRESENCE].find_one({"_id": user_id}, {"sockets": 1})
    return bool(doc and _live(doc.get("sockets"), live_replicas(db, now)))


def sockets_of(db, user_id: str, now: datetime) -> list[str]:
    """The user's live socket ids on every replica (``user-online`` skips them: the user knows)."""
    doc = db[PRESENCE].find_one({"_id": user_id}, {"sockets": 1}) or {}
    return [s["sid"] for s in _live(doc.get("sockets"), live_replicas(db, now))]
