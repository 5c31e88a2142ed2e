"""``python -m realtime [--host 0.0.0.0] [--port 8080]``: serve one replica of the Socket.IO service (uvicorn)."""
from __future__ import annotations

import argparse
import os

from runtime import logs


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="realtime", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    args = parser.parse_args(argv)
    logs.configure(os.environ.get("LOG_LEVEL", "INFO"))

    import uvicorn

    from .server import create_app

    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()
