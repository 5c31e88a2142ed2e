"""A process the local platform starts and looks after (a Socket.IO replica, a worker): ready once it answers,
killed as a crashed replica dies, stopped politely."""
from __future__ import annotations

import signal
import subprocess
import time

import httpx


class ChildProcess:
    """Subclasses set ``kind`` (for messages), ``ready_seconds``, ``stop_seconds`` and ``ready_url`` (``""`` while
    not known yet)."""

    kind = "process"
    ready_seconds = 30.0
    stop_seconds = 10.0
    name: str
    process: subprocess.Popen | None = None

    @property
    def ready_url(self) -> str:
        raise NotImplementedError

    def wait_ready(self, timeout: float | None = None) -> None:
        timeout = self.ready_seconds if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} {self.name} exited with {self.process.returncode}")
            try:
                url = self.ready_url
                if url and httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.kind} {self.name} was not ready within {timeout:.0f} s")

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Die without saying goodbye (SIGKILL): no disconnect handlers, no last heartbeat, unacked deliveries go
        back to their queues."""
        if self.alive:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive:
            self.process.terminate()
            try:
                self.process.wait(timeout=self.stop_seconds)
            except subprocess.TimeoutExpired:
                self.kill()
