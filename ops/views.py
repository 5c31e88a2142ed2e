"""How the commands print: rich tables on stdout (or JSON with ``--json``), progress on stderr."""
from __future__ import annotations

import json
from dataclasses import asdict

from rich.console import Console
from rich.table import Table

from .deadletters import DeadLetter, Replayed
from .demo import PASSWORD
from .seed import CREATED, EXISTING, KINDS, SeedReport
from .status import Status


def seed_report(console: Console, report: SeedReport) -> None:
    table = Table(title=f"Seeded data set {report.tag!r}", title_justify="left")
    table.add_column("kind")
    table.add_column(CREATED, justify="right")
    table.add_column(EXISTING, justify="right")
    table.add_column("note")
    for kind in KINDS:
        tally = report.tally[kind]
        table.add_row(kind, str(tally[CREATED]), str(tally[EXISTING]), report.notes.get(kind, ""))
    console.print(table)
    accounts = Table(title=f"Accounts (password {PASSWORD})", title_justify="left")
    for column in ("username", "role", "id"):
        accounts.add_column(column)
    for account in report.accounts:
        accounts.add_row(account.username, account.role, account.id)
    console.print(accounts)


def status(console: Console, state: Status, *, as_json: bool = False) -> None:
    if as_json:
        console.print_json(json.dumps(asdict(state)))
        return
    if state.queues is None:
        console.print(f"[bold]queues:[/bold] {state.note}")
    else:
        queues = Table(title="Event functions", title_justify="left")
        for column, justify in (("function", "left"), ("queue", "left"), ("waiting", "right"),
                                ("dead letters", "right")):
            queues.add_column(column, justify=justify)
        for q in state.queues:
            queues.add_row(q.function, q.queue, _count(q.waiting), _count(q.dead_letters),
                           style="bold red" if q.dead_letters else None)
        console.print(queues)
    outboxes = Table(title="Outboxes", title_justify="left")
    for column, justify in (("group", "left"), ("database", "left"), ("unpublished", "right"),
                            ("documents", "right"), ("oldest", "right")):
        outboxes.add_column(column, justify=justify)
    for o in state.outboxes:
        outboxes.add_row(o.group, o.database, str(o.unpublished), str(o.documents), _age(o.oldest_seconds),
                         style="bold yellow" if o.unpublished else None)
    console.print(outboxes)


def dead_letters(console: Console, letters: list[DeadLetter], *, as_json: bool = False) -> None:
    if as_json:
        console.print_json(json.dumps([asdict(letter) for letter in letters]))
        return
    if not letters:
        console.print("no dead letters")
        return
    table = Table(title="Dead letters (left in place)", title_justify="left")
    for column in ("function", "type", "answer", "id", "time", "data"):
        table.add_column(column, overflow="fold")
    for letter in letters:
        table.add_row(letter.function, letter.type, letter.answer, letter.message_id, letter.time, letter.data)
    console.print(table)


def replayed(console: Console, done: list[Replayed]) -> None:
    total = sum(len(r.message_ids) for r in done)
    for r in done:
        console.print(f"{r.function}: replayed {len(r.message_ids)}")
    console.print(f"replayed {total} dead letter(s) to their functions' queues")


def _count(value: int | None) -> str:
    return "not declared" if value is None else str(value)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
