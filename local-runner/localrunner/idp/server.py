"""The provider assembled and served: :class:`IdentityProvider` (the realm plus both HTTP APIs as one Starlette
app), and :func:`serve`, which runs it under uvicorn on a loopback port in a daemon thread for the local
platform, the bench and the tests (:class:`ServedIdp` is the handle they hold).
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from ..datadir import Autosave
from .admin import AdminApi
from .errors import AdminError, OAuthError
from .keys import Keys
from .oidc import OidcEndpoints
from .persistence import persist


class IdentityProvider(OidcEndpoints, AdminApi):
    """One realm's state, keys and HTTP app. Thread-safe: tests call it while the app serves requests."""

    def __init__(self, base_url: str, realm: str = "eventonight", clients: Mapping[str, Mapping[str, Any]] | None = None,
                 audience: str = "eventonight-api", clock: Callable[[], float] = time.time):
        super().__init__(base_url, realm, clients, audience, clock)
        self.app = self._build_app()

    def _build_app(self) -> Starlette:
        async def oauth_error(request: Request, exc: Exception) -> Response:
            return exc.response()  # type: ignore[attr-defined]

        return Starlette(routes=[*self._oidc_routes(), *self._admin_routes()],
                         exception_handlers={OAuthError: oauth_error, AdminError: oauth_error})


class ServedIdp:
    """A running provider: ``url`` (the base, without ``/realms``), ``issuer``, ``idp`` and ``stop()``."""

    def __init__(self, idp: IdentityProvider, server: Any, thread: threading.Thread, saver: Autosave | None = None):
        self.idp, self._server, self._thread, self._saver = idp, server, thread, saver
        self.url = idp.base_url
        self.issuer = idp.issuer

    @property
    def keys(self) -> Keys:
        return self.idp.keys

    def mint(self, *args: Any, **kwargs: Any) -> str:
        return self.idp.mint(*args, **kwargs)

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._saver is not None:
            self._saver.stop()  # after the last request: nothing it changed is lost

    def __enter__(self) -> ServedIdp:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve(host: str = "127.0.0.1", port: int = 0, state_dir: Path | None = None, **options: Any) -> ServedIdp:
    """Run a provider under uvicorn in a daemon thread; ``port=0`` picks a free port. Returns once it accepts.
    With ``state_dir`` its accounts, sessions and keys are loaded from there and kept there (:mod:`.persistence`)."""
    import uvicorn

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    idp = IdentityProvider(f"http://{shown_host}:{bound_port}", **options)
    try:
        saver = persist(idp, state_dir) if state_dir is not None else None
    except BaseException:
        sock.close()
        raise
    server = uvicorn.Server(uvicorn.Config(idp.app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"idp-{bound_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("identity provider did not start")
        time.sleep(0.01)
    return ServedIdp(idp, server, thread, saver)
