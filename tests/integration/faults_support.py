"""Faults injected from outside, as in production (no test hooks in the functions): HTTP proxies that fail the
calls a test chooses, a TCP relay that can be cut, and a "redeploy" that points the functions elsewhere."""
from __future__ import annotations

import json
import os
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx

from runtime.process import reset_default_runtime

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class FaultyHttpProxy:
    """Forwards HTTP to ``target``; a request matching a rule (method, path regex) runs the rule's hook and is
    answered with the rule's status instead (``None``: forwarded after the hook), ``times`` times."""

    def __init__(self, target: str):
        self.target = target.rstrip("/")
        self.rules: list[dict] = []
        self.seen: list[tuple[str, str]] = []
        self._client = httpx.Client(timeout=10)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _any(self):
                proxy.handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def fail(self, method: str, path: str, status: int | None = 503, times: int = 1, hook=None) -> None:
        self.rules.append({"method": method, "path": re.compile(path), "status": status, "times": times,
                           "hook": hook})

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        path = urlsplit(request.path).path
        self.seen.append((request.command, path))
        for rule in self.rules:
            if rule["times"] and rule["method"] == request.command and rule["path"].search(path):
                rule["times"] -= 1
                if rule["hook"]:
                    rule["hook"]()
                if rule["status"] is not None:
                    payload = json.dumps({"error": "injected fault"}).encode()
                    request.send_response(rule["status"])
                    request.send_header("Content-Type", "application/json")
                    request.send_header("Content-Length", str(len(payload)))
                    request.end_headers()
                    request.wfile.write(payload)
                    return
                break
        # The Host header is kept: S3 signs it (SigV4), and the signature was made for this proxy's address.
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP - {"host"}}
        answer = self._client.request(request.command, self.target + request.path, headers=headers, content=body)
        request.send_response(answer.status_code)
        for name, value in answer.headers.items():
            if name.lower() not in HOP_BY_HOP:
                request.send_header(name, value)
        request.send_header("Content-Length", str(len(answer.content)))
        request.end_headers()
        request.wfile.write(answer.content)

    def stop(self) -> None:
        self._server.shutdown()
        self._client.close()


class CuttableTcpProxy:
    """A TCP relay to ``host:port`` that can be cut (every connection dropped, new ones refused) and restored."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.down = False
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._open += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self) -> None:
        self.down = True
        with self._lock:
            for s in self._open:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._open.clear()

    def restore(self) -> None:
        self.down = False

    def stop(self) -> None:
        self.cut()
        self._listener.close()


def redeploy(**env: str | None) -> dict[str, str | None]:
    """Give the functions a new environment, as a redeploy would; returns the previous values."""
    previous = {name: os.environ.get(name) for name in env}
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    reset_default_runtime()
    return previous
