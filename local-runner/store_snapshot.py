"""Snapshots of the MongoDB stand-in's in-memory engine: what makes ``scripts/run``'s store outlive a restart.

The stand-in keeps mongoeco's memory engine (docs/store.md: the SQLite engine is far slower and fails under
concurrent writes) and, given a data directory, saves every database, collection (with its options and indexes)
and document to one file, ``store.bson``, and loads it back at the next start. A snapshot is read through
mongoeco's own in-process client on the server's engine, and its values cross the same BSON bridge the wire
protocol uses (``mongoeco.wire.bson_bridge``), so a document comes back exactly as a pymongo client saw it:
datetimes, ObjectIds, binary, 64-bit integers, nested documents and arrays.

The file is a stream of BSON documents: a header, then per collection a description (database, name, options,
indexes, document count) followed by that many documents. It is replaced atomically (``localrunner.datadir``), so a crash
at any moment leaves either the previous snapshot or the new one.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bson
from mongoeco.wire.bson_bridge import decode_wire_value, encode_wire_value

SNAPSHOT_FILE = "store.bson"
FORMAT = "eventonight-store-snapshot"
FORMAT_VERSION = 1
SYSTEM_DATABASES = frozenset({"admin", "config", "local"})
INDEX_FIELDS_NOT_RECREATED = ("v", "ns")  # reported by listIndexes, refused or meaningless in createIndexes


class SnapshotError(Exception):
    """A snapshot this code cannot read."""


@dataclass
class CollectionDump:
    database: str
    name: str
    options: dict[str, Any]
    indexes: list[dict[str, Any]]
    documents: list[dict[str, Any]]


async def dump(client) -> list[CollectionDump]:
    """Every user collection of ``client`` (a mongoeco AsyncMongoClient), with options, indexes and documents."""
    dumps = []
    for database_name in sorted(await client.list_database_names()):
        if database_name in SYSTEM_DATABASES:
            continue
        database = client[database_name]
        async for info in database.list_collections():
            if info.get("type", "collection") != "collection" or info["name"].startswith("system."):
                continue
            collection = database[info["name"]]
            indexes = [{k: v for k, v in dict(index).items() if k not in INDEX_FIELDS_NOT_RECREATED}
                       async for index in collection.list_indexes() if index["name"] != "_id_"]
            documents = [document async for document in collection.find()]
            dumps.append(CollectionDump(database_name, info["name"], dict(info.get("options") or {}), indexes,
                                        documents))
    return dumps


def encode(dumps: list[CollectionDump]) -> bytes:
    parts = [bson.encode({"format": FORMAT, "version": FORMAT_VERSION})]
    for item in dumps:
        parts.append(bson.encode(encode_wire_value({
            "database": item.database, "collection": item.name, "options": item.options, "indexes": item.indexes,
            "count": len(item.documents)})))
        parts.extend(bson.encode(encode_wire_value(document)) for document in item.documents)
    return b"".join(parts)


def decode(data: bytes, origin: Path) -> list[CollectionDump]:
    """The collections in a snapshot file's bytes; a clear :class:`SnapshotError` for anything else."""
    try:
        stream = iter(bson.decode_all(data))
        header = next(stream, None)
        if not header or header.get("format") != FORMAT:
            raise SnapshotError(f"{origin} is not a store snapshot")
        if header.get("version") != FORMAT_VERSION:
            raise SnapshotError(f"{origin} is snapshot format {header.get('version')}, this stand-in reads "
                                f"{FORMAT_VERSION}")
        dumps = []
        for description in stream:
            documents = [decode_wire_value(next(stream)) for _ in range(description["count"])]
            dumps.append(CollectionDump(description["database"], description["collection"],
                                        decode_wire_value(description["options"]),
                                        decode_wire_value(description["indexes"]), documents))
        return dumps
    except (bson.errors.InvalidBSON, KeyError, StopIteration) as exc:
        raise SnapshotError(f"{origin} is damaged ({exc.__class__.__name__}: {exc})") from None


async def restore(client, dumps: list[CollectionDump]) -> int:
    """Recreate the collections in an empty engine, before the server accepts anyone; returns the documents put
    back. Indexes come first: mongoeco builds an index over existing documents in quadratic time (4,000 documents:
    87 s) but maintains it on insert in linear time (0.6 s)."""
    restored = 0
    for item in dumps:
        database = client[item.database]
        await database.create_collection(item.name, **item.options)
        if item.indexes:
            await database.command({"createIndexes": item.name, "indexes": item.indexes})
        if item.documents:
            await database[item.name].insert_many(item.documents, ordered=True)
            restored += len(item.documents)
    return restored


def read(path: Path) -> list[CollectionDump]:
    return decode(path.read_bytes(), path) if path.exists() else []
