"""MongoDB wire-protocol stand-in for CI and local runs (see docs/store.md).

Runs the `mongoeco` wire server with its in-memory engine on loopback. It needs Python >= 3.13 and
`mongoeco==4.11.0` (``scripts/store-standin start`` builds that interpreter's venv, ``.venv-store``).

    python mongo_standin.py [--host 127.0.0.1] [--port 27117] [--data-dir DIR [--snapshot-seconds 2]]

Prints exactly one line ``ready <uri>`` on stdout once it accepts connections, then serves until SIGTERM or
SIGINT, when it closes its listener and connections and exits 0. Without ``--data-dir`` nothing is persisted and
every start is empty (``scripts/test``). With it (``scripts/run``: ``.data/store``), the snapshot there is loaded
before ``ready``, a new one is written every ``--snapshot-seconds`` when something changed, and a last one at
shutdown (``store_snapshot``): a SIGKILL loses at most the writes of the last interval.
"""
from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from pathlib import Path

from localrunner import datadir  # standard library only, like this script

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 27117
DEFAULT_SNAPSHOT_SECONDS = 2.0


def say(message: str) -> None:
    print(f"mongo_standin: {message}", file=sys.stderr, flush=True)


class Snapshots:
    """Saves the engine's state to ``<data_dir>/store.bson`` when it has changed since the last save."""

    def __init__(self, client, engine, data_dir: Path):
        import store_snapshot

        self._snapshot = store_snapshot
        self.client, self.engine = client, engine
        self.path = data_dir / store_snapshot.SNAPSHOT_FILE
        self._saved_version: int | None = None
        self._lock = datadir.hold_lock(data_dir, "store stand-in")

    def _version(self) -> int | None:
        # The memory engine counts every published change (writes, index and collection changes; reads leave it
        # alone): a cheap "has anything changed". mongoeco is pinned; should the counter ever go, save every time.
        return getattr(self.engine, "_mvcc_version", None)

    async def load(self) -> None:
        started = time.monotonic()
        dumps = self._snapshot.read(self.path)
        documents = await self._snapshot.restore(self.client, dumps)
        self._saved_version = self._version()
        say(f"loaded {documents} documents in {len(dumps)} collections from {self.path} "
            f"in {time.monotonic() - started:.2f} s" if dumps else f"no snapshot at {self.path} yet: starting empty")

    async def save_if_changed(self) -> bool:
        version = self._version()
        if version is not None and version == self._saved_version:
            return False
        dumps = await self._snapshot.dump(self.client)  # writes meanwhile move the version on: saved next time
        await asyncio.to_thread(lambda: datadir.write_atomically(self.path, self._snapshot.encode(dumps)))
        self._saved_version = version
        return True

    async def every(self, seconds: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=seconds)
            except TimeoutError:
                pass
            if stop.is_set():
                return
            try:
                await self.save_if_changed()
            except Exception as exc:  # noqa: BLE001 - a full disk must not stop the store: retried next interval
                say(f"snapshot to {self.path} failed, retrying in {seconds} s: {exc!r}")

    async def finish(self) -> int:
        """The last snapshot, once no client can write any more; then the directory is free. Returns the exit code."""
        try:
            if await self.save_if_changed():
                say(f"saved to {self.path}")
            return 0
        except Exception as exc:  # noqa: BLE001 - said plainly: the previous snapshot stays whole
            say(f"the last snapshot to {self.path} failed, the one before stays: {exc!r}")
            return 1
        finally:
            self._lock.close()


async def serve(host: str, port: int, data_dir: Path | None = None,
                snapshot_seconds: float = DEFAULT_SNAPSHOT_SECONDS) -> int:
    try:
        from mongoeco.api import AsyncMongoClient
        from mongoeco.engines.memory import MemoryEngine
        from mongoeco.wire import AsyncMongoEcoProxyServer
    except ImportError as exc:  # pragma: no cover - environment problem
        say(f"cannot import mongoeco ({exc}); install mongoeco==4.11.0 on Python >= 3.13")
        return 2

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    engine = MemoryEngine()
    async with AsyncMongoClient(engine) as client:
        snapshots = None
        if data_dir is not None:
            from store_snapshot import SnapshotError

            try:
                snapshots = Snapshots(client, engine, data_dir)
                await snapshots.load()
            except datadir.DataDirInUse as exc:
                say(str(exc))
                return 4
            except SnapshotError as exc:
                say(f"{exc}; move it away or start afresh (scripts/run --fresh)")
                return 4
        server = AsyncMongoEcoProxyServer(client=client, host=host, port=port)
        try:
            address = await server.start()
        except OSError as exc:
            say(f"cannot listen on {host}:{port}: {exc}")
            return 3
        print(f"ready {address.uri}", flush=True)
        saver = asyncio.create_task(snapshots.every(snapshot_seconds, stop)) if snapshots else None
        try:
            await stop.wait()
        finally:
            stop.set()
            await server.close()
        code = 0
        if saver is not None:
            await saver
            code = await snapshots.finish()
    say("stopped")
    return code


def main(argv: list[str] | None = None) -> int:
    if sys.version_info < (3, 13):
        say(f"needs Python >= 3.13 (mongoeco), this is {sys.version.split()[0]}")
        return 2
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--data-dir", type=Path, help="keep the data here across restarts (default: in memory only)")
    parser.add_argument("--snapshot-seconds", type=float, default=DEFAULT_SNAPSHOT_SECONDS,
                        help="how often to save the data when it changed (with --data-dir; default 2)")
    args = parser.parse_args(argv)
    if args.snapshot_seconds <= 0:
        parser.error("--snapshot-seconds must be positive")
    return asyncio.run(serve(args.host, args.port, args.data_dir, args.snapshot_seconds))


if __name__ == "__main__":
    sys.exit(main())
