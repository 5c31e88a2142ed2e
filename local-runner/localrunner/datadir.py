"""``.data/``: where ``scripts/run`` keeps the local platform's state across restarts, and how it is wiped.

One directory per piece, each written by its owner, each file replaced atomically (temporary file, fsync, rename),
so a crash leaves the old version or the new one, never half of one:

- ``store/``: the MongoDB stand-in's snapshot (``local-runner/store_snapshot.py``, its own process);
- ``idp/``: the development identity provider's accounts, sessions and keys (:mod:`.idp.persistence`);
- ``stripe/``: the Stripe stand-in's sessions, payments, refunds and events (:mod:`.stripe_standin.persistence`);
- ``platform/``: the event-signing keys, so events signed before a restart still verify after it;
- ``seaweedfs-<port>/``: the S3 stand-in's objects (SeaweedFS itself).

Whoever uses a directory holds its ``LOCK`` (an ``flock``) while running: a second store stand-in or platform on
the same data is refused, and :func:`wipe` (``scripts/run --fresh``) refuses to delete data still in use. Standard
library only: the store stand-in imports this from its own interpreter (``.venv-store``).
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

LOCK_FILE = "LOCK"
log = logging.getLogger("localrunner.datadir")


class DataDirInUse(Exception):
    """Another process holds the directory's lock."""


def hold_lock(directory: Path, holder: str):
    """Create ``directory`` and lock it for as long as the returned file stays open (``holder`` names the user in
    the error when someone else has it)."""
    directory.mkdir(parents=True, exist_ok=True)
    handle = open(directory / LOCK_FILE, "a+")  # noqa: SIM115 - held open as long as the data is in use
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise DataDirInUse(f"{directory} is in use by another {holder} (its {LOCK_FILE} is held)") from None
    return handle


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves either the old file or the new one, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)


def read_json(path: Path) -> Any | None:
    """The JSON in ``path``, None when there is none yet; a damaged file is an error that names it."""
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise ValueError(f"{path} is damaged ({exc}): move it away or start afresh (scripts/run --fresh)") from None


class Autosave:
    """Keeps ``path`` up to date with ``snapshot()`` (JSON-ready state): writes it every ``period`` seconds when it
    differs from what was last written, and once more at :meth:`stop`. A crash loses at most one period; comparing
    the encoded state is the change test, cheap for a development provider's few hundred objects. ``restore`` is
    given what an earlier run saved, before anything is written; if it fails the file is left as it is."""

    def __init__(self, path: Path, snapshot: Callable[[], Any], *, holder: str,
                 restore: Callable[[Any], None] | None = None, period: float = 1.0):
        self.path, self._snapshot, self._period = path, snapshot, period
        self._lock = hold_lock(path.parent, holder)
        try:
            saved = read_json(path)
            if saved is not None and restore is not None:
                restore(saved)
        except BaseException:
            self._lock.close()
            raise
        self._saving = threading.Lock()  # one save at a time: an older state never overwrites a newer one
        self._last: bytes | None = path.read_bytes() if path.exists() else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name=f"autosave-{path.parent.name}")

    def start(self) -> Autosave:
        self._thread.start()
        return self

    def save(self) -> bool:
        with self._saving:
            data = json.dumps(self._snapshot(), indent=1, sort_keys=True).encode()
            if data == self._last:
                return False
            write_atomically(self.path, data)
            self._last = data
            return True

    def _loop(self) -> None:
        while not self._stop.wait(self._period):
            try:
                self.save()
            except Exception:  # noqa: BLE001 - a full disk must not stop the service: retried next period
                log.exception("saving %s failed", self.path)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        try:
            self.save()
        finally:
            self._lock.close()


def locks_in_use(root: Path) -> list[Path]:
    """The directories under ``root`` whose lock some process holds right now."""
    held = []
    for lock in sorted(root.rglob(LOCK_FILE)) if root.is_dir() else ():
        try:
            hold_lock(lock.parent, "process").close()
        except DataDirInUse:
            held.append(lock.parent)
    return held


def wipe(root: Path) -> list[str]:
    """Delete everything under ``root`` (the directory stays); returns the names removed. Refuses, deleting
    nothing, while a store stand-in or a platform still uses part of it."""
    held = locks_in_use(root)
    if held:
        raise DataDirInUse("still in use, stop what runs on it first: " + ", ".join(str(p) for p in held))
    removed = []
    for entry in sorted(root.iterdir()) if root.is_dir() else ():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
        removed.append(entry.name)
    return removed


def main(argv: list[str] | None = None) -> int:
    """``python -m localrunner.datadir wipe DIR``: what ``scripts/run --fresh`` calls."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "wipe":
        print("usage: python -m localrunner.datadir wipe DIR", file=sys.stderr)
        return 2
    root = Path(args[1])
    try:
        removed = wipe(root)
    except DataDirInUse as exc:
        print(f"run: --fresh: {exc}", file=sys.stderr)
        return 1
    what = ", ".join(removed) if removed else "nothing was there"
    print(f"run: --fresh: wiped {root} (store, identity provider, Stripe, S3): {what}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
