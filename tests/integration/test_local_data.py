"""``scripts/run --fresh``: the wipe it calls (``python -m localrunner.datadir wipe .data``) removes every piece's
data together (store, identity provider, Stripe, signing key, S3), and refuses, deleting nothing, while something
still runs on it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from localrunner.datadir import DataDirInUse, wipe
from localrunner.idp import serve

REPO_ROOT = Path(__file__).resolve().parents[2]
PIECES = ("store/store.bson", "idp/realm.json", "stripe/state.json", "platform/event-signing-keys",
          "seaweedfs-8333/filer/000001.log")


def run_wipe(root: Path) -> subprocess.CompletedProcess:
    """The entry point exactly as scripts/run calls it."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "local-runner")}
    return subprocess.run([sys.executable, "-m", "localrunner.datadir", "wipe", str(root)], capture_output=True,
                          text=True, env=env, timeout=60)


def populate(root: Path) -> None:
    for piece in PIECES:
        (root / piece).parent.mkdir(parents=True, exist_ok=True)
        (root / piece).write_text("kept from an earlier run")


def test_fresh_wipes_every_piece_and_keeps_the_directory(tmp_path):
    root = tmp_path / ".data"
    populate(root)

    result = run_wipe(root)

    assert result.returncode == 0, result.stderr
    assert "wiped" in result.stderr and "idp, platform, seaweedfs-8333, store, stripe" in result.stderr
    assert root.is_dir() and list(root.iterdir()) == []


def test_fresh_on_nothing_says_so(tmp_path):
    result = run_wipe(tmp_path / ".data")
    assert result.returncode == 0 and "nothing was there" in result.stderr


def test_fresh_refuses_while_a_piece_is_in_use_and_deletes_nothing(tmp_path):
    root = tmp_path / ".data"
    populate(root)
    (root / "idp" / "realm.json").unlink()
    running = serve("127.0.0.1", 0, state_dir=root / "idp")  # as a platform still running on .data
    try:
        running.idp.add_user("still-here", None, "s3cret-pass!")
        with pytest.raises(DataDirInUse, match="idp"):
            wipe(root)
        result = run_wipe(root)
        assert result.returncode == 1 and "still in use" in result.stderr
        assert all((root / piece).exists() for piece in PIECES if not piece.startswith("idp/"))
    finally:
        running.stop()

    assert wipe(root) == ["idp", "platform", "seaweedfs-8333", "store", "stripe"]
    again = serve("127.0.0.1", 0, state_dir=root / "idp")
    try:
        assert again.idp.find_login("still-here") is None  # the account went with the wipe
    finally:
        again.stop()
