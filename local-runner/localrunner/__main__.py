"""``python -m localrunner up``: serve every function locally (see README; ``scripts/run`` wraps this)."""
from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path

from runtime import logs

from .app import LocalPlatform, Settings

# Set, these point the functions at another identity provider than the development one (Keycloak with
# deploy/keycloak/eventonight-realm.json, e.g. compose.yaml's): the issuer they trust and the users functions' client
# secret. The development provider still starts, but its tokens are no longer accepted.
EXTERNAL_IDENTITY = ("OIDC_ISSUER", "SECRET_KEYCLOAK_CLIENT_SECRET")


def external_identity(environ) -> dict[str, str]:
    return {name: environ[name] for name in EXTERNAL_IDENTITY if environ.get(name)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="localrunner", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run the whole platform until interrupted")
    up.add_argument("--platform", choices=("knative", "openfaas"), default=os.environ.get("PLATFORM", "knative"),
                    help="whose entry points and delivery semantics to emulate (default: knative)")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    up.add_argument("--idp-port", type=int, default=int(os.environ.get("IDP_PORT", "8180")))
    up.add_argument("--stripe-port", type=int, default=int(os.environ.get("STRIPE_PORT", "8181")),
                    help="the Stripe stand-in's port (default 8181: fixed, as orders keep their checkout page's URL)")
    up.add_argument("--data-dir", type=Path, default=None,
                    help="keep the identity provider's accounts, the Stripe stand-in's sessions and the event-signing "
                         "key here across restarts (scripts/run: .data; default: in memory)")
    up.add_argument("--socket-replicas", type=int, default=int(os.environ.get("SOCKET_REPLICAS", "1")),
                    help="replicas of the Socket.IO service behind the gateway (default 1; 0: none)")
    up.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "0")),
                    help="competing worker processes serving the functions (default 0: in the gateway's process; "
                         "needs AMQP_URL)")
    up.add_argument("--worker-groups", default=os.environ.get("WORKER_GROUPS", ""),
                    help="comma-separated groups the workers serve (default: all); the others stay in-process")
    worker = sub.add_parser("worker", help="one worker process (started by `up --workers N`, not by hand)")
    worker.add_argument("--platform", choices=("knative", "openfaas"), required=True)
    worker.add_argument("--namespace", required=True)
    worker.add_argument("--host", default="127.0.0.1")
    worker.add_argument("--port-file", required=True, help="where to write the port it listens on")
    worker.add_argument("--backoff-ms", required=True, help="the retry steps, e.g. 1000,2000,4000")
    worker.add_argument("--groups", default="")
    worker.add_argument("--consumers", type=int, default=1, help="consumer threads per event function")
    worker.add_argument("--exact-backoff", action="store_true",
                        help="retry exactly --backoff-ms, not past each function's lease (Settings.retry_past_leases)")
    args = parser.parse_args(argv)

    logs.configure(os.environ.get("LOG_LEVEL", "INFO"))
    if args.command == "worker":
        from .workers import serve_worker

        serve_worker(platform_name=args.platform, namespace=args.namespace, host=args.host, port_file=args.port_file,
                     amqp_url=os.environ["AMQP_URL"], backoff_ms=tuple(int(x) for x in args.backoff_ms.split(",")),
                     consumers=args.consumers, retry_past_leases=not args.exact_backoff,
                     groups=tuple(g for g in args.groups.split(",") if g))
        return
    mongo_uri = os.environ.get("MONGO_URI")
    if not mongo_uri:
        parser.error("MONGO_URI is not set: use scripts/run, which starts the embedded store, or point it at MongoDB")
    settings = Settings(platform=args.platform, mongo_uri=mongo_uri, amqp_url=os.environ.get("AMQP_URL") or None,
                        s3_endpoint_url=os.environ.get("S3_ENDPOINT_URL") or None,
                        host=args.host, port=args.port, idp_port=args.idp_port, stripe_port=args.stripe_port,
                        data_dir=args.data_dir, socket_replicas=args.socket_replicas,
                        workers=args.workers, worker_groups=tuple(g for g in args.worker_groups.split(",") if g))
    if settings.workers and not settings.amqp_url:
        parser.error("--workers needs RabbitMQ: set AMQP_URL (the in-memory bus lives in one process)")
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    settings.extra_env.update(external_identity(os.environ))
    with LocalPlatform(settings) as running:
        bus = "RabbitMQ at " + settings.amqp_url if settings.amqp_url else "the in-memory bus"
        print(f"EvenToNight Functions: {len(running.specs)} functions, {args.platform} semantics, {bus}", flush=True)
        print(f"  gateway   http://<group>.localhost:{args.port}/ (e.g. http://users.localhost:{args.port}/health)")
        print(f"  identity  {running.idp.issuer}", flush=True)
        if settings.data_dir is not None:
            print(f"  data      {settings.data_dir} (kept across restarts; scripts/run --fresh starts empty)",
                  flush=True)
        if running.pool is not None:
            served = ", ".join(settings.worker_groups) or "every group"
            print(f"  workers   {len(running.pool.workers)} processes competing for {served}", flush=True)
        if running.realtime is not None:
            print(f"  socket.io http://notifications.localhost:{args.port}/socket.io/ "
                  f"({len(running.realtime.replicas)} replica(s))", flush=True)
        try:
            stopped.wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
