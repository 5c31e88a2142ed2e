"""MongoDB wire-protocol stand-in for CI and local runs (see docs/store.md).

Runs the `mongoeco` wire server with its in-memory engine on loopback. It needs Python >= 3.13 and
`mongoeco==4.11.0` (``scripts/store-standin start`` builds that interpreter's venv, ``.venv-store``).

    python mongo_standin.py [--host 127.0.0.1] [--port 27117]

Prints exactly one line ``ready <uri>`` on stdout once it accepts connections, then serves until SIGTERM or
SIGINT, when it closes its listener and connections and exits 0. Nothing is persisted.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 27117


async def serve(host: str, port: int) -> int:
    try:
        from mongoeco.wire import AsyncMongoEcoProxyServer
    except ImportError as exc:  # pragma: no cover - environment problem
        print(f"mongo_standin: cannot import mongoeco ({exc}); install mongoeco==4.11.0 on Python >= 3.13",
              file=sys.stderr)
        return 2

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    server = AsyncMongoEcoProxyServer(host=host, port=port)
    try:
        address = await server.start()
    except OSError as exc:
        print(f"mongo_standin: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 3
    print(f"ready {address.uri}", flush=True)
    try:
        await stop.wait()
    finally:
        await server.close()
    print("mongo_standin: stopped", file=sys.stderr, flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    if sys.version_info < (3, 13):
        print(f"mongo_standin: needs Python >= 3.13 (mongoeco), this is {sys.version.split()[0]}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    return asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    sys.exit(main())
