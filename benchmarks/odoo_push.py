"""Attendance events pushed per second to the Odoo emulator over loopback, per transport.

Two figures for each of XML-RPC, JSON-RPC and JSON-2:

* **outbox drain**: the real push (``integrations.sync.push_attendance``) of ``--people``
  people's check-in and check-out (two outbox rows each), exactly once and in order per
  person, batched as the drain batches: the due check-ins are searched in one call and the
  missing ones created in one (a lost answer is never doubled), the due check-outs read in
  one call and written per distinct value (each person leaves at a different second here,
  so one write each, unless ``--same-check-out``), and every row's attempt and outcome are
  saved in the database (in-memory SQLite, embedded settings) around the calls.
* **batched create**: the ceiling Odoo allows, the client alone sending ``--batch``
  check-ins of different employees in one ``create`` with a ``vals_list`` (one
  transaction: all or none), with no search and no bookkeeping.

Goal: >= 100 events/s through the outbox. Run from the repository root:
``python benchmarks/odoo_push.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
PROTOCOLS = ("xmlrpc", "jsonrpc", "json2")


def setup_django() -> None:
    """Embedded settings on a throw-away in-memory database; loopback Odoo allowed."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))  # a throw-away run
    os.environ["DATABASE_URL"] = "sqlite://:memory:"
    os.environ["ODOO_ALLOW_LOOPBACK"] = "1"
    os.environ.pop("REDIS_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from config import background

    # Events ask for a push after they commit; here the benchmark runs the push itself.
    background.enqueue = lambda *_args: None


def _emulator() -> Any:
    from integrations.odoo.emulator.server import OdooEmulator

    return OdooEmulator(database="bench").start()


def drain_rate(protocol: str, people: int, same_check_out: bool = False) -> tuple[int, float]:
    """Outbox rows pushed and the seconds the drain took, on a fresh emulator."""
    from django.utils import timezone

    from attendance.events import add_manual_event
    from faces.models import Person
    from integrations import demo
    from integrations.models import OdooOutbox, OutboxState
    from integrations.sync import push_attendance

    run = secrets.token_hex(3)  # people of earlier runs stay; their rows are all sent
    emulator = _emulator()
    try:
        people_here = [
            Person.objects.create(employee_code=f"{run}-{index}", full_name=f"Bench {index}")
            for index in range(people)
        ]
        employees = [
            demo.DemoEmployee(person.pk, emulator.add_employee(person.full_name), "", "")
            for person in people_here
        ]
        demo.configure(emulator, employees, protocol)
        start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=9)
        for index, person in enumerate(people_here):
            leaves = start + dt.timedelta(hours=8, seconds=0 if same_check_out else index)
            add_manual_event(person, "check_in", start, "benchmark", None)
            add_manual_event(person, "check_out", leaves, "bench", None)
        began = time.perf_counter()
        push_attendance()
        seconds = time.perf_counter() - began
        mine = OdooOutbox.objects.filter(person__in=people_here)
        sent = mine.filter(state=OutboxState.SENT).count()
        rows = mine.count()
        attendances = emulator.records("hr.attendance")
        if sent != rows or len(attendances) != people:
            raise RuntimeError(f"{protocol}: {sent}/{rows} rows sent, {len(attendances)} in Odoo")
        return sent, seconds
    finally:
        emulator.stop()


def batched_create_rate(protocol: str, events: int, batch: int) -> tuple[int, float]:
    """Check-ins created and seconds taken, ``batch`` employees per ``create`` call."""
    from integrations.odoo.client import OdooClient
    from integrations.odoo.transports import OdooCredentials

    emulator = _emulator()
    try:
        employees = [emulator.add_employee(f"Bench {index}") for index in range(events)]
        credentials = OdooCredentials(
            base_url=emulator.url,
            database=emulator.database,
            login=emulator.login,
            api_key=emulator.api_key,
            timeout_seconds=30.0,
        )
        client = OdooClient(credentials, protocol)
        client.version()  # connect and sign in before the clock starts
        at = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
        began = time.perf_counter()
        for first in range(0, events, batch):
            vals_list = [
                {"employee_id": employee, "check_in": at, "in_mode": "kiosk"}
                for employee in employees[first : first + batch]
            ]
            client.create("hr.attendance", vals_list)
        seconds = time.perf_counter() - began
        if len(emulator.records("hr.attendance")) != events:
            raise RuntimeError(f"{protocol}: batched creates lost records")
        return events, seconds
    finally:
        emulator.stop()


def median_rate(measure: Callable[[], tuple[int, float]], runs: int) -> tuple[int, float]:
    """Events per run and the median events/s over ``runs``."""
    results = [measure() for _ in range(runs)]
    return results[0][0], statistics.median(count / seconds for count, seconds in results)


def markdown_table(people: int, batch: int, runs: int, same_check_out: bool = False) -> str:
    """The figures as the markdown table of BENCHMARKS.md."""
    lines = [
        "| transport | outbox rows | outbox drain events/s | batched create "
        f"({batch} per call) events/s |",
        "|---|---:|---:|---:|",
    ]
    for protocol in PROTOCOLS:
        rows, drained = median_rate(lambda p=protocol: drain_rate(p, people, same_check_out), runs)
        _, batched = median_rate(lambda p=protocol: batched_create_rate(p, people * 2, batch), runs)
        lines.append(f"| {protocol} | {rows} | {drained:,.0f} | {batched:,.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Set up Django, measure each transport and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100, help="two outbox rows each")
    parser.add_argument("--batch", type=int, default=100, help="check-ins per batched create")
    parser.add_argument("--runs", type=int, default=3, help="median of this many runs")
    parser.add_argument(
        "--same-check-out",
        action="store_true",
        help="everyone leaves at the same second (one write for all the check-outs)",
    )
    args = parser.parse_args(argv)
    setup_django()
    print(markdown_table(args.people, args.batch, args.runs, args.same_check_out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
