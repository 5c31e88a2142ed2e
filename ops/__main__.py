"""``python -m ops`` (``scripts/ops``): the operators' commands. README, "Operating it".

    ops seed [--tag demo] [--organizations 3] [--members 6] [--events 2] [--conversations 2]
    ops status [--function NAME] [--json]
    ops dead-letters list [--function NAME] [--limit N] [--json]
    ops dead-letters replay (--all | --function NAME) [--limit N]

Which deployment: ``--gateway`` (default the local runner's, http://127.0.0.1:8080; or a template such as
``https://{group}.example.org``), ``--host``, ``--namespace``; MONGO_URI and AMQP_URL from the environment.
"""
from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone

import httpx
import pika.exceptions
import pymongo.errors
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from runtime.registry import discover

from . import deadletters, status, views
from .client import FunctionsClient
from .demo import Plan, PlanError
from .seed import Seeder, SeedError
from .target import TargetError, target_from

EXIT_REFUSED = 1  # a function or the broker refused; the message says which
EXIT_USAGE = 2


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="ops", description="Operate EvenToNight Functions: seed, status, dead letters")
    top.add_argument("--gateway", help="where the HTTP functions answer: a URL reached with Host <group>.<host> "
                                       "(default $OPS_GATEWAY or http://127.0.0.1:8080), or https://{group}.<host>")
    top.add_argument("--host", help="the public <HOST> of <group>.<HOST> (default $PUBLIC_HOST or localhost:<port>)")
    top.add_argument("--namespace", help="exchange and queue prefix; databases are <namespace>_<group> "
                                         "(default $EVENT_EXCHANGE or eventonight)")
    top.add_argument("--database-prefix", help="databases are <prefix><group> (default <namespace>_)")
    sub = top.add_subparsers(dest="command", required=True)

    seed = sub.add_parser("seed", help="create a demo data set through the functions (re-runnable)")
    seed.add_argument("--tag", default="demo", help="names the data set; the same tag finds it again (default demo)")
    seed.add_argument("--organizations", type=int, default=3)
    seed.add_argument("--members", type=int, default=6)
    seed.add_argument("--events", type=int, default=2, help="events per organization (default 2)")
    seed.add_argument("--conversations", type=int,
                      help="members who write to an organization (default 2, or every member when fewer)")
    seed.add_argument("--patience", type=float, default=30.0,
                      help="seconds a call waits for another group to catch up before it gives up (default 30)")

    state = sub.add_parser("status", help="queue and dead-letter depths per event function, outbox lag per group")
    state.add_argument("--function", help="only this event function (and its group's outbox)")
    state.add_argument("--json", action="store_true")

    letters = sub.add_parser("dead-letters", help="list or replay what event functions refused or kept failing")
    verbs = letters.add_subparsers(dest="verb", required=True)
    listing = verbs.add_parser("list", help="show dead letters, consuming none")
    listing.add_argument("--function")
    listing.add_argument("--limit", type=positive, default=50, help="at most this many in all (default 50)")
    listing.add_argument("--json", action="store_true")
    again = verbs.add_parser("replay", help="move dead letters back to their functions' queues")
    which = again.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every event function's")
    which.add_argument("--function")
    again.add_argument("--limit", type=positive, help="at most this many in all (default: every one)")
    return top


def positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv=None, environ=None, out: Console | None = None, err: Console | None = None) -> int:
    args = parser().parse_args(argv)
    out = out or Console()
    err = err or Console(stderr=True)
    try:
        target = target_from(os.environ if environ is None else environ, gateway=args.gateway, host=args.host,
                             namespace=args.namespace, database_prefix=args.database_prefix)
        if args.command == "seed":
            return seed(args, target, out, err)
        now = datetime.now(timezone.utc)
        if args.command == "status":
            views.status(out, status.collect(target, discover(), now, args.function), as_json=args.json)
        elif args.verb == "list":
            views.dead_letters(out, deadletters.list_dead_letters(target, discover(), function=args.function,
                                                                  limit=args.limit), as_json=args.json)
        else:
            views.replayed(out, deadletters.replay(target, discover(), function=args.function, limit=args.limit))
        return 0
    except (TargetError, PlanError, ValueError) as exc:
        err.print(f"[red]ops:[/red] {exc}")
        return EXIT_USAGE
    except (SeedError, httpx.HTTPError, pika.exceptions.AMQPError, pymongo.errors.PyMongoError, OSError) as exc:
        err.print(f"[red]ops:[/red] {exc}")
        return EXIT_REFUSED


def seed(args, target, out: Console, err: Console) -> int:
    plan = Plan(tag=args.tag, organizations=args.organizations, members=args.members,
                events_per_organization=args.events, conversations=args.conversations)
    client = FunctionsClient(target, patience_seconds=args.patience)
    columns = (TextColumn("seeding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.description}"))
    try:
        with Progress(*columns, console=err) as progress:
            task = progress.add_task("", total=plan.steps)
            seeder = Seeder(client, plan, datetime.now(timezone.utc),
                            progress=lambda label: progress.update(task, advance=1, description=label))
            report = seeder.run()
            progress.update(task, completed=plan.steps, description="done")
    finally:
        client.close()
    views.seed_report(out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
